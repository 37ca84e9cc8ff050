#!/usr/bin/env python3
"""Tests that the docs still describe the code: every option and file the docs name
exists, docs/architecture.md's file list matches Sources/, no Swift outside
Sources/CSGB/Modes/ names a mode (the registry's cases), and every results folder is
named <date>T<time>-<host>-<what> with its README. Needs a built csgb
(for its options, from `csgb --experimental-dump-help`); `make test` runs it after
`swift build`.

    python3 experiments/tests/docs_test.py [--csgb .build/debug/csgb]

Each check returns the list of its findings; a test fails when the list is not
empty. Every check is also run on a text made to break it, so that a check that can
no longer fail is itself a failure.
"""

import glob
import json
import os
import re
import subprocess
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.dirname(TESTS)
REPO = os.path.dirname(EXPERIMENTS)
sys.path.insert(0, os.path.join(EXPERIMENTS, "lib"))

DOCS = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
# Options of other programs that the docs name beside csgb's and the experiments'
# (swift build, perf, GNU parallel, csgb's own parser): each with its program.
OTHER_TOOLS = {
    "--static-swift-stdlib": "swift build", "--scratch-path": "swift build",
    "--no-parallel": "swift test", "--filter": "swift test",
    "--skip-build": "swift test", "--experimental-dump-help": "swift-argument-parser",
    "--no-buildid": "perf record", "--no-buildid-cache": "perf record",
    "--no-bpf-event": "perf record", "--kernel-callchains": "perf", "--control": "perf stat",
    "--onall": "GNU parallel", "--sshloginfile": "GNU parallel", "--sshlogin": "GNU parallel",
    "--workdir": "GNU parallel", "--return": "GNU parallel", "--tag": "GNU parallel",
    "--basefile": "GNU parallel", "--transferfile": "GNU parallel", "--nonall": "GNU parallel",
    "--line-buffer": "GNU parallel", "--ssh": "GNU parallel", "--will-cite": "GNU parallel",
    "--generate-completion-script": "swift-argument-parser", "--product": "swift build",
    "--shared": "packaging/dist.sh",
    "--foreground": "timeout",
}
PATH_RE = re.compile(r"(?<![\w./-])((?:Sources|Tests|experiments|docs|Plugins)/[\w./+-]*[\w/])")


def csgb_options(csgb):
    """Every long option of every csgb subcommand, hidden ones included (a doc may
    name a test hook), with --no- inversions."""
    p = subprocess.run([csgb, "--experimental-dump-help"], stdout=subprocess.PIPE, text=True, timeout=60)
    top = json.loads(p.stdout)["command"]
    out = set()

    def walk(c):
        for a in c.get("arguments") or []:
            for n in a.get("names") or []:
                if n["kind"] in ("long", "longWithSingleDash"):
                    out.add("--" + n["name"])
        for s in c.get("subcommands") or []:
            walk(s)
    walk(top)
    return out


def experiment_options():
    """Every option an experiments/ script declares (drivers, tests, one-offs)."""
    out = set()
    for path in glob.glob(os.path.join(EXPERIMENTS, "**", "*.py"), recursive=True):
        with open(path, errors="replace") as f:
            out.update(re.findall(r"add_argument\(\s*\"(--[a-z][a-z0-9-]*)\"", f.read()))
    return out


def code_spans(text):
    """The text of every `code span` and fenced code block (where docs name options
    and files)."""
    spans = re.findall(r"```.*?```", text, re.S)
    rest = re.sub(r"```.*?```", "", text, flags=re.S)
    return spans + re.findall(r"`([^`\n]+)`", rest)


def unknown_options(docs, known):
    """[(doc, option)] for each --option in a code span that no program knows."""
    found = []
    for name, text in docs:
        for span in code_spans(text):
            for o in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", span):
                if o not in known and o not in OTHER_TOOLS:
                    found.append((name, o))
    return sorted(set(found))


def missing_files(docs, root=REPO):
    """[(doc, path)] for each repository path a doc names (in code or a link target)
    that does not exist; templates (<date>, *, …) are not paths."""
    found = []
    for name, text in docs:
        for m in PATH_RE.finditer(text):
            path = m.group(1).rstrip(".")
            if any(c in path for c in "<>*{}") or "…" in path:
                continue
            if path.startswith("experiments/baselines/bin/"):
                # built by `make baselines` (git-ignored): its source must exist
                stem = os.path.basename(path)
                if not glob.glob(os.path.join(root, "experiments", "baselines", "**", stem + ".*"),
                                 recursive=True) and not glob.glob(os.path.join(
                                     root, "experiments", "baselines", "**", stem), recursive=True):
                    found.append((name, path))
                continue
            if not os.path.exists(os.path.join(root, path)):
                found.append((name, path))
    return sorted(set(found))


def architecture_mismatch(text, root=REPO):
    """(Swift files not in docs/architecture.md's file list, names the list gives
    that are neither a Swift file, a folder of Sources/ nor a type declared there)."""
    block = text.split("## The files", 1)[1].split("```")[1]
    sources = block.split("Plugins/", 1)[0]
    tokens = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sources))
    files = {os.path.splitext(os.path.basename(p))[0]
             for p in glob.glob(os.path.join(root, "Sources", "**", "*.swift"), recursive=True)}
    folders = {os.path.basename(p.rstrip("/")) for p in glob.glob(os.path.join(root, "Sources", "**/"), recursive=True)}
    types = set()
    for p in glob.glob(os.path.join(root, "Sources", "**", "*.swift"), recursive=True):
        with open(p, errors="replace") as f:
            types.update(re.findall(r"\b(?:struct|class|enum|protocol|actor|typealias|extension)\s+([A-Z]\w*)", f.read()))
    unlisted = sorted(files - tokens)
    # a listed name: CamelCase with two humps or more (FutexWord, BlockingInterpreter)
    named = {t for t in tokens if re.fullmatch(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Z]{2,}[a-z]\w*", t)}
    unknown = sorted(n for n in named if n not in files and n not in folders and n not in types
                     and n not in {"TaskExecutor", "SystemError", "Errno"} | set())
    return unlisted, unknown


def mode_names(root=REPO):
    """The modes, from their registry (the cases of `Mode` in Modes/Mode.swift)."""
    with open(os.path.join(root, "Sources", "CSGB", "Modes", "Mode.swift")) as f:
        text = f.read()
    body = text.split("enum Mode", 1)[1].split("var traits", 1)[0]
    return re.findall(r"^\s*case (\w+)\s*$", body, re.M)


def swift_naming_modes(files, modes):
    """(path:line, text) of each code line (comments aside) of a Swift file outside
    Sources/CSGB/Modes/ that names a mode: `Mode.green`, `mode == .green`, a type
    `GreenMode`, or a string with `--mode green`, "green", "green mode", "green and
    async". Such a line decides or says something a mode's traits should."""
    names = "|".join(modes)
    types = "|".join(m[0].upper() + m[1:] for m in modes)
    pattern = re.compile(r"Mode\.(%s)\b|mode\s*[!=]=\s*\.(%s)\b|\b(%s)Mode\b|--mode (%s)\b|\"(%s)\"|\b(%s) modes?\b"
                         r"|\b(%s) and (%s)\b" % (names, names, types, names, names, names + "|" + types, names, names))
    hits = []
    for path, text in files:
        for i, line in enumerate(text.splitlines(), 1):
            code = line.split("//", 1)[0] if not line.lstrip().startswith("//") else ""
            if pattern.search(code):
                hits.append("%s:%d: %s" % (path, i, line.strip()[:120]))
    return hits


def swift_outside_modes(root=REPO):
    out = []
    for path in sorted(glob.glob(os.path.join(root, "Sources", "**", "*.swift"), recursive=True)):
        rel = os.path.relpath(path, root)
        if rel.startswith(os.path.join("Sources", "CSGB", "Modes") + os.sep):
            continue
        with open(path, errors="replace") as f:
            out.append((rel, f.read()))
    return out


RESULT_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}-[A-Za-z0-9]+-[A-Za-z0-9._-]+$")


def results_misnamed(root=REPO):
    """Folders of experiments/results/ not named <YYYY-MM-DD>T<HHMMSS>-<host>-<what> or
    without a README.md (experiments/results/README.md), and loose files there."""
    base = os.path.join(root, "experiments", "results")
    found = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if name == "README.md":
            continue
        if not os.path.isdir(path):
            found.append("%s: a loose file (results go in a folder of their own)" % name)
        elif not RESULT_NAME.match(name):
            found.append("%s: not named <YYYY-MM-DD>T<HHMMSS>-<host>-<what>" % name)
        elif not os.path.isfile(os.path.join(path, "README.md")):
            found.append("%s: no README.md (command, commit, machine, what it showed)" % name)
    return found


def read_docs():
    out = []
    for path in DOCS:
        with open(path) as f:
            out.append((os.path.relpath(path, REPO), f.read()))
    return out


def main(argv):
    csgb = argv[argv.index("--csgb") + 1] if "--csgb" in argv else os.path.join(REPO, ".build", "debug", "csgb")
    if not os.path.isfile(csgb) and os.path.isfile(os.path.join(REPO, csgb)):
        csgb = os.path.join(REPO, csgb)     # given relative to the repository
    if not os.path.isfile(csgb):
        print("docs_test: %s not found: build it first (swift build)" % csgb, file=sys.stderr)
        return 64
    csgb = os.path.abspath(csgb)
    docs = read_docs()
    known = csgb_options(csgb) | experiment_options()
    failures = []

    def check(name, findings, broken):
        if findings:
            failures.append(name)
            print("FAILED   %s:" % name)
            for f in findings:
                print("           %s" % (f,))
        else:
            print("ok       %s" % name)
        if not broken:
            failures.append(name + " (cannot fail)")
            print("FAILED   %s: the check found nothing in a text made to break it" % name)

    check("every option the docs name exists", unknown_options(docs, known),
          unknown_options([("made", "run `csgb socket 1 --no-such-option`")], known))
    check("every file the docs name exists", missing_files(docs),
          missing_files([("made", "see `Sources/CSGB/Modes/NoSuchMode.swift`")]))
    with open(os.path.join(REPO, "docs", "architecture.md")) as f:
        arch = f.read()
    unlisted, unknown = architecture_mismatch(arch)
    check("architecture.md lists every Swift source file", unlisted,
          architecture_mismatch(arch.replace("BlockingInterpreter", "Blocking"))[0])
    check("every name in architecture.md's file list exists", unknown,
          architecture_mismatch(arch.replace("RunQueue", "RunQueue, NoSuchThing"))[1])
    modes = mode_names()
    check("no Swift outside Sources/CSGB/Modes/ names a mode", swift_naming_modes(swift_outside_modes(), modes),
          swift_naming_modes([("made", 'help: "Same as --mode %s"' % modes[0]), ("made2", "if mode != .%s {" % modes[1])],
                             modes) if len(modes) >= 2 else [])
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "experiments", "results", "2026-12-07T0905-vm-x"))
        broken = results_misnamed(tmp)
    check("every results folder is named one way and has a README", results_misnamed(), broken)
    print("docs_test: %d check(s) failed" % len(failures) if failures else "docs_test: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
