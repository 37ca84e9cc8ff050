#!/bin/bash
# csgb stat at socket max in every mode on CPU 0, 3 s each, with the warm-up extended
# until every actor has made a pass; run under /work/tools/cpu measure.
cd "$(dirname "$0")/../../.."
B=.build/release/csgb
echo "## $(date -u +%FT%TZ) $(hostname) loadavg $(cat /proc/loadavg) commit $(git rev-parse --short HEAD) + working tree (warm-up until every actor has passed)"
for m in thread async thread green process thread; do
  echo "\$ csgb stat -- socket max --mode $m --cpus 0 -d 3    # $(date -u +%T) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "wall %e s" $B stat -- socket max --mode $m --cpus 0 -d 3 2>&1; echo "exit $?"
  echo "\$ csgb socket max --mode $m --cpus 0 -d 1 (measured line)"
  $B socket max --mode $m --cpus 0 -d 1 2>&1 | grep -E "^measured|^fairness"; echo "exit $?"
done
