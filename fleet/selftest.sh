#!/usr/bin/env bash
# fleet/selftest.sh ARCHIVE: docs/fleet.md's recipe run for real against two hosts made
# on this machine, with a known answer.
#
# Each host is a network namespace with its own veth address on a private /30, its own
# UTS namespace (host name fleet-a / fleet-b, so reports and folders tell them apart),
# its own mount namespace in which its own working folder is mounted on its home
# (/root), and its own sshd listening on its address with a host key made for this
# run. The collecting side (this shell) logs in with a client key made for this run.
# GNU parallel sends ARCHIVE (a csgb-<version>-linux-<arch>.tar.gz as make dist
# packs it) and the manifest to both hosts (--basefile, --transferfile), runs the sweep
# on each, and returns each host's results folder (--return); sweep.py --merge and
# compare.py --by host then run here.
#
#   1. Both hosts, full sweep. The two hosts are one machine, so compare.py must find no
#      difference: every case with enough samples for a verdict must read "~", and at
#      least one case must have one. The hosts run at the same time, but every csgb run
#      takes one lock on this machine (hosts that share CPU 0 must not measure at once),
#      so their runs alternate and any drift of the machine hits both alike; with 16
#      runs a case and --alpha 0.001 a chance verdict is rare (a case differs by chance
#      one time in a thousand) while a real difference is not missed (a host whose runs
#      share their CPU with a busy loop: FLEET_SELFTEST_INJECT=busy-b, which must fail).
#   2. Both hosts again, and fleet-b's sshd and its sessions are killed once fleet-b has
#      completed a few runs: fleet-a completes and is returned; fleet-b's partial folder
#      stays on fleet-b; once its sshd is back, sweep.py --resume completes it there and
#      parallel returns it; merge and compare read both.
#
# Everything it makes (namespaces, veths, sshd processes, keys, folders) is removed on
# exit, also on SIGINT/SIGTERM/SIGHUP/SIGQUIT. Needs root, ip netns, unshare, sshd,
# ssh, ssh-keygen, GNU parallel, rsync, flock, python3: a missing one is named and the
# test is skipped (exit 0 with a SKIPPED line; FLEET_SELFTEST_REQUIRE=1 makes it exit 1).
# Exit 1 when a check fails; at most FLEET_SELFTEST_LIMIT seconds (180) or it fails.
set -euo pipefail

ARCHIVE=${1:?usage: fleet/selftest.sh csgb-<version>-linux-<arch>.tar.gz}
# The drivers, as paths inside the unpacked archive (one place to change if they move).
DRIVERS=${FLEET_DRIVERS:-experiments}
SWEEP=$DRIVERS/sweep.py
COMPARE=$DRIVERS/compare.py
HERE=$(cd "$(dirname "$0")" && pwd)
MANIFEST=$HERE/selftest-manifest.json
CHECKS=$HERE/selftest_checks.py
KEEP=${FLEET_SELFTEST_KEEP:-}   # a folder to copy the logs and returned folders into
LIMIT=${FLEET_SELFTEST_LIMIT:-180}
INJECT=${FLEET_SELFTEST_INJECT:-}
ALPHA=0.001
START=$SECONDS

say() { echo "fleet-selftest: $*"; }
fail() { say "FAILED: $*" >&2; exit 1; }
skip() {
    say "SKIPPED: $*"
    if [ "${FLEET_SELFTEST_REQUIRE:-0}" = 1 ]; then exit 1; fi
    exit 0
}

# ------------------------------------------------------------------ what it needs
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, sshd on its own addresses): run it as root (sudo make fleet-selftest)"
for tool in ip unshare flock ssh ssh-keygen parallel rsync python3 perl; do
    command -v "$tool" >/dev/null || skip "needs $tool (Debian: make setup installs iproute2 util-linux openssh-client parallel rsync python3)"
done
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "needs sshd (Debian: apt-get install openssh-server, or make setup)"
[ -f "$ARCHIVE" ] || fail "no archive $ARCHIVE"
probe=csgbfleet-probe-$$
if ! ip netns add "$probe" 2>/dev/null; then
    skip "ip netns add failed (no CAP_SYS_ADMIN or no network namespaces in this container): cannot make the two hosts"
fi
ip netns del "$probe"

# ------------------------------------------------------------------ set-up and clean-up
TMP=$(mktemp -d /tmp/csgb-fleet.XXXXXX)
TAG=$$
NETS=()       # namespaces made
LINKS=()      # host-side veths made
SSHD_PIDS=()  # our sshd listeners
MADE_RUN_SSHD=0
CHILD=        # the parallel under way here, stopped first on an interruption

# A long command in the background and waited for, so that a stop signal is acted on
# at once (bash runs a trap only after a foreground command has returned).
run_bg() { "$@" & CHILD=$!; local s=0; wait "$CHILD" || s=$?; CHILD=; return $s; }

cleanup() {
    local status=$?
    set +e   # every step of the clean-up is tried, whatever the one before did
    trap - EXIT INT TERM HUP QUIT
    if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi
    if [ -n "$KEEP" ] && [ -d "$TMP/collect" ]; then
        mkdir -p "$KEEP" && cp -r "$TMP"/*.log "$TMP"/*.txt "$TMP"/collect/fleet-run* \
            "$TMP"/collect/merged* "$TMP"/collect/*.json "$KEEP"/ 2>/dev/null || true
    fi
    for ns in "${NETS[@]}"; do
        # Everything still running in the host's namespace is ours: its sshd, the
        # sessions and the sweeps they started.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
    done
    for pid in "${SSHD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for ns in "${NETS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.2
        done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    for l in "${LINKS[@]}"; do ip link del "$l" 2>/dev/null || true; done
    if [ "$MADE_RUN_SSHD" = 1 ]; then rmdir /run/sshd 2>/dev/null || true; fi
    rm -rf "$TMP"
    local left
    left=$(ip netns list | grep -c "^csgbfleet-$TAG-" || true)
    [ "$left" = 0 ] || { echo "fleet-selftest: clean-up left $left namespace(s)" >&2; status=1; }
    for pid in "${SSHD_PIDS[@]}"; do
        if [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] &&
           [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
            echo "fleet-selftest: clean-up left sshd $pid running" >&2; status=1
        fi
    done
    exit $status
}
trap cleanup EXIT
trap 'say "interrupted; cleaning up"; exit 130' INT TERM HUP QUIT

# sshd refuses to start without its privilege-separation folder.
if [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd && MADE_RUN_SSHD=1; fi

# A private /30 per host; the third octet from our pid so that two runs do not collide.
OCTET=$(( (TAG % 200) + 20 ))
declare -A ADDR NS
mkdir -p "$TMP/client"
ssh-keygen -q -t ed25519 -N '' -C csgb-fleet-client -f "$TMP/client/id_ed25519"
cp "$TMP/client/id_ed25519.pub" "$TMP/authorized_keys"
: > "$TMP/client/known_hosts"
cat > "$TMP/client/config" <<EOF
Host *
  User root
  IdentityFile $TMP/client/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $TMP/client/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  ServerAliveInterval 2
  ServerAliveCountMax 2
  LogLevel ERROR
EOF

start_sshd() {   # host: its sshd in its namespaces, its pid recorded
    local h=$1
    "${SSHD_CMD[@]}" "$h" &
    SSHD_PIDS+=($!)
    eval "SSHD_PID_$h=$!"
    disown $!   # killed in part 2 on purpose: no job of this shell's
    local k
    for k in $(seq 50); do
        ssh -F "$TMP/client/config" "fleet-$h" true 2>/dev/null && return 0
        sleep 0.1
    done
    fail "sshd of fleet-$h did not answer on ${ADDR[$h]}:22 (log: $(tail -3 "$TMP/host-$h/sshd.log" 2>/dev/null))"
}

run_host() {     # host: the command that becomes its sshd (exec'd down to sshd)
    local h=$1
    exec ip netns exec "${NS[$h]}" unshare --uts --mount --propagation private sh -c \
        'hostname "$1" && mount --bind "$2" /root && exec "$3" -D -f "$4" -E "$5"' \
        sh "fleet-$h" "$TMP/host-$h/home" "$SSHD" "$TMP/host-$h/sshd_config" "$TMP/host-$h/sshd.log"
}
SSHD_CMD=(run_host)

i=0
for h in a b; do
    ns=csgbfleet-$TAG-$h
    hv=cf$TAG$h; hv=${hv:0:15}
    ip netns add "$ns"; NETS+=("$ns"); NS[$h]=$ns
    ip link add "$hv" type veth peer name eth0 netns "$ns"; LINKS+=("$hv")
    ip addr add "10.213.$OCTET.$((i * 4 + 1))/30" dev "$hv"
    ip link set "$hv" up
    ip -n "$ns" addr add "10.213.$OCTET.$((i * 4 + 2))/30" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ADDR[$h]=10.213.$OCTET.$((i * 4 + 2))
    mkdir -p "$TMP/host-$h/home"
    ssh-keygen -q -t ed25519 -N '' -C "fleet-$h" -f "$TMP/host-$h/ssh_host_ed25519_key"
    cat > "$TMP/host-$h/sshd_config" <<EOF
ListenAddress ${ADDR[$h]}
Port 22
HostKey $TMP/host-$h/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
LogLevel ERROR
EOF
    printf 'Host fleet-%s\n  HostName %s\n  HostKeyAlias fleet-%s\n' "$h" "${ADDR[$h]}" "$h" >> "$TMP/client/config"
    echo "fleet-$h $(cut -d' ' -f1,2 "$TMP/host-$h/ssh_host_ed25519_key.pub")" >> "$TMP/client/known_hosts"
    start_sshd "$h"
    i=$((i + 1))
done
printf 'fleet-a\nfleet-b\n' > "$TMP/hosts.txt"
say "hosts up: fleet-a ${ADDR[a]}, fleet-b ${ADDR[b]} (namespaces ${NS[a]}, ${NS[b]}; sshd pids ${SSHD_PIDS[*]})"

# ------------------------------------------------------------------ the collecting side
COLLECT=$TMP/collect
mkdir -p "$COLLECT"
cp "$ARCHIVE" "$COLLECT/"
ARCH=$(basename "$ARCHIVE")
PKG=${ARCH%.tar.gz}
cp "$MANIFEST" "$COLLECT/fleet.json"
CUT_REPEATS=6
python3 - "$MANIFEST" "$COLLECT/fleet-cut.json" "$CUT_REPEATS" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["defaults"]["repeats"] = int(sys.argv[3])
m["description"] = "The fleet self-test's cut-off part: the same cases, %s runs each." % sys.argv[3]
json.dump(m, open(sys.argv[2], "w"), indent=1)
EOF
# The archive unpacked here too: merge and compare run from the same drivers.
tar -C "$COLLECT" -xzf "$COLLECT/$ARCH"
# Runs per host: the manifest's cases (as sweep.py --list expands them) times the repeats.
CASES=$(cd "$COLLECT" && python3 "$PKG/$SWEEP" fleet.json --csgb "$COLLECT/$PKG/bin/csgb" --list | grep -c ' x[0-9]* *\$ ' || true)
[ "$CASES" -gt 0 ] || fail "sweep.py --list found no case in $MANIFEST"
RUNS1=$((CASES * $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["defaults"]["repeats"])' "$MANIFEST")))
RUNS2=$((CASES * CUT_REPEATS))
LOCK=$TMP/measure.lock
# Each host's csgb, through the one lock (see 1. above); a busy loop on CPU 0 beside
# fleet-b's runs when FLEET_SELFTEST_INJECT=busy-b (the verdict check must then fail).
cat > "$COLLECT/csgb-locked" <<EOF
#!/bin/sh
if [ "$INJECT" = busy-b ] && [ "\$(hostname)" = fleet-b ]; then
    exec flock "$LOCK" sh -c 'taskset -c 0 sh -c "while :; do :; done" & b=\$!; "\$0" "\$@"; s=\$?; kill \$b; exit \$s' "\$HOME/$PKG/bin/csgb" "\$@"
fi
exec flock "$LOCK" "\$HOME/$PKG/bin/csgb" "\$@"
EOF
chmod +x "$COLLECT/csgb-locked"
cd "$COLLECT"

PARALLEL=(parallel --will-cite --ssh "ssh -F $TMP/client/config" --sshloginfile "$TMP/hosts.txt"
          --basefile "$ARCH" --basefile csgb-locked --transferfile {} --tag)
UNPACK="tar xzf $ARCH"
sweep_job() {  # RUN: the remote command line of a sweep into RUN/<host name>
    echo "$UNPACK && python3 $PKG/$SWEEP {} --csgb \$PWD/csgb-locked --no-plots --out $1/\$(hostname)"
}

# ------------------------------------------------------------------ 1. two hosts, one answer
RUN1=fleet-run1
say "1. both hosts, $RUNS1 runs each: parallel --onall -j2 --return $RUN1 '$(sweep_job $RUN1)' ::: fleet.json"
status=0
run_bg timeout 150 "${PARALLEL[@]}" --onall -j2 --return "$RUN1" "$(sweep_job $RUN1)" ::: fleet.json \
    > "$TMP/run1.log" 2>&1 || status=$?
# parallel's status counts the hosts whose sweep exited non-zero (a csgb run that
# failed does that); what came back is checked below either way.
say "1. parallel exited $status"
grep -E 'sweep: [0-9]+ run\(s\) in' "$TMP/run1.log" || true
for h in a b; do
    [ -f "$RUN1/fleet-$h/results.json" ] || { cat "$TMP/run1.log"; fail "fleet-$h's results were not returned ($RUN1/fleet-$h/results.json)"; }
    python3 "$CHECKS" complete "$RUN1/fleet-$h" "$RUNS1" || { cat "$TMP/run1.log"; fail "fleet-$h's sweep is not complete"; }
done
python3 "$PKG/$SWEEP" --merge "$RUN1/fleet-a" "$RUN1/fleet-b" --out merged1 --no-plots > "$TMP/merge1.log" 2>&1 ||
    { cat "$TMP/merge1.log"; fail "sweep.py --merge failed"; }
grep -q "fleet-a" merged1/summary.md && grep -q "fleet-b" merged1/summary.md ||
    fail "the merged summary has no column per host (merged1/summary.md names neither fleet-a nor fleet-b)"
say "1. merged: merged1/summary.md names both hosts:"
sed -n '/^| case /,/^$/p' merged1/summary.md | head -20
python3 "$PKG/$COMPARE" "$RUN1/fleet-a" "$RUN1/fleet-b" --by host --alpha "$ALPHA" > "$TMP/compare1.txt" ||
    fail "compare.py failed"
cat "$TMP/compare1.txt"
python3 "$PKG/$COMPARE" "$RUN1/fleet-a" "$RUN1/fleet-b" --by host --alpha "$ALPHA" --format json > compare1.json
python3 "$CHECKS" verdicts compare1.json || fail "compare.py's verdicts for two hosts that are one machine (above)"
say "1. passed: both hosts returned over ssh, merged with a column per host, compare reads ~ on every case"

# ------------------------------------------------------------------ 2. a host cut off
RUN2=fleet-run2
CUT_AFTER=3
say "2. both hosts again, $RUNS2 runs each; fleet-b cut off after $CUT_AFTER"
"${PARALLEL[@]}" --onall -j2 --line-buffer --return "$RUN2" "$(sweep_job $RUN2)" ::: fleet-cut.json \
    > "$TMP/run2.log" 2>&1 &
PAR2=$! CHILD=$!
cut=0
for _ in $(seq 600); do
    if grep -qE "^fleet-b\s+\[ *$CUT_AFTER/" "$TMP/run2.log"; then cut=1; break; fi
    kill -0 "$PAR2" 2>/dev/null || break
    sleep 0.1
done
[ "$cut" = 1 ] || { cat "$TMP/run2.log"; fail "fleet-b never reached run $CUT_AFTER"; }
# fleet-b goes away: its sshd and every session it serves (all ours: its namespace's).
for pid in $(ip netns pids "${NS[b]}"); do
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ]; then kill -KILL "$pid" 2>/dev/null || true; fi
done
say "2. killed fleet-b's sshd after: $(grep -E "^fleet-b\s+\[" "$TMP/run2.log" | tail -1 | cut -c1-90)"
status=0
wait "$PAR2" || status=$?
CHILD=
say "2. parallel exited $status"
[ "$status" -ne 0 ] || fail "parallel reported success although fleet-b was cut off"
python3 "$CHECKS" complete "$RUN2/fleet-a" "$RUNS2" || { cat "$TMP/run2.log"; fail "fleet-a did not complete while fleet-b was cut off"; }
[ ! -e "$RUN2/fleet-b/results.json" ] || fail "fleet-b's results came back although it was cut off"
# Its sweep stops on its own: parallel's remote wrapper sends it SIGTERM when its ssh
# goes away, and the sweep writes the runs it completed.
for _ in $(seq 100); do
    [ -z "$(ip netns pids "${NS[b]}")" ] && break
    sleep 0.1
done
[ -z "$(ip netns pids "${NS[b]}")" ] || fail "fleet-b's sweep still runs 10 s after its sshd was killed"
start_sshd b
say "2. fleet-b is back (sshd pid $SSHD_PID_b)"
ssh -F "$TMP/client/config" fleet-b python3 - partial "$RUN2/fleet-b" "$RUNS2" < "$CHECKS" ||
    fail "fleet-b's partial folder was not kept on fleet-b"
RESUME="python3 $PKG/$SWEEP --resume $RUN2/\$(hostname)"
say "2. parallel -S fleet-b --return $RUN2 --nonall '$RESUME'"
status=0
run_bg timeout 60 parallel --will-cite --ssh "ssh -F $TMP/client/config" -S fleet-b --tag --return "$RUN2" --nonall "$RESUME" \
    > "$TMP/resume.log" 2>&1 || status=$?
say "2. parallel exited $status"
grep -E "resuming|run\(s\) in" "$TMP/resume.log" || true
[ -f "$RUN2/fleet-b/results.json" ] || { cat "$TMP/resume.log"; fail "fleet-b's resumed folder was not returned"; }
python3 "$CHECKS" complete "$RUN2/fleet-b" "$RUNS2" 1 || { cat "$TMP/resume.log"; fail "fleet-b's resumed folder is not complete"; }
python3 "$PKG/$SWEEP" --merge "$RUN2/fleet-a" "$RUN2/fleet-b" --out merged2 --no-plots > "$TMP/merge2.log" 2>&1 ||
    { cat "$TMP/merge2.log"; fail "sweep.py --merge after the resume failed"; }
python3 "$PKG/$COMPARE" "$RUN2/fleet-a" "$RUN2/fleet-b" --by host > "$TMP/compare2.txt" || fail "compare.py after the resume failed"
say "2. passed: fleet-a complete, fleet-b's partial folder kept on it and resumed, both merged"

elapsed=$((SECONDS - START))
[ "$elapsed" -le "$LIMIT" ] || fail "took ${elapsed} s, more than ${LIMIT} s"
say "passed in ${elapsed} s"
