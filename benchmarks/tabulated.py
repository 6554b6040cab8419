"""Benchmark (issues 24, 28): tabulated alpha^2F files against the built-in comb ``modes:40-60``.

Whole ``ephkin`` processes (start-up included: what a user waits for), each row the min/median/max of ``--reps``
runs, interleaved so that a change of load hits every spectrum alike; peak RSS by ``/usr/bin/time``.  The
spectra: ``modes:40-60`` (21 delta peaks, the baseline of the ratios), docs/examples/pb_model.a2f (257 rows),
and a smooth two-peak alpha^2F written with 10^3, 10^4 and 10^5 rows into a temporary directory.  The commands:
``lambda-c --T0 0.2`` (zinv method), ``zinv --T0 0.2`` and ``stability --T0 0.2 --refine 1``.  Prints the load
average before and after, and a Markdown table for docs/benchmarks.md.

Run:  .venv/bin/python benchmarks/tabulated.py [--reps 3] [--rows 1000 100000]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from real_materials import PB, run  # noqa: E402

COMMANDS = {
    "lambda-c": ["lambda-c", "--T0", "0.2"],
    "zinv": ["zinv", "--T0", "0.2"],
    "stability --refine 1": ["stability", "--T0", "0.2", "--refine", "1"],
}
KEYS = {"lambda-c": "lambda_c", "zinv": "zinv_min", "stability --refine 1": "gamma_min_positive"}


def write_table(folder, rows):
    """Two Lorentzian-like peaks times omega^2 at low omega, in meV (the layout of a QE/EPW table)."""
    w = np.linspace(0.0, 12.0, rows)
    a = (0.4 / (1 + ((w - 4.4) / 0.8) ** 2) + 0.6 / (1 + ((w - 8.5) / 0.5) ** 2)) * (1 - np.exp(-((w / 2) ** 2)))
    a *= 1 / (1 + np.exp((w - 10.5) / 0.3))
    a[-1] = 0.0
    path = os.path.join(folder, f"table{rows}.a2f")
    np.savetxt(path, np.c_[w, a], header="omega[meV] a2F")
    return "file:" + path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rows", type=int, nargs="*", default=[1000, 10000, 100000])
    a = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    with tempfile.TemporaryDirectory() as tmp:
        spectra = {"modes:40-60": "modes:40-60", "pb_model.a2f (257 rows)": PB}
        spectra.update({f"{r} rows": write_table(tmp, r) for r in a.rows})
        out = {}
        for _ in range(a.reps):
            for cname, cmd in COMMANDS.items():
                for sname, spec in spectra.items():
                    d, wall, rss = run([*cmd, "--spectrum", spec])
                    if "error" in d:
                        raise SystemExit(f"{cname} {sname}: {d['error']}")
                    out.setdefault((cname, sname), []).append((wall, rss, d.get(KEYS[cname])))
    print("\n| command | spectrum | wall min / median / max (s) | × modes:40-60 (median) | peak RSS (MB) "
          "| × modes:40-60 | result |\n|" + "---|" * 7)
    for cname in COMMANDS:
        base = out[(cname, "modes:40-60")]
        bw, br = statistics.median(x[0] for x in base), max(x[1] for x in base)
        for sname in spectra:
            rows = out[(cname, sname)]
            walls = sorted(x[0] for x in rows)
            rss = max(x[1] for x in rows)
            val = rows[0][2]
            val = val[0] if isinstance(val, list) else val
            val = "—" if val is None else format(val, ".10g")
            print(f"| `{cname}` | {sname} | {walls[0]:.2f} / {statistics.median(walls):.2f} / {walls[-1]:.2f} "
                  f"| {statistics.median(walls) / bw:.2f} | {rss:.0f} | {rss / br:.2f} | {val} |")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
