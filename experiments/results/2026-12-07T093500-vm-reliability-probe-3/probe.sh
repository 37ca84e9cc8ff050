#!/bin/bash
# Re-run of the rows of issue 29's probe that broke a promise (the stop warning after
# GNU timeout, runs that did not do what they claim, and the four hangs), against
# the csgb given as $1 (default: the debug build of this checkout). Every command
# runs under `timeout -k`, so nothing can hang the shell; each row prints its exit
# code, its seconds, the lines that matter, and what it left behind (processes of
# csgb, real-time tasks). Correctness checks, not timings.
CSGB=${1:-.build/debug/csgb}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

now() { date +%s.%N; }
# Every process this script starts carries CSGB_PROBE in its environment: what is
# left after a row is found by it, never by a name other sessions may share.
export CSGB_PROBE=$W
left() {
    sleep 0.5
    local out="" pid comm cls
    for env in /proc/[0-9]*/environ; do
        pid=${env#/proc/}; pid=${pid%/environ}
        [ "$pid" = $$ ] || [ "$pid" = $BASHPID ] && continue
        grep -qz "^CSGB_PROBE=$W\$" "$env" 2>/dev/null || continue
        comm=$(cat /proc/$pid/comm 2>/dev/null) || continue
        case "$comm" in ps|grep|sleep|cat|bash|awk|sed) continue;; esac
        [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = Z ] && continue
        cls=$(ps -o cls= -p $pid 2>/dev/null | tr -d ' ')
        out+="$pid($comm $cls) "
    done
    echo "  left behind: [${out}]"
    # What a row left would spoil the next ones (a real-time spinner on CPU 0): the
    # probe kills it, by pid, after saying so.
    for entry in $out; do kill -KILL "${entry%%(*}" 2>/dev/null; done
}
row() { echo; echo "== $*"; }
wait_open() { for _ in $(seq 600); do grep -q open "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

row "1. taskset -c 0 timeout -s INT 2 csgb socket 1 (GNU timeout sends SIGCONT after SIGINT)"
t=$(now); taskset -c 0 timeout -k 5 -s INT 2 "$CSGB" socket 1 > "$W/out" 2> "$W/err"; rc=$?
echo "  rc=$rc seconds=$(echo "$(now) - $t" | bc)"
grep -E "stopped by|warning: +the process was stopped" "$W/out" | sed 's/^/  /'
echo "  stop warnings: $(grep -c 'stopped and continued' "$W/out")"; left

row "1b. a real kill -STOP / kill -CONT in the window still warns"
rm -f "$W/win"; timeout -k 5 20 "$CSGB" socket 1 --cpus 0 -d 3 --window-file "$W/win" > "$W/out" 2> "$W/err" & p=$!
wait_open "$W/win"; c=$(pgrep -P $p -x csgb); kill -STOP $c; sleep 0.5; kill -CONT $c; wait $p; rc=$?
echo "  rc=$rc"; grep -E "stopped and continued" "$W/out" | cut -c1-100 | sed 's/^/  /'; left

row "2. csgb socket 2 --mode process -d 5, actor 1 SIGKILLed after the window opened"
rm -f "$W/win"; t=$(now); timeout -k 5 30 "$CSGB" socket 2 --mode process -d 5 --window-file "$W/win" > "$W/out" 2> "$W/err" & p=$!
wait_open "$W/win"; c=$(pgrep -P $p -x csgb); host=$(pgrep -P $c -x csgb); kill -KILL $(pgrep -P $host -x csgb-actor-1); wait $p; rc=$?
echo "  rc=$rc seconds=$(echo "$(now) - $t" | bc)"; grep -E "^failed|stopped by" "$W/out" | cut -c1-120 | sed 's/^/  /'; sed 's/^/  stderr: /' "$W/err"; left

row "2b. --inject-closed-channel (a pair's channel shut down as the window opens)"
timeout -k 5 30 "$CSGB" socket 2 --cpus 0 -d 0.5 --inject-closed-channel > "$W/out" 2> "$W/err"; rc=$?
echo "  rc=$rc"; grep -E "^failed" "$W/out" | sed 's/^/  /'; sed 's/^/  stderr: /' "$W/err"

row "7a. timeout -k5 8 csgb yield 1 --mode green --cpus 0 --sched fifo:99 -d 1"
t=$(now); timeout -k 5 8 "$CSGB" yield 1 --mode green --cpus 0 --sched fifo:99 -d 1 > "$W/out" 2> "$W/err"; rc=$?
echo "  rc=$rc seconds=$(echo "$(now) - $t" | bc)"; sed 's/^/  stderr: /' "$W/err"; left
row "7a. csgb socket 1 --mode async --cpus 0 --sched fifo:99 (SIGTERM after 1 s)"
timeout -k 5 -s TERM 1 "$CSGB" socket 1 --mode async --cpus 0 --sched fifo:99 > "$W/out" 2> "$W/err"; rc=$?
echo "  rc=$rc"; sed 's/^/  stderr: /' "$W/err"; left
for mode in green async thread; do
    row "7a. csgb yield 2 --mode $mode --cpus 0 --sched fifo:98, SIGTERM once the window is open"
    rm -f "$W/win"; timeout -k 5 20 "$CSGB" yield 2 --mode $mode --cpus 0 --sched fifo:98 --window-file "$W/win" > "$W/out" 2> "$W/err" & p=$!
    wait_open "$W/win"; t=$(now); kill -TERM $p; wait $p; rc=$?
    echo "  rc=$rc seconds after SIGTERM=$(echo "$(now) - $t" | bc)"; grep -E "stopped by|^sched" "$W/out" | cut -c1-100 | sed 's/^/  /'; left
done
row "7a. csgb stat -- yield 1 --cpus 0 --sched fifo:98 -d 600, csgb stat SIGKILLed in the window"
rm -f "$W/win"; timeout -k 5 60 "$CSGB" stat -- yield 1 --cpus 0 --sched fifo:98 -d 600 --window-file "$W/win" > "$W/out" 2> "$W/err" & p=$!
wait_open "$W/win"; pgrep -f -- "--window-file $W/win" | tr '\n' ' ' | sed 's/^/  before: /'; echo
kill -KILL $(pgrep -P $p -x csgb) 2>/dev/null; wait $p; echo "  rc=$?"
sleep 0.5; echo "  after: [$(pgrep -f -- "--window-file $W/win" | tr '\n' ' ')]"; left

for variant in "--transport unix" "--transport pipe" "--syscalls send-recv" "--ring-setup none"; do
    row "7b. csgb socket 1 --mode async --io uring --ring-entries 1 -d 0.2 $variant"
    t=$(now); timeout -k 5 -s TERM 10 "$CSGB" socket 1 --mode async --io uring --ring-entries 1 -d 0.2 $variant > "$W/out" 2> "$W/err"; rc=$?
    echo "  rc=$rc seconds=$(echo "$(now) - $t" | bc)"; sed 's/^/  stderr: /' "$W/err"; left
done
row "7b. csgb socket 1 --mode green --io uring --ring-entries 1 -d 0.2"
timeout -k 5 -s TERM 10 "$CSGB" socket 1 --mode green --io uring --ring-entries 1 -d 0.2 > "$W/out" 2> "$W/err"; echo "  rc=$?"; sed 's/^/  stderr: /' "$W/err"; left

row "7c. csgb socket 3 --mode process -d 2, kill -STOP of the actor host once the window opened"
rm -f "$W/win"; t=$(now); timeout -k 5 40 "$CSGB" socket 3 --mode process -d 2 --window-file "$W/win" > "$W/out" 2> "$W/err" & p=$!
wait_open "$W/win"; host=$(pgrep -P $(pgrep -P $p -x csgb) -x csgb); echo "  host pid $host"; kill -STOP $host; wait $p; rc=$?
echo "  rc=$rc seconds=$(echo "$(now) - $t" | bc)"; grep -E "^failed|stopped by" "$W/out" | cut -c1-120 | sed 's/^/  /'; sed 's/^/  stderr: /' "$W/err"; left
row "7c. the same, SIGTERM to csgb after the host stopped (-d 600)"
rm -f "$W/win"; timeout -k 5 40 "$CSGB" socket 3 --mode process -d 600 --window-file "$W/win" > "$W/out" 2> "$W/err" & p=$!
wait_open "$W/win"; host=$(pgrep -P $(pgrep -P $p -x csgb) -x csgb); kill -STOP $host; sleep 0.2; t=$(now); kill -TERM $(pgrep -P $p -x csgb); wait $p; rc=$?
echo "  rc=$rc seconds after SIGTERM=$(echo "$(now) - $t" | bc)"; sed 's/^/  stderr: /' "$W/err"; left

row "7d. csgb socket 4 --mode green --io uring --ring-entries 2 -d 0.2 --format json"
timeout -k 5 -s TERM 20 "$CSGB" socket 4 --mode green --io uring --ring-entries 2 -d 0.2 --format json > "$W/out" 2> "$W/err"; rc=$?
echo "  rc=$rc"; sed 's/^/  stderr: /' "$W/err"; grep -o '"failed_transfers" *: *[0-9]*' "$W/out" | sed 's/^/  /'; left
