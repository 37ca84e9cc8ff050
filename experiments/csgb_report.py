"""Reading csgb's JSON report from a run's stdout, shared by bench.py and sweep.py."""
import json
from pathlib import Path


def parse_report(stdout):
    """The report object from csgb's stdout. csgb prints exactly one JSON object;
    anything around it (a wrapper's banner) is tolerated. Raises ValueError when
    there is no report or it lacks ns_per_iteration."""
    text = stdout.strip()
    try:
        doc = json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("no JSON object in stdout")
        try:
            doc = json.loads(text[start:end + 1])
        except ValueError as error:
            raise ValueError("unparsable JSON: %s" % error)
    if not isinstance(doc, dict):
        raise ValueError("stdout is JSON but not an object")
    ns = doc.get("ns_per_iteration")
    if not isinstance(ns, (int, float)) or isinstance(ns, bool):
        raise ValueError("report lacks ns_per_iteration")
    return doc


def resolve_binary(path, repo):
    """`path` as given, or relative to the repository when it does not exist from
    the current directory (so both scripts work from anywhere)."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = Path(repo) / path
    return path
