#!/bin/bash
# Process-mode set-up with the machine's DAMON kdamond on and off, interleaved; run as
# root under /work/tools/cpu measure. The kdamond's state is put back however this ends.
S=/sys/kernel/mm/damon/admin/kdamonds/0/state
B=${1:-/work/main/.build/release/csgb}
N=${2:-5000}
was=$(cat $S)
trap 'echo $was > $S; echo "(kdamond 0 state restored to $(cat $S))"' EXIT
echo "## $(date -u +%FT%TZ) $(uname -r) loadavg $(cat /proc/loadavg) kdamond 0: $was, $(cat /sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/operations), scheme action $(cat /sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/schemes/0/action 2>/dev/null)"
for i in 1 2 3; do
  for state in on off; do
    echo $state > $S
    sleep 2
    start=$(date +%s.%N)
    printf "damon %-3s run %d: " $state $i
    $B socket $N --mode process --cpus 0 -d 0.2 --warmup 0 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print('setup_s', round(r['setup_seconds'],2), 'ns', round(r['ns_per_iteration'],1), end=' ')"
    echo "start_to_exit_s $(echo "$(date +%s.%N) - $start" | bc)"
    # Let the previous run's processes finish exiting before the next one starts.
    while [ "$(ls /proc | grep -c '^[0-9]')" -gt 200 ]; do sleep 1; done
  done
done
