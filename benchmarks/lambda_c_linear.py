"""Benchmark (issue 3): lambda_c of the linear analysis (Eq. (14)), exact kernel, modes:40-60.

1. Table S1 resolution (eps of the spectrum, L ~ 400-900): ephkin's
   ``lambda_c_linear`` (Newton on the smallest eigenvalue of A_hat, LAPACK up to L = 1500 (600 before issue 26) and
   SLEPc above, + LDL^T/Cholesky inertia check) against the baseline measured in the same run: a dense
   ``scipy.linalg.eigh(A_hat, M_hat)`` lambda-scan, i.e. bisection on "some
   gamma < 0" with the full generalized spectrum at every step, from the same
   bracket [0.3, 1.02] x the Z0-criterion lambda, to the same relative
   tolerance 1e-9.  Both build A and M with the same code.
2. A grid 200x finer than the paper's (L ~ 1e5): matrix-free SLEPc path, wall
   time and peak memory (the dense approach would need L^2 = 1e10 doubles, 80 GB).

Run:  .venv/bin/python benchmarks/lambda_c_linear.py [--T0 0.204 ...] [--runs 3] [--profile] [--big]

With --runs N (>= 3 for figures) the whole table is repeated and the total speed-up given
as min / median / max.
"""

import argparse
import os
import resource
import statistics
import time

import numpy as np
import scipy.linalg as sla

from ephkin.pde.instability import lambda_c_zinv
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import lambda_c_linear, make_problem

SHAPE = parse_spectrum("modes:40-60")


def baseline(T0, rtol=1e-9):
    """Bisection with the full dense generalized spectrum at each lambda (the authors' approach)."""
    g = lambda_c_zinv(SHAPE, T0)["lambda_c"]
    lo, hi = 0.3 * g, 1.02 * g

    def unstable(lam):
        p = make_problem(SHAPE, lam, T0)
        mu = sla.eigh(p.ahat_dense(), p.m_sparse(scaled=True).toarray(), eigvals_only=True)
        return bool(np.any(mu < 0))

    assert not unstable(lo) and unstable(hi)
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if unstable(mid) else (mid, hi)
    return 0.5 * (lo + hi)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--T0", type=float, nargs="+", default=[0.180, 0.204, 0.241, 0.278])
    ap.add_argument("--big", action="store_true", help="also the L ~ 1e5 run (about 30 s)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="cProfile of the ephkin path at every T0 (tottime)")
    a = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    # warm-up of both paths of solver "auto": one-time tables, PETSc/SLEPc initialisation
    lambda_c_linear(SHAPE, 0.2, solver="dense")
    lambda_c_linear(SHAPE, 0.2, solver="slepc")
    sp = []
    for k in range(a.runs):
        print(f"-- run {k + 1}")
        sp.append(one_run(a))
    if a.runs > 1:
        print(f"total speed-up, min / median / max of {a.runs}: {min(sp):.1f} / {statistics.median(sp):.1f} / "
              f"{max(sp):.1f}x")
    print(f"load average after: {os.getloadavg()}")
    if a.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        for T0 in a.T0:
            lambda_c_linear(SHAPE, T0)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(15)
    big(a)


def one_run(a):
    tb_all = to_all = 0.0
    for T0 in a.T0:
        t = time.perf_counter()
        lb = baseline(T0)
        tb = time.perf_counter() - t
        t = time.perf_counter()
        r = lambda_c_linear(SHAPE, T0)
        to = time.perf_counter() - t
        tb_all, to_all = tb_all + tb, to_all + to
        print(f"T0={T0:.3f} L={r['L']:4d}: baseline eigh(A,M) scan {tb:7.3f} s  lambda_c={lb:.9f} | "
              f"ephkin {to:6.3f} s lambda_c={r['lambda_c']:.9f} ({r['solver']}, {r['evaluations']} evals) "
              f"| speed-up {tb / to:5.1f}x")
    print(f"total: baseline {tb_all:.2f} s, ephkin {to_all:.2f} s, speed-up {tb_all / to_all:.1f}x")
    return tb_all / to_all


def big(a):
    if a.big:
        t = time.perf_counter()
        r = lambda_c_linear(SHAPE, 0.204, refine=200, solver="slepc")
        dt = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"L={r['L']} (refine 200): lambda_c={r['lambda_c']:.9f} in {dt:.1f} s, "
              f"{r['evaluations']} SLEPc solves, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
