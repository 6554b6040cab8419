"""Benchmark (issue 24): the poles of Fig. 2 and the exact unstable-mode count at scale.

For each --refine R (default 1 2 4 8 16 32: L = 796 ... 25 464):
  ephkin stability --spectrum modes:40-60 --lam 5 --T0 0.2 --refine R --nev 4 --json
as a whole process (wall time, peak RSS of the child): gamma_most_negative and gamma_poles (the largest |gamma|,
mu = 1/gamma nearest 0), n_negative with its method and backend, the window split's size and certificate.  The
same-run dense baseline where it fits (L <= --dense-max): a process that builds the same problem and computes
every gamma (``ephkin.solvers.stability.gamma_dense``: one eigvalsh of the pencil in standard form, QZ with ladder
null modes) and the inertia of the dense A_hat (LAPACK eigvalsh): the most negative gamma, the largest |gamma|,
the number of negative gamma.  Each figure: min / median / max of --runs runs (>= 3) up to refine --cheap-max,
one run above (say so in the docs).

Run:  .venv/bin/python benchmarks/poles_counts.py [--refine 1 2 4 8 16 32] [--runs 3] [--json]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
EPHKIN = os.path.join(os.path.dirname(sys.executable), "ephkin")

from stability_scale import run_child, s3  # noqa: E402

DENSE = """
import json, sys, time
import numpy as np
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import gamma_dense, make_problem, nonzero_gammas
t = time.perf_counter()
p = make_problem(parse_spectrum("modes:40-60"), 5.0, 0.20, refine=int(sys.argv[1]))
g = nonzero_gammas(gamma_dense(p))
big = g[np.argsort(-np.abs(g))][:4]
print(json.dumps({"L": p.grid.L, "gamma_most_negative": float(g.min()), "gamma_poles": big.tolist(),
                  "n_negative_gamma": int(np.sum(g < 0)),
                  "n_negative_ahat": int(np.sum(np.linalg.eigvalsh(p.ahat_dense()) < 0)),
                  "solve_s": time.perf_counter() - t}))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--refine", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cheap-max", type=int, default=8, help="one run above this refine")
    ap.add_argument("--dense-max", type=int, default=3200)
    ap.add_argument("--rss-limit-gb", type=float, default=4.0, help="kill a child whose RSS passes this")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.runs < 3:
        ap.error("--runs must be >= 3")
    rows = []
    print(f"load average before: {os.getloadavg()}", flush=True)
    for R in a.refine:
        cmd = [EPHKIN, "stability", "--spectrum", "modes:40-60", "--lam", "5", "--T0", "0.2", "--refine", str(R),
               "--nev", "4", "--json"]
        t, m, res = [], [], None
        for _ in range(a.runs if R <= a.cheap_max else 1):
            dt, rss, out = run_child(cmd, a.rss_limit_gb)
            t.append(dt), m.append(rss)
            res = json.loads(out)
        row = {"refine": R, "L": res["L"], "wall_s": t, "rss_mb": m, "eigen_solver": res["eigen_solver"],
               **{k: res.get(k) for k in ("gamma_most_negative", "gamma_poles", "gamma_poles_residual", "n_negative",
                                          "n_negative_method", "inertia_backend", "window", "gamma_flagged")}}
        line = (f"refine {R:3d} L={res['L']:6d} ({res['eigen_solver']}): wall {s3(t)} s, peak RSS {s3(m, '{:.0f}')} "
                f"MB ({len(t)} run(s)); most negative gamma {res.get('gamma_most_negative')}, poles "
                f"{res.get('gamma_poles')}, n_negative {res.get('n_negative')} ({res.get('inertia_backend')}), "
                f"window {res.get('window')}")
        if res["L"] <= a.dense_max:
            dt, rss, out = run_child([sys.executable, "-c", DENSE, str(R)], a.rss_limit_gb)
            row["dense"] = {**json.loads(out), "wall_s": dt, "rss_mb": rss}
            line += f" | dense {row['dense']} ({dt:.1f} s, {rss:.0f} MB)"
        rows.append(row)
        print(line, flush=True)
    print(f"load average after: {os.getloadavg()}")
    if a.json:
        print(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
