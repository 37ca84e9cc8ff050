#!/bin/bash
# Reliability probes (signals, lost reports, CSV header, bad input, ignored options),
# one row of docs/reliability-probe-table.md each: exit code and first stderr line.
# Usage: experiments/results/2026-12-01T200434-vm-reliability-probe/reliability_probes.sh path/to/csgb   (run as root: stat needs perf)
B=${1:?csgb binary}
T=$(mktemp -d)
row() { # id, command text, rc, stderr file; with an empty stderr, stdout's first line is shown
    local first; first=$(grep -v '^\s*$' "$4" | head -1 | cut -c1-150)
    [ -z "$first" ] && [ -s "$T/out" ] && first="(stderr empty) stdout: $(grep -v '^\s*$' "$T/out" | head -1 | cut -c1-120)"
    printf '| %s | `%s` | %s | %s |\n' "$1" "$2" "$3" "${first:-(none)}"
}
run() { # id, shell command (B is the binary)
    local id=$1 cmd=$2
    bash -c "B=$B; $cmd" >"$T/out" 2>"$T/err"; row "$id" "$cmd" "$?" "$T/err"
}
# Starts a command in its own session, signals it after a delay, waits (kill -9 after 8 s).
signal_run() { # id, delay, signal, target(group|leader), command
    local id=$1 delay=$2 sig=$3 target=$4 cmd=$5
    setsid bash -c "exec $B $cmd" >"$T/out" 2>"$T/err" & local pid=$!
    sleep "$delay"
    if [ "$target" = group ]; then kill -"$sig" -- -$pid; else kill -"$sig" $pid; fi
    local t0; t0=$(date +%s.%N)
    for _ in $(seq 800); do kill -0 $pid 2>/dev/null || break; sleep 0.01; done
    if kill -0 $pid 2>/dev/null; then kill -9 -- -$pid; wait $pid 2>/dev/null; echo "(still running 8 s after SIG$sig: killed)" >"$T/err"; row "$id" "SIG$sig ($target) at ${delay}s: csgb $cmd" "killed" "$T/err"; return; fi
    wait $pid; local rc=$?
    local took; took=$(echo "$(date +%s.%N) - $t0" | bc)
    local extra; extra=$(grep -E '^(runs|verification|measured)' "$T/out" | head -2 | tr '\n' ';' | cut -c1-160)
    row "$id" "SIG$sig ($target) at ${delay}s: csgb $cmd" "$rc (exit after ${took:0:5} s) $extra" "$T/err"
}
signal_run 1a 0.15 INT group "stat -- socket 1 --mode green --cpus 0"
signal_run 1b 1 INT group "stat --repeat 3 -- socket 1 --mode green --cpus 0 -d 0.5"
signal_run 1c 0.5 INT leader "stat -- socket 1 --mode green --cpus 0"
signal_run 2a 1 QUIT leader "socket 100 --mode thread -d 20"
signal_run 2b 1 HUP leader "socket 100 --mode thread -d 20"
run 3a '$B yield 1 -d 0.2 --format csv >/dev/full'
run 3b '$B yield 1 -d 0.2 --format csv >&-'
for flags in "" "--latency" "--latency --counters"; do
    $B yield 1 -d 0.2 --format csv $flags >"$T/out" 2>"$T/err"; rc=$?
    printf '| 4 | `csgb yield 1 -d 0.2 --format csv %s` | %s | header: %s columns |\n' "$flags" "$rc" "$(head -1 "$T/out" | tr ',' '\n' | wc -l)"
done
run 5a '$B socket -1'
run 5b '$B socket 1 --cpus -1'
run 5c '$B socket 1 --mode green --workers -1'
run 5d '$B socket 1 -d -1'
run 5e '$B stat --repeat -1 -- socket 1'
run 5f '$B socket 1 -d 86401'
run 5g '$B yield 1 -d 0x1'
run 5h '$B stat --events bogus_event -- yield 1 -d 0.2'
run 5i 'ulimit -v 600000; $B socket 200 -d 0.2'
run 6a '$B socket 1 --stride 128 -d 0.2'
run 6b '$B socket 1 --stack-size 128K -d 0.2'
run 6c '$B socket 1 --mode async --executor global --workers 2 -d 0.2'
run 6d '$B socket 1 --pin set -d 0.2'
run 6e '$B yield 1 --mode async --workers 4096 -d 0.2'
signal_run 7 1 INT leader "socket 1 --work-size 2G --stride 1 --mode green"
run 8 'nice -n 19 $B yield 1 -d 0.3 >/tmp/csgb-issue12-8; grep -i priority /tmp/csgb-issue12-8 || echo no priority line'
run 9 '$B --version'
run 10 '$B stat -- socket 1 --mode green --cpus 0 -d 0.3 >/tmp/csgb-issue12-10; grep -E "^  ns" /tmp/csgb-issue12-10'
rm -rf "$T" /tmp/csgb-issue12-8 /tmp/csgb-issue12-10
