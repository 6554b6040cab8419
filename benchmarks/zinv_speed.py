"""Benchmark (issue 2): Z0^-1(E), Eq. (5), for the 21-mode spectrum on 10^6 energies.

Baseline, measured in the same run: the straightforward term-by-term sum over
modes with a plain vectorised complex trigamma (pde.polygamma.trigamma on
1/2 + i(E +- omega_k)/2piT).  Candidate: pde.eliashberg.zinv (real kernel on the
line Re z = 1/2, energy blocks x all modes).  Also: all nine lambda_c of
Table S1 (column 3), total wall time.

Run:  .venv/bin/python benchmarks/zinv_speed.py [--n 1000000] [--repeat 3]
"""

import argparse
import math
import time

import numpy as np

from ephkin.pde.eliashberg import zinv
from ephkin.pde.instability import lambda_c_zinv
from ephkin.pde.polygamma import trigamma
from ephkin.pde.spectra import make_spectrum, parse_spectrum


def zinv_term_by_term(spec, E, T):
    """Eq. (5) term by term with the complex trigamma (the baseline)."""
    acc = np.zeros_like(E)
    for om, w in zip(*spec.nodes()):
        zp = 0.5 + 1j * (E + om) / (2 * math.pi * T)
        zm = 0.5 + 1j * (E - om) / (2 * math.pi * T)
        acc += w * (trigamma(zp).imag - trigamma(zm).imag)
    return 1.0 - acc / (2 * math.pi * T)


def best_of(fn, repeat):
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="number of energies (default 1e6)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    a = ap.parse_args(argv)
    spec, T = make_spectrum("modes:40-60", 1.4788, "g"), 0.20
    E = np.linspace(-10.0, 10.0, a.n)
    t_base, z_base = best_of(lambda: zinv_term_by_term(spec, E, T), a.repeat)
    t_fast, z_fast = best_of(lambda: zinv(spec, E, T), a.repeat)
    err = float(np.max(np.abs(z_fast - z_base)))
    print(f"Z0^-1 on {a.n} energies, 21 modes, T0 = {T}:")
    print(f"  baseline term-by-term complex trigamma : {t_base:8.3f} s")
    print(f"  ephkin zinv (real half-line kernel)     : {t_fast:8.3f} s")
    print(f"  speed-up {t_base / t_fast:.2f}x, max |difference| = {err:.2e}")
    t = time.perf_counter()
    shape = parse_spectrum("modes:40-60")
    T0s = (0.180, 0.192, 0.204, 0.217, 0.229, 0.241, 0.253, 0.266, 0.278)
    lcs = [lambda_c_zinv(shape, T0)["lambda_c"] for T0 in T0s]
    dt = time.perf_counter() - t
    print(f"nine lambda_c of Table S1 (Z0 criterion): {dt:.3f} s total  ->  " + " ".join(f"{x:.5f}" for x in lcs))
    return {"t_base": t_base, "t_fast": t_fast, "speedup": t_base / t_fast, "max_diff": err, "table_s1_s": dt}


if __name__ == "__main__":
    main()
