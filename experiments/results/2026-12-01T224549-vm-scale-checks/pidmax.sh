#!/bin/bash
# The kernel.pid_max refusal again on a quiet machine. Both commands run straight from
# this shell, output to a file, so the tasks around them are the same: inside $(… | head)
# the subshell and head are two more tasks on the machine, and the largest N the search
# then prints is one or two below what a plain run sees (pidmax.txt, the first try).
cd "$(dirname "$0")/../../.."
B=.build/release/csgb
O=$(mktemp)
echo "## $(date -u +%FT%TZ) loadavg $(cat /proc/loadavg) commit $(git rev-parse --short HEAD)"
for i in 1 2 3; do
  $B yield max --mode thread --cpus 0 --largest-n > $O 2>&1
  T=$(head -1 $O)
  echo "\$ csgb yield max --mode thread --cpus 0 --largest-n"; cat $O
  $B yield $((T+1)) --mode thread --cpus 0 -d 1 > $O 2>&1; rc=$?
  echo "\$ csgb yield $((T+1)) --mode thread --cpus 0 -d 1"; head -3 $O; echo "exit $rc"
  $B yield $T --mode thread --cpus 0 -d 1 > $O 2>&1; rc=$?
  echo "\$ csgb yield $T --mode thread --cpus 0 -d 1 (some lines)"; grep -E "^workload|^measured|^fairness|^set-up|^memory|csgb:" $O; echo "exit $rc"
done
rm -f $O
