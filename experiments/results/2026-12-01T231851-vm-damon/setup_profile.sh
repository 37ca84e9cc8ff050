#!/bin/bash
perf record -e cpu-clock -F 499 -a -g -o /tmp/setup.perf.data -- /work/main/.build/release/csgb socket 5000 --mode process --cpus 0 -d 0.1 --warmup 0 2>&1 | grep -E "set-up|measured"
