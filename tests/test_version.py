"""One version: ephkin.__version__ (the root __init__.py) is what pip installed and what the CLI prints."""

import importlib.metadata
import os
import subprocess
import sys

import ephkin
import ephkin.pde


def test_version_is_the_installed_distributions():
    assert ephkin.__version__ == importlib.metadata.version("ephkin")
    assert ephkin.pde.__version__ == ephkin.__version__


def test_cli_version_prints_it():
    exe = os.path.join(os.path.dirname(sys.executable), "ephkin")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "ephkin.solvers.cli"]
    r = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"ephkin {ephkin.__version__}"
