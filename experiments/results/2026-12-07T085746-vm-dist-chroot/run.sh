#!/bin/sh
# The archive of make dist in a Debian root with no Swift, no liburing and no libnuma.
#   run.sh ROOT ARCHIVE      (as root; ROOT made once by hand with
#   debootstrap --variant=minbase bookworm ROOT http://deb.debian.org/debian)
# Every command is echoed with "$ " before its output. /proc, /sys and tracefs are
# mounted in ROOT for the runs and unmounted at the end.
set -u
root=$1 archive=$2
name=$(basename "$archive" .tar.gz)
run() { echo "\$ $*"; "$@" 2>&1; echo "[exit $?]"; echo; }
inroot() { echo "\$ chroot ROOT sh -c '$1'"; chroot "$root" sh -c "$1" 2>&1; echo "[exit $?]"; echo; }
cleanup() {
    umount "$root/sys/kernel/tracing" 2>/dev/null
    umount "$root/sys" "$root/proc" 2>/dev/null
}
trap cleanup EXIT INT TERM HUP
size=$(du -sh --exclude=proc --exclude=sys "$root" 2>/dev/null | cut -f1)
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tracefs tracefs "$root/sys/kernel/tracing" 2>/dev/null

echo "# the root: $(cat "$root/etc/debian_version") ($size), what it lacks"
inroot 'cat /etc/os-release | head -1; command -v swift swiftc python3 || echo "no swift, swiftc, python3 on PATH"'
inroot 'dpkg -l | grep -Ei "liburing|libnuma|swift|linux-perf" || echo "no liburing, libnuma, swift or linux-perf package installed"'
inroot 'ls /usr/lib/x86_64-linux-gnu | grep -Ei "uring|numa|swift" || echo "no liburing, libnuma or libswift library in /usr/lib/x86_64-linux-gnu"'
inroot 'ls /opt /usr/share/swift 2>&1'
cp "$archive" "$root/root/"
inroot "cd /root && rm -rf $name && tar xzf $name.tar.gz && ls $name && cat $name/BUILD"
inroot "ldd /root/$name/bin/csgb"
inroot "/root/$name/bin/csgb --version"
inroot "/root/$name/bin/csgb info"
inroot "/root/$name/bin/csgb socket 1 -d 0.2"
inroot "/root/$name/bin/csgb socket 1 --mode green -d 0.2"
inroot "/root/$name/bin/csgb socket 4 --mode green --io uring -d 0.2 | head -3"
if chroot "$root" sh -c 'command -v perf' >/dev/null 2>&1; then
    inroot "perf --version; /root/$name/bin/csgb stat -- socket 1 --mode green --cpus 0 -d 0.5"
else
    echo "# perf is not installed in ROOT: csgb stat not run"
fi
if chroot "$root" sh -c 'command -v python3' >/dev/null 2>&1; then
    # A sweep from the unpacked archive: its folder goes under the current directory
    # (/tmp/sweeps here), and nothing is written into the archive's tree.
    inroot "find /root/$name -newer /root/$name/BUILD -type f | wc -l; mkdir -p /tmp/sweeps && cd /tmp/sweeps && python3 /root/$name/experiments/sweep.py /root/$name/experiments/manifests/quick.json --no-plots 2>&1 | tail -8; ls /tmp/sweeps; echo files written in the archive tree since it was unpacked: \$(find /root/$name -newer /root/$name/BUILD -type f | grep -v __pycache__ | wc -l)"
    rm -rf "$root/tmp/sweeps"
fi
