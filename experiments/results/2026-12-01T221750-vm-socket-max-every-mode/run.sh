#!/bin/bash
# csgb stat at the largest socket N the descriptor limit allows, in every mode on CPU 0,
# 3 s each (process mode 3 times, interleaved with the others), then one plain
# process-mode run for its own report; run under /work/tools/cpu measure.
cd "$(dirname "$0")/../../.."
B=.build/release/csgb
echo "## $(date -u +%FT%TZ) $(hostname) loadavg $(cat /proc/loadavg) commit $(git rev-parse --short HEAD)"
for m in process thread process async process green; do
  echo "\$ csgb stat -- socket max --mode $m --cpus 0 -d 3    # $(date -u +%T) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "wall %e s" $B stat -- socket max --mode $m --cpus 0 -d 3 2>&1; echo "exit $?"
done
echo "\$ csgb socket max --mode process --cpus 0 -d 3 --format json    # $(date -u +%T) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
$B socket max --mode process --cpus 0 -d 3 --format json 2>&1; echo "exit $?"
