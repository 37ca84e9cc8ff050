#!/bin/bash
# Every "done when" of the scale work on one commit, release build, this VM; run as root
# under /work/tools/cpu measure. vm.max_map_count is lowered to its default only for the
# refusal case and put back.
cd "$(dirname "$0")/../../.."
B=.build/release/csgb
echo "## $(date -u +%FT%TZ) $(hostname) loadavg $(cat /proc/loadavg) commit $(git rev-parse --short HEAD) vm.max_map_count $(cat /proc/sys/vm/max_map_count)"
stamp() { echo "    # $(date -u +%T) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"; }
for m in green async; do
  echo "\$ csgb stat -- yield 1000000 --mode $m --cpus 0 -d 3"; stamp
  $B stat -- yield 1000000 --mode $m --cpus 0 -d 3 2>&1; echo "exit $?"
  echo "\$ csgb yield 1000000 --mode $m --cpus 0 -d 1 --format json (figures)"; stamp
  $B yield 1000000 --mode $m --cpus 0 -d 1 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print('n', r['n'], 'ns', round(r['ns_per_iteration'],1), 'setup_s', round(r['setup_seconds'],2), 'memory_per_actor_B', round(r['memory_per_actor_bytes']), 'fairness', r['fairness'], 'warmup', r['warmup_seconds'], r['warmup_note'])"; echo "exit ${PIPESTATUS[0]}"
done
for m in thread process async green; do
  echo "\$ csgb stat -- socket max --mode $m --cpus 0 -d 3"; stamp
  $B stat -- socket max --mode $m --cpus 0 -d 3 2>&1; echo "exit $?"
done
echo "\$ csgb socket max --largest-n"; $B socket max --largest-n; echo "exit $?"
echo "\$ csgb socket 9969 -d 1"; $B socket 9969 -d 1; echo "exit $?"
T=$($B yield max --mode thread --cpus 0 --largest-n | head -1)
echo "\$ csgb yield max --mode thread --cpus 0 --largest-n"; $B yield max --mode thread --cpus 0 --largest-n; echo "exit $?"
echo "\$ csgb yield max --mode thread --cpus 0 -d 1 --format json (N = $T)"; stamp
$B yield max --mode thread --cpus 0 -d 1 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print('n', r['n'], 'ns', round(r['ns_per_iteration'],1), 'setup_s', round(r['setup_seconds'],2), 'memory_per_actor_B', round(r['memory_per_actor_bytes']), 'fairness', r['fairness'], 'warmup', r['warmup_seconds'], r['warmup_note'])"; echo "exit ${PIPESTATUS[0]}"
echo "\$ csgb yield $((T+1)) --mode thread --cpus 0 -d 1"; $B yield $((T+1)) --mode thread --cpus 0 -d 1; echo "exit $?"
old=$(cat /proc/sys/vm/max_map_count)
sysctl -q -w vm.max_map_count=65530
echo "\$ (vm.max_map_count=65530) csgb yield 1000000 --mode green --cpus 0 -d 1"; $B yield 1000000 --mode green --cpus 0 -d 1; echo "exit $?"
sysctl -q -w vm.max_map_count=$old
echo "(vm.max_map_count restored to $(cat /proc/sys/vm/max_map_count))"
