#!/bin/bash
B=/work/h-exp/.build/release/csgb
D=/tmp/hexp/s$$; mkdir -p $D; mkfifo $D/ctl $D/ack
cat /proc/loadavg
strace -ttt -e trace=ioctl,read,write,poll,ppoll,openat -o $D/strace perf stat -x, -o $D/stat.csv -e context-switches,task-clock,syscalls:sys_enter_read,syscalls:sys_enter_write --control fifo:$D/ctl,$D/ack -D -1 -- $B "$@" --format json --perf-control $D/ctl,$D/ack > $D/out.json 2>$D/err
echo rc $?
cat $D/stat.csv
python3 -c "import json;r=json.load(open('$D/out.json'));print('seconds',r['seconds'],'iterations',r['iterations'])"
echo $D
