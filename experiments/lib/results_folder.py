"""A results folder, claimed and read safely: what every driver that writes a folder
(sweep.py, its --merge and --resume, compare.py --plot) and every reader of one
(--resume, --merge, --resummarize, the summary scripts) shares.

- A folder is claimed before anything runs: created if missing, checked writable
  (a probe file, since a read-only mount is only found by writing), and marked with
  a claim file created with O_EXCL, so that of two drivers started at once on the
  same folder exactly one proceeds and the other is refused in one line.
- results.json is read with its shape checked, so that a truncated file, `[]` or an
  object without its cases, runs or manifest is one line, never a traceback.

Exit codes (experiments/README.md, "Exit codes"): 64 for input or a folder that
cannot be used as asked (holds files, claimed by another driver, unreadable
results.json); 73 (EX_CANTCREAT) for a folder that cannot be created or written.
"""

import json
import os
from pathlib import Path

EXIT_USAGE = 64
EXIT_CANTCREAT = 73
CLAIM = ".claimed"


class FolderError(Exception):
    """A folder or results.json that cannot be used; `code` is the exit status."""

    def __init__(self, message, code=EXIT_USAGE):
        Exception.__init__(self, message)
        self.code = code


def check_writable(folder):
    """Raises FolderError(73) unless a file can be created in `folder` (an existing
    folder): the probe is written and removed."""
    probe = Path(folder) / (".write-probe-%d" % os.getpid())
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise FolderError("%s: cannot write there (%s)" % (folder, e.strerror or e), EXIT_CANTCREAT)


def make_folder(folder):
    """Creates `folder` and its parents; FolderError(73) with the reason when it cannot."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FolderError("%s: cannot create it (%s)" % (folder, e.strerror or e), EXIT_CANTCREAT)
    if not Path(folder).is_dir():
        raise FolderError("%s: exists and is not a folder" % folder)


def claim(folder, what, allow_files=False):
    """Claims `folder` for one driver: creates it if missing, checks it is writable,
    refuses it when it holds files (unless allow_files: --resume writes into its own
    folder), and creates the claim file exclusively. Returns the claim's path (remove
    it with release()). Raises FolderError."""
    folder = Path(folder)
    make_folder(folder)
    check_writable(folder)
    path = folder / CLAIM
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            holder = path.read_text().strip()
        except OSError:
            holder = "?"
        raise FolderError("%s: claimed by another run (%s); if none runs, remove %s"
                          % (folder, holder or "no details", path))
    except OSError as e:
        raise FolderError("%s: cannot write there (%s)" % (folder, e.strerror or e), EXIT_CANTCREAT)
    with os.fdopen(fd, "w") as f:
        f.write("%s, pid %d\n" % (what, os.getpid()))
    others = [p.name for p in folder.iterdir() if p.name != CLAIM]
    if others and not allow_files:
        os.unlink(path)
        raise FolderError("%s: holds files (%s); results are never rewritten: name a new "
                          "folder" % (folder, ", ".join(sorted(others)[:3])))
    return path


def release(claim_path):
    try:
        os.unlink(claim_path)
    except OSError:
        pass


def read_results(folder, need=("cases", "runs"), nonempty=False):
    """results.json of a sweep folder as a dict, with the keys `need` checked (cases
    and runs lists, a manifest object). Raises FolderError(64) naming what is wrong."""
    path = Path(folder) / "results.json"
    try:
        text = path.read_text()
    except OSError as e:
        raise FolderError("%s: %s" % (path, e.strerror or e))
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise FolderError("%s: not JSON (%s): a truncated or foreign file" % (path, e))
    if not isinstance(doc, dict):
        raise FolderError("%s: a JSON %s, not a sweep's results object"
                          % (path, type(doc).__name__))
    for key in need:
        want = dict if key in ("manifest", "csgb_info") else list
        if not isinstance(doc.get(key), want):
            raise FolderError("%s: no %s %s in it (not a complete sweep's results.json)"
                              % (path, "object" if want is dict else "list", key))
    if nonempty and not (doc.get("runs") and doc.get("cases")):
        raise FolderError("%s: holds no case or no run" % path)
    for i, r in enumerate(doc.get("runs") or []):
        if not isinstance(r, dict) or "case_id" not in r:
            raise FolderError("%s: run %d is not a run record" % (path, i + 1))
    for i, c in enumerate(doc.get("cases") or []):
        if not isinstance(c, dict) or "id" not in c:
            raise FolderError("%s: case %d is not a case record" % (path, i + 1))
    return doc


def check_new_file(path):
    """Before any run: `path` must not exist (64) and its folder must be writable (73,
    created if missing). Raises FolderError."""
    path = Path(path)
    if path.exists():
        raise FolderError("%s exists; results are never overwritten: name a new file" % path)
    make_folder(path.parent)
    check_writable(path.parent)


def write_new_file(path, text):
    """Writes `text` to `path`, which must not exist: written beside, then linked to
    its name, so that a file that appeared meanwhile is never overwritten
    (FileExistsError) and a half-written file never carries the name."""
    path = Path(path)
    partial = path.with_name(".%s.%d.partial" % (path.name, os.getpid()))
    try:
        with open(partial, "w") as f:
            f.write(text)
        os.link(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
