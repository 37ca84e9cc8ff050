#!/bin/bash
cd /work/main
B=.build/release/csgb
echo "## $(date -u +%FT%TZ) $(hostname) $(cat /proc/loadavg)"
for m in green async; do
  echo "\$ csgb stat -- yield 1000000 --mode $m --cpus 0 -d 3"
  $B stat -- yield 1000000 --mode $m --cpus 0 -d 3 2>&1 | grep -E "context switches|syscalls:|verification|iterations|csgb:"; echo "exit ${PIPESTATUS[0]}"
done
echo "\$ csgb yield max --mode thread --largest-n"; $B yield max --mode thread --cpus 0 --largest-n; echo "exit $?"
T=$($B yield max --mode thread --cpus 0 --largest-n | head -1)
echo "\$ csgb yield max --mode thread --cpus 0 -d 1 --format json (N = $T)"
$B yield max --mode thread --cpus 0 -d 1 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print('n', r['n'], 'ns', round(r['ns_per_iteration'],1), 'setup', r['setup_seconds'], 'mem/actor', round(r['memory_per_actor_bytes']), 'fairness', r['fairness'])"; echo "exit ${PIPESTATUS[0]}"
echo "\$ csgb yield $((T+1)) --mode thread --cpus 0 -d 1"; $B yield $((T+1)) --mode thread --cpus 0 -d 1; echo "exit $?"
echo "\$ csgb socket max --largest-n"; $B socket max --largest-n; echo "exit $?"
for m in thread green async; do
  echo "\$ csgb stat -- socket max --mode $m --cpus 0 -d 1"
  $B stat -- socket max --mode $m --cpus 0 -d 1 2>&1 | grep -E "^  workload|context switches|syscalls:|verification|csgb:"; echo "exit ${PIPESTATUS[0]}"
done
echo "\$ csgb socket 9969 -d 1"; $B socket 9969 -d 1; echo "exit $?"
old=$(cat /proc/sys/vm/max_map_count)
sysctl -q -w vm.max_map_count=65530
echo "\$ (vm.max_map_count=65530) csgb yield 1000000 --mode green --cpus 0 -d 1"; $B yield 1000000 --mode green --cpus 0 -d 1; echo "exit $?"
echo "\$ (vm.max_map_count=65530) csgb yield max --mode green --largest-n"; $B yield max --mode green --largest-n; echo "exit $?"
sysctl -q -w vm.max_map_count=$old
echo "(vm.max_map_count restored to $(cat /proc/sys/vm/max_map_count))"
