"""Benchmark (issue 16): start-up, whole-process wall time against a bare numpy/SciPy import.

Interleaved, --runs times (>= 5):
  baseline  python -c "import numpy, scipy.special"
  lambda-c  ephkin lambda-c --spectrum einstein --T0 0.2 --json
  info      ephkin info --json
Reports min / median / max of each wall time and of each ratio to the baseline of the same round.

Run:  .venv/bin/python benchmarks/startup.py [--runs 7]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

EPHKIN = os.path.join(os.path.dirname(sys.executable), "ephkin")
CMDS = {
    "python -c 'import numpy, scipy.special'": [sys.executable, "-c", "import numpy, scipy.special"],
    "ephkin lambda-c --spectrum einstein --T0 0.2 --json": [EPHKIN, "lambda-c", "--spectrum", "einstein", "--T0",
                                                             "0.2", "--json"],
    "ephkin info --json": [EPHKIN, "info", "--json"],
}


def s3(xs, f="{:.3g}"):
    return " / ".join(f.format(v) for v in (min(xs), statistics.median(xs), max(xs)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args(argv)
    if a.runs < 5:
        ap.error("--runs must be >= 5")
    print(f"load average before: {os.getloadavg()}")
    for cmd in CMDS.values():  # warm the page cache once
        subprocess.run(cmd, capture_output=True)
    times = {k: [] for k in CMDS}
    for _ in range(a.runs):
        for k, cmd in CMDS.items():
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            times[k].append(time.perf_counter() - t)
    base = list(times)[0]
    for k, ts in times.items():
        line = f"{k:<55} wall {s3(ts)} s"
        if k != base:
            line += f" | ratio to the bare import {s3([x / y for x, y in zip(ts, times[base])])}"
        print(line)
    print(f"load average after: {os.getloadavg()}")
    return times


if __name__ == "__main__":
    main()
