"""Benchmark (issue 13): the gamma spectrum at scale, matrix-free SLEPc against the dense path.

For each --refine R (default 1, 4, 16, 64, 128: L ~ 10^3 ... 10^5):
  ephkin stability --spectrum modes:40-60 --lam 1.0 --T0 0.20 --refine R --nev 4 --json
as a whole process: wall time, peak RSS (os.wait4 of the child), slepc_iterations, L,
gamma_min_positive, n_negative and kernel_matvecs from its JSON.  Where the dense path fits
(L <= --dense-max, default 3000), the same-run baseline: a process that builds the same problem
and calls ``ephkin.solvers.stability.gamma_dense`` (all L gamma by LAPACK: one eigvalsh of the pencil in
standard form, or QZ with ladder null modes), timed the same way; the smallest positive gamma of both is compared.
Each figure: min / median / max of --runs runs (>= 3; --big-runs for refine >= 64, default 3).

Run:  .venv/bin/python benchmarks/stability_scale.py [--refine 1 4 16 64 128] [--nev 4 1] [--lam 1] [--runs 3] [--json]
"""

import argparse
import json
import math
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
EPHKIN = os.path.join(os.path.dirname(sys.executable), "ephkin")

DENSE = """
import json, sys, time
import numpy as np
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import gamma_dense, make_problem
t = time.perf_counter()
p = make_problem(parse_spectrum("modes:40-60"), 1.0, 0.20, refine=int(sys.argv[1]))
g = gamma_dense(p)
pos, neg = g[g > 1e-12], g[g < -1e-12]
print(json.dumps({"L": p.grid.L, "gamma_min_positive": float(pos.min()) if pos.size else None,
                  "n_negative": int(neg.size), "solve_s": time.perf_counter() - t}))
"""


def run_child(cmd, limit_gb):
    """Wall (s), peak RSS (MB, os.wait4 of this child alone) and stdout; killed past ``limit_gb``."""
    from kernel_floor import run_child as rc

    dt, rss, out, killed, code = rc(cmd, limit_gb)
    if killed or code:
        raise RuntimeError(f"{' '.join(cmd[1:4])}...: "
                           + (f"killed at RSS {killed:.0f} MB" if killed else f"exit {code}")
                           + f" after {dt:.1f} s")
    return dt, rss, out


def s3(xs, fmt="{:.3g}"):
    return " / ".join(fmt.format(v) for v in (min(xs), statistics.median(xs), max(xs)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--refine", type=int, nargs="+", default=[1, 4, 16, 64, 128])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-runs", type=int, default=3, help="runs at refine >= 64")
    ap.add_argument("--dense-max", type=int, default=3000)
    ap.add_argument("--rss-limit-gb", type=float, default=8.0, help="kill a child whose RSS passes this")
    ap.add_argument("--nev", type=int, nargs="+", default=[4], help="--nev of each run (several: one table each)")
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if min(a.runs, a.big_runs) < 3:
        ap.error("--runs and --big-runs must be >= 3")
    rows = []
    print(f"load average before: {os.getloadavg()}", flush=True)
    for nev in a.nev:
        rows += _table(a, nev)
    print(f"load average after: {os.getloadavg()}")
    if a.json:
        print(json.dumps(rows, indent=1))
    return rows


def _table(a, nev):
    """One --nev: the rows over --refine, and the growth exponent of the median wall time between neighbours."""
    rows = []
    print(f"--nev {nev}, --lam {a.lam:g}", flush=True)
    for R in a.refine:
        cmd = [EPHKIN, "stability", "--spectrum", "modes:40-60", "--lam", str(a.lam), "--T0", "0.20", "--refine",
               str(R), "--nev", str(nev), "--json"]
        n = a.big_runs if R >= 64 else a.runs
        t, m, td, md = [], [], [], []
        dense = None
        res = None
        for _ in range(n):
            try:
                dt, rss, out = run_child(cmd, a.rss_limit_gb)
            except RuntimeError as e:
                print(f"refine {R}: {e}", flush=True)
                break
            t.append(dt), m.append(rss)
            res = json.loads(out)
            if res["L"] <= a.dense_max:
                dt, rss, out = run_child([sys.executable, "-c", DENSE, str(R)], a.rss_limit_gb)
                td.append(dt), md.append(rss)
                dense = json.loads(out)
        if res is None:
            rows.append({"refine": R, "failed": True})
            continue
        row = {"refine": R, "nev": nev, "lam": a.lam, "L": res["L"], "wall_s": t, "rss_mb": m,
               "slepc_iterations": res.get("slepc_iterations"),
               "kernel_matvecs": res.get("kernel_matvecs"), "gamma_min_positive": res.get("gamma_min_positive"),
               "n_negative": res.get("n_negative"), "mu_min_ahat": res.get("mu_min_ahat")}
        if dense:
            row.update(dense_wall_s=td, dense_rss_mb=md, dense_gamma_min_positive=dense["gamma_min_positive"],
                       dense_n_negative=dense["n_negative"],
                       speedup=[b / c for b, c in zip(td, t)])
        rows.append(row)
        line = (f"refine {R:4d} L={res['L']:6d}: wall {s3(t)} s, peak RSS {s3(m, '{:.0f}')} MB, SLEPc its "
                f"{row['slepc_iterations']}, products {row['kernel_matvecs']}, "
                f"gamma_min+ {row['gamma_min_positive']:.10g}")
        done = [r for r in rows[:-1] if not r.get("failed")]
        if done:  # time ~ L^p between this grid and the previous one
            prev = done[-1]
            p = (math.log(statistics.median(t) / statistics.median(prev["wall_s"]))
                 / math.log(res["L"] / prev["L"]))
            line += f", growth L^{p:.2f} from L={prev['L']}"
        if dense:
            line += (f" | dense gamma_dense {s3(td)} s, {s3(md, '{:.0f}')} MB, gamma_min+ "
                     f"{dense['gamma_min_positive']:.10g}, speed-up {s3(row['speedup'])}x")
        print(line, flush=True)
    return rows


if __name__ == "__main__":
    main()
