#!/bin/bash
# futex 1 in thread mode alone, ten interleaved rounds, to look again at its 1.09 of output-2.txt.
for i in 1 2 3 4 5 6 7 8 9 10; do
  for b in pre post; do
    printf "%-26s %-4s " "futex 1 --mode thread" $b
    /tmp/$b/csgb futex 1 --mode thread --cpus 0 -d 1 --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print(round(r['ns_per_iteration'],1))"
  done
done
