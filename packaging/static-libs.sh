#!/bin/sh
# packaging/static-libs.sh DIR LIB...: makes DIR hold only lib<LIB>.a for each LIB
# (links to the system's archives), so that `-L DIR` ahead of the system's folders
# makes the linker take the static archive for -l<LIB>. A missing archive is named,
# with the package that ships it, before anything is built.
set -eu
dir=$1; shift
cc=${CC:-cc}
rm -rf "$dir"
mkdir -p "$dir"
for lib in "$@"; do
    path=$("$cc" -print-file-name="lib$lib.a" 2>/dev/null || true)
    case $path in
    /*) [ -f "$path" ] || path= ;;
    *) path= ;;
    esac
    if [ -z "$path" ]; then
        echo "static build: lib$lib.a not found (Debian: apt-get install lib$lib-dev, or make setup); without it the binary would need lib$lib's shared library where it runs" >&2
        exit 1
    fi
    ln -s "$path" "$dir/lib$lib.a"
done
