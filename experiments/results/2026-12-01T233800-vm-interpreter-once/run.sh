#!/bin/bash
# Interleaved: the interpreter written once (post) against the two copies (pre).
for i in 1 2 3 4 5; do
  for w in "socket 1 --mode thread" "socket 1 --mode process" "futex 1 --mode thread" "futex 1 --mode process"; do
    for b in pre post; do
      printf "%-26s %-4s " "$w" $b
      /tmp/$b/csgb $w --cpus 0 -d 1 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print(round(r['ns_per_iteration'],1))"
    done
  done
done
