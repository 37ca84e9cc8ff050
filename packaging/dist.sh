#!/bin/sh
# packaging/dist.sh CSGB GENERATE_MANUAL OUTDIR: csgb-<version>-linux-<arch>.tar.gz in
# OUTDIR, from a --static-swift-stdlib build CSGB. The archive holds one folder:
#   bin/csgb, share/...          the installed layout (packaging/stage.sh)
#   experiments/...              every file git tracks under experiments/ except
#                                results/: the drivers and manifests, wherever they sit
#   README.md                    packaging/README-archive.md
#   BUILD                        csgb --version, the commit, the toolchain, ldd's output
# Refuses a binary that still needs the Swift runtime, liburing or libnuma as shared
# libraries: the archive is for hosts that have none of them.
#   packaging/dist.sh --shared CSGB ...: the same archive from a build that uses the
#   Swift runtime and liburing/libnuma as shared libraries (the fleet self-test, whose
#   hosts are this machine).
set -eu
shared=0
if [ "$1" = --shared ]; then shared=1; shift; fi
csgb=$1 generate_manual=$2 outdir=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

needs=$(ldd "$csgb" | awk '{print $1}' | grep -E '^lib(swift|Foundation|dispatch|BlocksRuntime|uring|numa)' || true)
if [ -n "$needs" ] && [ $shared = 0 ]; then
    echo "dist: $csgb needs these shared libraries, which a host without Swift, liburing or libnuma lacks:" >&2
    echo "$needs" | sed 's/^/  /' >&2
    echo "dist: build it with make release-static (it links them statically)" >&2
    exit 1
fi
version=$("$csgb" --version | awk '{print $2}')
arch=$(uname -m)
name=csgb-$version-linux-$arch
stage=$outdir/$name
mkdir -p "$outdir"
rm -rf "$stage" "$outdir/$name.tar.gz"
"$here/stage.sh" "$csgb" "$generate_manual" "$stage"

# The experiments by a rule rather than a list, so that files moving inside
# experiments/ need no change here: what git tracks there, results excepted.
(cd "$repo" && git ls-files -z -- experiments ':!:experiments/results') |
    (cd "$repo" && xargs -0 tar cf -) | (cd "$stage" && tar xf -)
[ -n "$(find "$stage/experiments" -name '*.json' -path '*manifests*' | head -1)" ] ||
    { echo "dist: no manifests found under experiments/" >&2; exit 1; }
cp "$here/README-archive.md" "$stage/README.md"
{
    "$csgb" --version
    echo "commit: $(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
    echo "toolchain: $(swift --version 2>/dev/null | head -1)"
    echo "ldd bin/csgb:"
    ldd "$csgb" | sed 's/ (0x[0-9a-f]*)//; s/^/  /'
} > "$stage/BUILD"
tar -C "$outdir" -czf "$outdir/$name.tar.gz" "$name"
echo "dist: $outdir/$name.tar.gz ($(du -h "$outdir/$name.tar.gz" | cut -f1))"
(cd "$outdir" && tar tzf "$name.tar.gz" | grep -v '/$' | sed 's/^/  /' | head -20)
echo "  ... $(tar tzf "$outdir/$name.tar.gz" | grep -vc '/$') files"
