"""Benchmark (issue 18): the e-e collision integral I_ee of seed 000 Eq. (S22)-(S23) by FFT.

For N = 10^3 ... 10^5 folded grid points (full grid 2N + 1, cutoff Lambda = 6, T = 0.2,
f a non-thermal particle-hole symmetric distribution):
* I_ee by FFT (``EECollisions.folded``) against the omega-loop reference
  (``collision_ee_reference``, O(N^2) time) where it runs in reasonable time (--ref-max):
  time ratio and max relative difference;
* conservation on the grid: |sum E I_ee| / sum |E| r and max |I_ee[f0(T')]| / max r
  (r: the out-scattering rate, the size of the cancelling gain and loss terms), T' = 0.35;
* M^ee phi matrix-free (``MeeOperator``): time of one product at every N; against the
  dense assembly ``m_ee_folded`` (O(L^2 m_max) ~ O(L^3) with all lags: minutes at
  L = 1000) on the small grids of --dense-sizes.
Each timing: min / median / max of --repeat runs (>= 3).

Run:  .venv/bin/python benchmarks/ee_collisions.py [--sizes 1000,3000,10000,30000,100000]
      [--repeat 3] [--ref-max 10000] [--dense-sizes 125,250,500] [--p gauss|const|d1|d2|d3] [--json]
"""

import argparse
import json
import statistics
import time

import numpy as np

from ephkin.pde.electron_electron import (
    DENSE_MAX,
    EECollisions,
    MeeOperator,
    collision_ee_reference,
    constant_p,
    gaussian_p,
    m_ee_folded,
    power_law_p,
)
from ephkin.pde.eliashberg import fermi
from ephkin.pde.grids import FoldedGrid

P_CHOICES = {"gauss": lambda: gaussian_p(0.3), "const": lambda: constant_p(0.5),
             "d1": lambda: power_law_p(1), "d2": lambda: power_law_p(2), "d3": lambda: power_law_p(3)}


def timed(fn, repeat):
    ts, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return {"min": min(ts), "median": statistics.median(ts), "max": max(ts)}, out


def fmt(t):
    return f"{t['min']:.2e}/{t['median']:.2e}/{t['max']:.2e}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,3000,10000,30000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ref-max", type=int, default=10000, help="largest N for the O(N^2) loop reference")
    ap.add_argument("--dense-sizes", default="125,250,500", help="L of the dense M^ee comparison (<= DENSE_MAX)")
    ap.add_argument("--p", choices=sorted(P_CHOICES), default="gauss")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    repeat = max(3, a.repeat)
    P, Lam, T = P_CHOICES[a.p](), 6.0, 0.2
    rows = []
    for N in [int(s) for s in a.sizes.split(",")]:
        eps = Lam / N
        Ep = eps * np.arange(1, N + 1)
        E = eps * np.arange(-N, N + 1)
        f = 0.5 * (fermi(Ep, 0.12) + fermi(Ep, 0.35))
        row = {"N": N, "eps": eps}
        t_setup, coll = timed(lambda: EECollisions(N, eps, P), repeat)
        t_fft, I = timed(lambda: coll.folded(f), repeat)
        row["setup_s"], row["fft_s"] = t_setup, t_fft
        full, ff = coll.full(coll.unfold(f)), coll.unfold(f)
        r = coll.rate(ff)
        row["energy_err"] = float(abs(np.sum(E * full)) / np.sum(np.abs(E) * r))
        row["number_err"] = float(abs(np.sum(full)) / np.sum(r))  # odd I: also by symmetry
        f0 = fermi(E, 0.35)
        row["fermi_zero_err"] = float(np.max(np.abs(coll.full(f0))) / np.max(coll.rate(f0)))
        if N <= a.ref_max:
            t_ref, Iref = timed(lambda: collision_ee_reference(ff, eps, P, 2 * N)[N + 1:], repeat)
            row["ref_s"] = t_ref
            row["ratio"] = t_ref["median"] / t_fft["median"]
            row["rel_diff"] = float(np.max(np.abs(I - Iref)) / np.max(np.abs(Iref)))
        g = FoldedGrid(eps, N)
        op = MeeOperator(g, T, P)
        x = np.random.default_rng(0).standard_normal(N)
        t_mv, y = timed(lambda: op.matvec(x), repeat)
        row["mee_matvec_s"] = t_mv
        rows.append(row)
        if not a.json:
            line = (f"N={N:>6}  I_ee FFT {fmt(t_fft)} s  energy {row['energy_err']:.1e}  "
                    f"Fermi zero {row['fermi_zero_err']:.1e}")
            if "ref_s" in row:
                line += f"  | loop {fmt(row['ref_s'])} s  ratio {row['ratio']:.0f}x  diff {row['rel_diff']:.1e}"
            line += f"  | M^ee phi {fmt(t_mv)} s"
            print(line, flush=True)
    dense = []
    for N in [int(s) for s in a.dense_sizes.split(",") if s]:
        N = min(N, DENSE_MAX)
        eps = Lam / N
        g = FoldedGrid(eps, N)
        x = np.random.default_rng(0).standard_normal(N)
        t_op, op = timed(lambda: MeeOperator(g, T, P), repeat)
        t_mv, y = timed(lambda: op.matvec(x), repeat)
        t_asm, Md = timed(lambda: m_ee_folded(g, T, P), 1)
        t_dmv, yd = timed(lambda: Md @ x, repeat)
        row = {"L": N, "setup_s": t_op, "matvec_s": t_mv, "dense_assembly_s": t_asm, "dense_matvec_s": t_dmv,
               "rel_diff": float(np.max(np.abs(y - yd)) / np.max(np.abs(yd))),
               "asym": float(np.max(np.abs(Md - Md.T)) / np.max(np.abs(Md)))}
        dense.append(row)
        if not a.json:
            print(f"M^ee L={N:>5}: matrix-free setup {fmt(t_op)} s, product {fmt(t_mv)} s | dense assembly "
                  f"{t_asm['min']:.2e} s (1 run), product {fmt(t_dmv)} s | max rel diff {row['rel_diff']:.1e}",
                  flush=True)
    if a.json:
        print(json.dumps({"P": repr(P), "T": T, "cutoff": Lam, "repeat": repeat, "rows": rows, "mee_dense": dense},
                         indent=1))


if __name__ == "__main__":
    main()
