"""Benchmark (issue 4): the stable Fig. 1 case (Einstein, lambda = 1, T0 = 0.20, T_in = 0.202),
N ~ 500, t_end = 20, rtol 1e-3 / atol 1e-6.

Baseline, measured in the same run: SUNDIALS IDA through scikit-sundae, dense linear solver
with IDA's own (difference-quotient) dense Jacobian and max order 3, on the same residual
G(fdot, f) = M(f) fdot - I(f) -- the seed authors' method (S27)-(S30).  Candidate: ephkin's
PETSc TS (BDF, exact matrix-free Jacobian, sparse preconditioner kept while it works, Newton stopped
by IDA's rule at the step tolerance: ``solvers.ts.NewtonTest``).
Needs scikit-sundae (`make bench` installs it under the numpy constraint).

Equal tolerance is not equal accuracy (issue 26): at the same rtol the two integrators' errors differ by up to
~6x; ``benchmarks/work_precision.py`` compares them at matched error of the final f.

Run:  .venv/bin/python benchmarks/evolve_ida.py [--repeat 3]

Each repeat times IDA then TS back to back; the speed-up is given per repeat, min / median / max.
One untimed TS run first starts PETSc/MPI (its time is printed apart).  BLAS runs on one thread
(as in the ``ephkin`` command line) unless *_NUM_THREADS says otherwise.
"""

import argparse
import os
import statistics
import time

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

from ephkin.pde.kinetic import KineticModel  # noqa: E402
from ephkin.pde.spectra import parse_spectrum  # noqa: E402
from ephkin.solvers.evolution import evolve  # noqa: E402
from ephkin.solvers.stability import make_problem  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="then one cProfile of the TS run (top entries)")
    a = ap.parse_args(argv)
    try:
        from sksundae.ida import IDA
    except ImportError:
        print("scikit-sundae is not installed: `make bench` installs it (pip, numpy pinned)")
        return None
    model = KineticModel(make_problem(parse_spectrum("einstein"), 1.0, 0.2, grid_step=1.0 / 62))
    f_init = model.initial(0.202)
    fdot0 = np.linalg.solve(model.mass_dense(f_init), model.collisions(f_init))

    def res(t, y, yp, r):
        r[:] = model.residual(yp, y)

    t = time.perf_counter()
    evolve(model, 0.202, 20.0, rtol=1e-3, atol=1e-6)
    t_first = time.perf_counter() - t
    t_ida, t_ts = [], []
    for _ in range(a.repeat):
        t = time.perf_counter()
        solver = IDA(res, rtol=1e-3, atol=1e-6, linsolver="dense", max_order=3)
        sol = solver.solve(np.array([0.0, 20.0]), f_init.copy(), fdot0.copy())
        t_ida.append(time.perf_counter() - t)
        k0 = model.kernel_matvecs
        t = time.perf_counter()
        r = evolve(model, 0.202, 20.0, rtol=1e-3, atol=1e-6)
        t_ts.append(time.perf_counter() - t)
        n_ts = model.kernel_matvecs - k0
    diff = float(np.max(np.abs(sol.y[-1] - r["f_final"])))
    def s3(xs, f="{:.3f}"):
        return " / ".join(f.format(v) for v in (min(xs), statistics.median(xs), max(xs)))

    sp = [x / y for x, y in zip(t_ida, t_ts)]
    print(f"Fig. 1(b) case, N = {model.L}, t_end = 20, rtol 1e-3, atol 1e-6 (min / median / max of {a.repeat}):")
    print(f"  baseline SUNDIALS IDA, dense FD Jacobian (scikit-sundae): {s3(t_ida)} s  (success={sol.success})")
    print(f"  ephkin PETSc TS (BDF, matrix-free exact Jacobian)       : {s3(t_ts)} s  ({r['steps']} steps,"
          f" {n_ts} kernel products, {n_ts / r['steps']:.1f}/step; first run with PETSc start-up {t_first:.3f} s)")
    print(f"  speed-up per repeat {s3(sp, '{:.2f}')}x; max |f_IDA - f_TS| at t = 20: {diff:.2e} "
          f"(max|f - f0| = {r['max_deviation']:.2e})")
    if a.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        evolve(model, 0.202, 20.0, rtol=1e-3, atol=1e-6)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(15)
    return {"ida": t_ida, "ts": t_ts, "speedup": sp, "diff": diff}


if __name__ == "__main__":
    main()
