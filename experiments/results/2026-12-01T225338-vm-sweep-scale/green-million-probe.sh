#!/bin/bash
for i in 1 2; do
  for b in /work/before/.build/release/csgb /work/main/.build/release/csgb; do
    printf "%s: " $(basename $(dirname $(dirname $(dirname $b))))
    $b yield 1000000 --mode green --cpus 0 -d 1 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print(round(r['ns_per_iteration'],1), 'warmup', round(r['warmup_seconds'],3), r.get('warmup_note'), 'fairness', r['fairness']['min'], r['fairness']['max'])"
  done
done
printf "before, --warmup 2: "; /work/before/.build/release/csgb yield 1000000 --mode green --cpus 0 -d 1 --warmup 2 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print(round(r['ns_per_iteration'],1), 'fairness', r['fairness']['min'], r['fairness']['max'])"
