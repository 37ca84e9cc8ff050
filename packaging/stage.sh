#!/bin/sh
# packaging/stage.sh CSGB GENERATE_MANUAL DIR: writes the installed layout of CSGB
# into a new DIR (make install copies from it, make dist packs it):
#   bin/csgb
#   share/man/man1/csgb.1                      swift-argument-parser's generate-manual
#   share/bash-completion/completions/csgb     csgb --generate-completion-script bash
#   share/zsh/site-functions/_csgb             ... zsh
#   share/fish/vendor_completions.d/csgb.fish  ... fish
# The man page comes from the argument parser itself, so it cannot drift from
# --help; it is dated by the commit (git) so that two builds of one commit agree.
set -eu
csgb=$1 generate_manual=$2 dir=$3
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/share/man/man1" "$dir/share/bash-completion/completions" \
    "$dir/share/zsh/site-functions" "$dir/share/fish/vendor_completions.d"
install -m 755 "$csgb" "$dir/bin/csgb"
date=$(git log -1 --format=%cs 2>/dev/null || date +%Y-%m-%d)
"$generate_manual" "$dir/bin/csgb" --date "$date" --output-directory "$dir/share/man/man1" >/dev/null
[ -s "$dir/share/man/man1/csgb.1" ] || { echo "stage: generate-manual wrote no csgb.1" >&2; exit 1; }
"$dir/bin/csgb" --generate-completion-script bash > "$dir/share/bash-completion/completions/csgb"
"$dir/bin/csgb" --generate-completion-script zsh > "$dir/share/zsh/site-functions/_csgb"
"$dir/bin/csgb" --generate-completion-script fish > "$dir/share/fish/vendor_completions.d/csgb.fish"
