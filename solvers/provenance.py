"""Provenance and output files: parameters, versions, git hash, JSON summaries."""

from __future__ import annotations

import datetime
import json
import math
import os
import subprocess
import sys


def git_hash():
    """The git commit of the ephkin checkout (with '-dirty' if modified), or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(parameters: dict) -> dict:
    """Everything needed to reproduce a result: command line, parameters, versions, git hash, time."""
    from .petsc_env import versions

    return {
        "command": sys.argv,
        "parameters": parameters,
        "versions": versions(install=False),
        "git": git_hash(),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def to_jsonable(obj):
    """numpy scalars/arrays and tuples to plain JSON types; non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, float):  # np.float64 too
        return float(obj) if math.isfinite(obj) else None
    # numpy only if it is loaded: there are no numpy values otherwise (the command line imports this module
    # before it knows whether the command needs numpy at all, e.g. for --version)
    np = sys.modules.get("numpy")
    if np is None:
        return obj
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_json(path: str, obj: dict):
    """Write ``obj`` as indented JSON atomically (a private temporary file renamed over ``path``: never through a
    symbolic link, never half a file; ``safefile``)."""
    from .safefile import write_text_atomic

    write_text_atomic(path, json.dumps(to_jsonable(obj), indent=2) + "\n")
