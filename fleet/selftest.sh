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
BUSY_PID=

cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP QUIT
    [ -n "$BUSY_PID" ] && kill "$BUSY_PID" 2>/dev/null
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
python3 - "$MANIFEST" "$COLLECT/fleet-cut.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["defaults"]["repeats"] = 6
m["description"] = "The fleet self-test's cut-off phase: the same cases, 6 runs each."
json.dump(m, open(sys.argv[2], "w"), indent=1)
EOF
# The archive unpacked here too: merge and compare run from the same drivers.
tar -C "$COLLECT" -xzf "$COLLECT/$ARCH"
LOCK=$TMP/measure.lock
# Each host's csgb, through the one lock (see 1. above); a busy loop beside fleet-b's
# runs when FLEET_SELFTEST_INJECT=busy-b (the check must then fail).
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
    echo "$UNPACK && python3 $PKG/$SWEEP {} --csgb ./csgb-locked --no-plots --out $1/\$(hostname)"
}

# ------------------------------------------------------------------ 1. two hosts, one answer
RUN1=fleet-run1
say "1. both hosts: $(sweep_job $RUN1)"
timeout 150 "${PARALLEL[@]}" --onall -j2 --return "$RUN1" "$(sweep_job $RUN1)" ::: fleet.json \
    > "$TMP/run1.log" 2>&1 || { cat "$TMP/run1.log"; fail "the sweep on both hosts failed"; }
grep -E '^fleet-[ab]\s+sweep: [0-9]+ run\(s\) in' "$TMP/run1.log" || true
for h in a b; do
    [ -f "$RUN1/fleet-$h/results.json" ] || { cat "$TMP/run1.log"; fail "fleet-$h's results were not returned ($RUN1/fleet-$h/results.json)"; }
done
python3 "$PKG/$SWEEP" --merge "$RUN1/fleet-a" "$RUN1/fleet-b" --out merged1 --no-plots > "$TMP/merge1.log" 2>&1 ||
    { cat "$TMP/merge1.log"; fail "sweep.py --merge failed"; }
grep -q "fleet-a" merged1/summary.md && grep -q "fleet-b" merged1/summary.md ||
    fail "the merged summary has no column per host (merged1/summary.md names neither fleet-a nor fleet-b)"
python3 "$PKG/$COMPARE" "$RUN1/fleet-a" "$RUN1/fleet-b" --by host --alpha "$ALPHA" > "$TMP/compare1.txt" ||
    fail "compare.py failed"
cat "$TMP/compare1.txt"
python3 "$PKG/$COMPARE" "$RUN1/fleet-a" "$RUN1/fleet-b" --by host --alpha "$ALPHA" --format json > compare1.json
python3 - compare1.json <<'EOF' || fail "compare.py's verdicts for two hosts that are one machine (see above)"
import json, sys
doc = json.load(open(sys.argv[1]))
cols = doc["columns"]
assert sorted(cols) == ["fleet-a", "fleet-b"], "columns %s, want one per host" % cols
verdicts = [r for r in doc["rows"] if r["input"] != cols[0] and r["p_value"] is not None]
sig = [r for r in verdicts if r["significant"]]
print("fleet-selftest: %d case(s) with a verdict, %d significant (alpha %g)"
      % (len(verdicts), len(sig), doc["alpha"]))
for r in sig:
    print("fleet-selftest:   %s: ratio %.3f, p = %.2g" % (r["case"], r["ratio"], r["p_value"]))
if not verdicts:
    print("fleet-selftest: no case had enough runs for a verdict: the check would prove nothing")
    sys.exit(1)
sys.exit(1 if sig else 0)
EOF
say "1. passed: both hosts returned over ssh, merged (column per host), compare reads ~ on every case"

# ------------------------------------------------------------------ 2. a host cut off
RUN2=fleet-run2
CUT_AFTER=3
say "2. both hosts again; fleet-b cut off after $CUT_AFTER runs"
"${PARALLEL[@]}" --onall -j2 --line-buffer --return "$RUN2" "$(sweep_job $RUN2)" ::: fleet-cut.json \
    > "$TMP/run2.log" 2>&1 &
PAR2=$!
cut=0
for _ in $(seq 600); do
    if grep -qE "^fleet-b\s+\[ *$CUT_AFTER/" "$TMP/run2.log"; then cut=1; break; fi
    kill -0 "$PAR2" 2>/dev/null || break
    sleep 0.1
done
[ "$cut" = 1 ] || { cat "$TMP/run2.log"; fail "fleet-b never reached run $CUT_AFTER"; }
# fleet-b goes away: its sshd and every session it serves.
for pid in $(ip netns pids "${NS[b]}"); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] && kill -KILL "$pid" 2>/dev/null
done
say "2. cut fleet-b's sshd off: $(grep -E "^fleet-b\s+\[" "$TMP/run2.log" | tail -1)"
status=0
wait "$PAR2" || status=$?
[ "$status" -ne 0 ] || fail "parallel reported success although fleet-b was cut off"
say "2. parallel exited $status (a job failed: fleet-b)"
python3 - "$RUN2/fleet-a/results.json" <<'EOF' || fail "fleet-a did not complete while fleet-b was cut off"
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
ok = [r for r in runs if r["status"] == "ok"]
print("fleet-selftest: fleet-a returned: %d run(s), %d ok, interrupted: %s" % (len(runs), len(ok), d["interrupted"]))
sys.exit(0 if len(ok) == len(runs) == 12 and not d["interrupted"] else 1)
EOF
[ ! -e "$RUN2/fleet-b/results.json" ] || fail "fleet-b's results came back although it was cut off"
# Its sweep ends on its own (parallel's remote wrapper stops it when its ssh goes away).
for _ in $(seq 100); do
    [ -z "$(ip netns pids "${NS[b]}")" ] && break
    sleep 0.1
done
[ -z "$(ip netns pids "${NS[b]}")" ] || fail "fleet-b's sweep still runs after its sshd was killed"
start_sshd b
say "2. fleet-b is back (sshd pid $SSHD_PID_b)"
ssh -F "$TMP/client/config" fleet-b python3 - "$RUN2/fleet-b/results.json" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
ok = [r for r in runs if r["status"] == "ok"]
print("fleet-selftest: fleet-b kept its partial folder: %d of 12 run(s) ok, interrupted: %s" % (len(ok), d["interrupted"]))
sys.exit(0 if 0 < len(ok) < 12 else 1)
EOF
    fail "fleet-b's partial folder was not kept on fleet-b"
RESUME="python3 $PKG/$SWEEP --resume $RUN2/\$(hostname)"
say "2. resume: $RESUME"
timeout 60 parallel --will-cite --ssh "ssh -F $TMP/client/config" -S fleet-b --tag --return "$RUN2" --nonall "$RESUME" \
    > "$TMP/resume.log" 2>&1 || { cat "$TMP/resume.log"; fail "sweep.py --resume on fleet-b failed"; }
grep -E "resuming|run\(s\) in" "$TMP/resume.log" || true
python3 - "$RUN2/fleet-b/results.json" <<'EOF' || fail "fleet-b's resumed folder is not complete"
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
ok = [r for r in runs if r["status"] == "ok"]
print("fleet-selftest: fleet-b returned after --resume: %d run(s), %d ok, resumed %d time(s)" % (len(runs), len(ok), len(d["resumed"])))
sys.exit(0 if len(ok) == len(runs) == 12 and len(d["resumed"]) == 1 else 1)
EOF
python3 "$PKG/$SWEEP" --merge "$RUN2/fleet-a" "$RUN2/fleet-b" --out merged2 --no-plots > "$TMP/merge2.log" 2>&1 ||
    { cat "$TMP/merge2.log"; fail "sweep.py --merge after the resume failed"; }
python3 "$PKG/$COMPARE" "$RUN2/fleet-a" "$RUN2/fleet-b" --by host > /dev/null || fail "compare.py after the resume failed"
say "2. passed: fleet-a complete, fleet-b's partial folder kept and resumed, both merged"

elapsed=$((SECONDS - START))
[ "$elapsed" -le "$LIMIT" ] || fail "took ${elapsed} s, more than ${LIMIT} s"
say "passed in ${elapsed} s"
