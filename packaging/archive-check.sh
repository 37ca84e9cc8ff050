#!/bin/sh
# packaging/archive-check.sh ARCHIVE: a sweep run from the unpacked archive, from
# another folder and with no --out or --csgb, uses the archive's bin/csgb and writes
# a new results folder under the current directory, and nothing into the archive's
# tree. Exit 1 naming what differs.
set -eu
archive=$1
name=$(basename "$archive" .tar.gz)
tmp=$(mktemp -d /tmp/csgb-archive-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
fail() { echo "archive-check: FAILED: $*" >&2; exit 1; }
mkdir "$tmp/unpacked" "$tmp/work"
tar -C "$tmp/unpacked" -xzf "$archive"
pkg=$tmp/unpacked/$name
[ -x "$pkg/bin/csgb" ] || fail "no bin/csgb in $archive"
cat > "$tmp/one.json" <<'JSON'
{"defaults": {"duration": 0.1, "warmup": 0.05, "repeats": 1, "timeout": 30}, "counters": "off",
 "matrix": [{"workloads": ["socket"], "modes": ["green"], "n": [1], "pinning": [{"cpus": "0"}], "work_sizes": [0]}]}
JSON
touch "$tmp/stamp"
(cd "$tmp/work" && PYTHONDONTWRITEBYTECODE=1 python3 "$pkg/experiments/sweep.py" "$tmp/one.json" --no-plots) > "$tmp/log" 2>&1 ||
    { cat "$tmp/log"; fail "the sweep from the unpacked archive failed"; }
written=$(find "$pkg" -newer "$tmp/stamp" | grep -v __pycache__ || true)
[ -z "$written" ] || fail "the sweep wrote into the archive's tree: $written"
made=$(ls "$tmp/work")
[ "$(echo "$made" | wc -l)" = 1 ] && [ -f "$tmp/work/$made/results.json" ] ||
    fail "no new results folder under the current directory (found: '$made')"
grep -q "\"csgb\": \"$pkg/bin/csgb\"" "$tmp/work/$made/results.json" ||
    fail "the sweep did not use the archive's bin/csgb"
echo "archive-check: passed (a sweep from the unpacked archive wrote ./$made with the archive's bin/csgb, nothing into the archive)"
