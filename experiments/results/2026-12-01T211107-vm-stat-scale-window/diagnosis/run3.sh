#!/bin/bash
# usage: run3.sh "<perf prefix>" workload...
B=${B:-/work/h-exp/.build/release/csgb}
PFX=$1; shift
D=/tmp/hexp/s$$; mkdir -p $D; mkfifo $D/ctl $D/ack
cat /proc/loadavg
$PFX perf stat -x, -o $D/stat.csv -e context-switches,cpu-migrations,task-clock,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_sched_yield,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto --control fifo:$D/ctl,$D/ack -D -1 -- $B "$@" --format json --perf-control $D/ctl,$D/ack > $D/out.json 2>$D/err
echo rc $?; grep DBG $D/err
python3 - <<PY
import json
r=json.load(open('$D/out.json'))
it=r['iterations']; print('child seconds',r['seconds'],'iterations',it, 'switches/it (rusage)', r.get('switches_per_iteration'))
for l in open('$D/stat.csv'):
    p=l.strip().split(',')
    if len(p)>3 and p[0] and p[0][0].isdigit():
        print(f"{p[2]:40s} {float(p[0])/it:8.4f}/it  enabled {int(p[3])/1e9:.3f}s")
PY
