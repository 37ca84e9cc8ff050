#!/bin/sh
# packaging/install-check.sh MAKE [VAR=VALUE...]: make install into a new DESTDIR puts
# exactly the five files of the installed layout there; man renders the page; each
# completion script is the one csgb prints; make uninstall removes those five and
# leaves a file of someone else's in the same folders. Exit 1 naming what differs.
set -eu
make=$1; shift
dest=$(mktemp -d /tmp/csgb-install-check.XXXXXX)
trap 'rm -rf "$dest"' EXIT INT TERM HUP
fail() { echo "install-check: FAILED: $*" >&2; exit 1; }
prefix=/usr/local
want="bin/csgb
share/bash-completion/completions/csgb
share/fish/vendor_completions.d/csgb.fish
share/man/man1/csgb.1
share/zsh/site-functions/_csgb"

"$make" --no-print-directory install DESTDIR="$dest" "$@"
got=$(cd "$dest$prefix" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
[ "$got" = "$want" ] || fail "installed files differ from the layout:
$got"
"$dest$prefix/bin/csgb" --version >/dev/null || fail "the installed csgb does not run"
page=$(MANWIDTH=100 man -l -P cat "$dest$prefix/share/man/man1/csgb.1" 2>&1) || fail "man -l: $page"
echo "$page" | grep -q "^NAME" && echo "$page" | grep -qE "^ +socket +" ||
    fail "man -l rendered no NAME section or no socket subcommand:
$(echo "$page" | head -20)"
echo "install-check: man -l renders $(echo "$page" | wc -l) lines; $(echo "$page" | sed -n '/^NAME/{n;p;q}' | sed 's/^ *//' | cut -c1-70)"
for sh in bash zsh fish; do
    case $sh in bash) f=share/bash-completion/completions/csgb;; zsh) f=share/zsh/site-functions/_csgb;;
                fish) f=share/fish/vendor_completions.d/csgb.fish;; esac
    "$dest$prefix/bin/csgb" --generate-completion-script $sh | cmp -s - "$dest$prefix/$f" ||
        fail "$f is not csgb's $sh completion script"
done
bash -n "$dest$prefix/share/bash-completion/completions/csgb" || fail "the bash completion does not parse"

echo "someone else's" > "$dest$prefix/share/man/man1/other.1"
"$make" --no-print-directory uninstall DESTDIR="$dest"
left=$(cd "$dest$prefix" && find . -type f | sed 's|^\./||')
[ "$left" = share/man/man1/other.1 ] || fail "after make uninstall: '$left' (want only share/man/man1/other.1)"
echo "install-check: passed (make install put the 5 files under DESTDIR, make uninstall removed exactly those)"
