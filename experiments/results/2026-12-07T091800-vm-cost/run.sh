#!/bin/sh
# The done-when measurements of csgb cost (run from the repository root, release build,
# each step under /work/tools/cpu measure by the caller). Usage: run.sh FOLDER STEP
set -e
D=$1; B=.build/release/csgb
case $2 in
cost)
  cat /proc/loadavg > $D/cost.loadavg
  $B cost -- socket 1 --cpus 0 > $D/cost.txt
  cat /proc/loadavg >> $D/cost.loadavg
  $B cost --format json -- socket 1 --cpus 0 > $D/cost.json
  cat /proc/loadavg >> $D/cost.loadavg ;;
plain)
  # Plain runs (no --phases) of the same commit, thread and green alternated.
  cat /proc/loadavg > $D/plain.loadavg
  for i in 1 2 3 4 5 6 7; do
    $B socket 1 --cpus 0 --duration 1 --mode thread --format json > $D/plain-thread-$i.json
    $B socket 1 --cpus 0 --duration 1 --mode green --format json > $D/plain-green-$i.json
  done
  cat /proc/loadavg >> $D/plain.loadavg ;;
size-*)
  S=${2#size-}
  cat /proc/loadavg > $D/cost-$S.loadavg
  $B cost --format json --no-switch-probe -- socket 1 --cpus 0 --work-size $S > $D/cost-$S.json
  cat /proc/loadavg >> $D/cost-$S.loadavg ;;
esac
