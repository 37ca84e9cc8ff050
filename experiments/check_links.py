#!/usr/bin/env python3
"""Follows every relative Markdown link in the project's documentation and fails
listing each one that leads nowhere.

Checked: README.md, experiments/README.md, every docs/**/*.md and every README.md
under experiments/results/. A link's target must
exist inside the repository (file or directory); a `#anchor` must name a heading (or an
explicit `id`/`name` attribute) of the target Markdown file, or of the file itself for a
bare `#anchor`. Absolute URLs (`https:`, `mailto:` …) are not fetched: the check runs
offline. Links inside fenced code blocks and inline code are not links and are skipped.

Usage: python3 experiments/check_links.py [--root DIR] [FILE.md ...]
Exit status: 0 when every link resolves, 1 when any is broken (each printed as
`file:line: target: reason`), 64 for bad arguments.
"""

import argparse
import os
import re
import sys
import unicodedata
from urllib.parse import unquote

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+)(?:.+?)\1")
# [text](target) and [text](target "title"); images too. The text may hold one level of
# nested brackets ([`a[0]`](x)); the target may be wrapped in <...>.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
EXPLICIT_ID = re.compile(r"""<[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']""")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def strip_inline_markup(text):
    """The heading's text as rendered: code spans keep their content, links their text,
    images their alt text, HTML tags vanish."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("`", "")
    return text


def slug(heading):
    """GitHub's anchor for a heading: lower case, every character that is not a letter,
    a digit, a space, a hyphen or an underscore dropped, spaces turned into hyphens."""
    text = strip_inline_markup(heading).strip().lower()
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in " -_" or category[0] in "LN" or category == "Mn":
            out.append("-" if ch == " " else ch)
    return "".join(out)


def lines_outside_code(text):
    """(line number, line) for every line not inside a fenced code block."""
    fence = None
    for number, line in enumerate(text.split("\n"), start=1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)[0] * len(match.group(1))
                continue
            yield number, line
        elif match and match.group(1).startswith(fence):
            fence = None


def anchors_of(path, cache):
    if path not in cache:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            cache[path] = None
            return None
        found, counts, previous = set(), {}, None
        for _, line in lines_outside_code(text):
            match = HEADING.match(line)
            title = match.group(2) if match else None
            if title is None and previous and previous.strip() and SETEXT.match(line) \
                    and not HEADING.match(previous) and not previous.lstrip().startswith(("|", "-", "*", ">")):
                title = previous.strip()
            if title is not None:
                base = slug(title)
                n = counts.get(base, 0)
                counts[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
            found.update(EXPLICIT_ID.findall(line))
            previous = line
        cache[path] = found
    return cache[path]


def links_in(text):
    """(line number, target) of every inline link and reference definition."""
    for number, line in lines_outside_code(text):
        definition = REFERENCE_DEF.match(line)
        if definition:
            yield number, definition.group(1)
            continue
        code_free = INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
        for match in INLINE_LINK.finditer(code_free):
            yield number, match.group(1)


def check_file(path, root, cache):
    """Every broken link of one Markdown file, as (line, target, reason)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    broken = []
    for number, raw in links_in(text):
        target = raw[1:-1] if raw.startswith("<") and raw.endswith(">") else raw
        if not target or SCHEME.match(target) or target.startswith("//"):
            continue
        file_part, _, anchor = target.partition("#")
        file_part = unquote(file_part)
        if file_part.startswith("/"):
            broken.append((number, raw, "absolute path: link relative to the file instead"))
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if os.path.relpath(resolved, root).startswith(".."):
            broken.append((number, raw, "leads outside the repository"))
            continue
        if not os.path.exists(resolved):
            broken.append((number, raw, "no such file or directory"))
            continue
        if not anchor:
            continue
        if os.path.isdir(resolved) or not resolved.endswith(".md"):
            continue  # an anchor into a non-Markdown file is the viewer's business
        anchors = anchors_of(resolved, cache)
        if anchors is None:
            broken.append((number, raw, "target is not readable text"))
        elif unquote(anchor).lower() not in anchors:
            broken.append((number, raw, f"no heading '#{anchor}' in {os.path.relpath(resolved, root)}"))
    return broken


def default_files(root):
    files = [os.path.join(root, "README.md"), os.path.join(root, "experiments", "README.md")]
    results = os.path.join(root, "experiments", "results")
    if os.path.isdir(results):
        files.append(os.path.join(results, "README.md"))
        files += sorted(os.path.join(results, d, "README.md") for d in os.listdir(results)
                        if os.path.isfile(os.path.join(results, d, "README.md")))
    for directory, subdirectories, names in os.walk(os.path.join(root, "docs")):
        subdirectories.sort()
        files += [os.path.join(directory, name) for name in sorted(names) if name.endswith(".md")]
    return [f for f in files if os.path.isfile(f)]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                        help="the repository to check (default: this script's repository)")
    parser.add_argument("files", nargs="*", help="Markdown files to check instead of the default set")
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit:
        return 0 if exit.code == 0 else 64
    root = os.path.abspath(options.root)
    if not os.path.isdir(root):
        print(f"check_links: --root {options.root}: not a directory", file=sys.stderr)
        return 64
    files = [os.path.abspath(f) for f in options.files] or default_files(root)
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        print(f"check_links: no such file: {missing[0]}", file=sys.stderr)
        return 64
    cache, broken, links = {}, 0, 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            links += sum(1 for _ in links_in(f.read()))
        for number, target, reason in check_file(path, root, cache):
            print(f"{os.path.relpath(path, root)}:{number}: {target}: {reason}")
            broken += 1
    if broken:
        print(f"check_links: {broken} broken link(s) in {len(files)} file(s)", file=sys.stderr)
        return 1
    print(f"check_links: {links} link(s) in {len(files)} file(s), all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
