#!/bin/sh
# Evidence for docs/switch-cost.md (run from the repository root under
# /work/tools/cpu measure; release build). Usage: run.sh FOLDER [CPU]
E=$1; C=${2:-0}; B=.build/release/csgb
exec > $E/output.txt 2>&1
echo "== date"; date -u; uname -r; cat /proc/loadavg
echo "== THP settings"; cat /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag
echo "== the work buffers' huge pages (AnonHugePages of every mapping of 4 MiB or more), --work-size 2M"
for mode in thread green; do
  $B socket 1 --cpus $C --work-size 2M --duration 1.5 --mode $mode > $E/thp-$mode.txt &
  pid=$!; sleep 1
  awk -v mode=$mode '/^[0-9a-f]+-[0-9a-f]+ /{range=$1} /^Size:/{size=$2} /^AnonHugePages:/{ if (size >= 4096) print mode, range, "Size", size, "kB AnonHugePages", $2, "kB"}' /proc/$pid/smaps
  wait $pid
done
echo "== perf bench sched pipe -T (threads), pinned to CPU $C, 200000 round trips"
taskset -c $C perf bench sched pipe -T -l 200000
echo "== perf bench sched pipe (processes), pinned to CPU $C, 200000 round trips"
taskset -c $C perf bench sched pipe -l 200000
echo "== csgb over pipes, thread and process, --phases (the same pipe hand-off)"
$B socket 1 --transport pipe --cpus $C --duration 2 --mode thread --phases > $E/csgb-pipe-thread.txt
$B socket 1 --transport pipe --cpus $C --duration 2 --mode process --phases > $E/csgb-pipe-process.txt
grep -E "ns/iteration|switches/iteration|hand-off|phases" $E/csgb-pipe-thread.txt $E/csgb-pipe-process.txt
echo "== perf sched record of csgb socket 1 --cpus $C --phases (thread mode), 1 s"
perf sched record -o $E/sched.data -- $B socket 1 --cpus $C --duration 1 --phases --format json > $E/sched-csgb.json
perf sched latency -i $E/sched.data -s max > $E/sched-latency.txt 2>&1
perf sched timehist -i $E/sched.data -s > $E/sched-timehist-summary.txt 2>&1
perf sched timehist -i $E/sched.data > $E/sched-timehist.full 2>&1
head -60 $E/sched-timehist.full > $E/sched-timehist-head.txt
# Mean wait time and scheduling delay (wake to run) per task name, from every line.
awk 'NR>3 && $4 ~ /^[0-9.]+$/ {n[$3]++; w[$3]+=$4; d[$3]+=$5; r[$3]+=$6} END {for (t in n) printf "%s switches-in %d mean wait %.2f us mean sch-delay %.2f us mean run %.2f us\n", t, n[t], 1000*w[t]/n[t], 1000*d[t]/n[t], 1000*r[t]/n[t]}' $E/sched-timehist.full | sort -k3 -n -r | head -10
rm -f $E/sched-timehist.full
head -30 $E/sched-latency.txt
grep -A30 "Runtime summary" $E/sched-timehist-summary.txt | head -40
rm -f $E/sched.data $E/sched.data.old
echo "== done"; date -u; cat /proc/loadavg
