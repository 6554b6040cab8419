"""Benchmark (issue 26): the comb e-ph collision integral of the time integrator, one collision integral plus one
Jacobian product, for ``pde.electron_phonon.CombCollisions`` as one CSR product and slice by slice, against the
per-mode reference sums (``collision_ep`` + ``collision_ep_jvp``, the code before), on Einstein and modes:40-60
grids of several sizes.  ms per call pair, the min over --rounds rounds of interleaved timings (each the mean of
enough calls for ~2e6 grid points).  The switch between the two branches, ``SPARSE_STENCIL_L_MAX``, is the
crossover this prints.

Run:  .venv/bin/python benchmarks/comb_collisions.py [--rounds 3]
"""

import argparse
import os
import time

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

CASES = [
    ("einstein", 1),
    ("einstein", 4),
    ("einstein", 125),
    ("modes:40-60", 1),
    ("modes:40-60", 4),
    ("modes:40-60", 8),
    ("modes:40-60", 32),
    ("modes:40-60", 128),
]


def main(argv=None):
    import ephkin.pde.electron_phonon as ep
    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.stability import make_problem

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args(argv)
    print(f"SPARSE_STENCIL_L_MAX = {ep.SPARSE_STENCIL_L_MAX}; ms per collision integral + Jacobian product")
    print("| case | L | K | one CSR product | slices | per-mode reference |")
    print("|---|---|---|---|---|---|")
    saved = ep.SPARSE_STENCIL_L_MAX
    try:
        for spec, refine in CASES:
            p = make_problem(parse_spectrum(spec), 1.0, 0.2, refine=refine)
            L, eps, T0 = p.grid.L, p.grid.eps, 0.2
            rng = np.random.default_rng(1)
            f, v = p.f0 + 0.01 * rng.standard_normal(L), rng.standard_normal(L)
            ops = {}
            for name, lmax in (("csr", 10**12), ("slices", 0)):
                ep.SPARSE_STENCIL_L_MAX = lmax
                ops[name] = ep.CombCollisions(L, eps, p.r, p.lam_r, T0)
            calls = {
                "csr": lambda: (ops["csr"].collisions(f), ops["csr"].jvp(f, v)),
                "slices": lambda: (ops["slices"].collisions(f), ops["slices"].jvp(f, v)),
                "reference": lambda: (
                    ep.collision_ep(f, eps, p.r, p.lam_r, T0),
                    ep.collision_ep_jvp(f, v, eps, p.r, p.lam_r, T0),
                ),
            }
            n = max(3, int(2e6 / L))
            best = {}
            for _ in range(a.rounds):
                for name, call in calls.items():
                    t = time.perf_counter()
                    for _ in range(n):
                        call()
                    best[name] = min(best.get(name, np.inf), (time.perf_counter() - t) / n * 1e3)
            print(f"| {spec} | {L} | {p.r.size} | {best['csr']:.3f} | {best['slices']:.3f} | {best['reference']:.3f} |")
    finally:
        ep.SPARSE_STENCIL_L_MAX = saved


if __name__ == "__main__":
    main()
