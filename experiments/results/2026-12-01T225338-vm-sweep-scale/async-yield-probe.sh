#!/bin/bash
for i in 1 2 3; do
  for b in /work/before/.build/release/csgb /work/main/.build/release/csgb; do
    for w in 0.1 2; do
      printf "%s warmup %s: " $(basename $(dirname $(dirname $(dirname $b)))) $w
      $b yield 10000 --mode async --cpus 0 -d 1 --warmup $w --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print(round(r['ns_per_iteration'],1), r.get('warmup_note'))"
    done
  done
done
