#!/bin/bash
# csgb stat at the largest socket N the descriptor limit allows, in thread, async and
# green mode on CPU 0, 3 s each, then the small cases; run under /work/tools/cpu measure.
cd "$(dirname "$0")/../../.."
B=.build/release/csgb
echo "## $(date -u +%FT%TZ) $(hostname) loadavg $(cat /proc/loadavg) commit $(git rev-parse --short HEAD)"
for m in thread async green; do
  echo "\$ csgb stat -- socket max --mode $m --cpus 0 -d 3"
  $B stat -- socket max --mode $m --cpus 0 -d 3 2>&1; echo "exit $?"
done
for m in thread async; do
  echo "\$ csgb stat -- socket 1 --mode $m --cpus 0 -d 1"
  $B stat -- socket 1 --mode $m --cpus 0 -d 1 2>&1; echo "exit $?"
done
