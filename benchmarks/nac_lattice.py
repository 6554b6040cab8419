"""Benchmark (issues 6, 7): one NAC point and one lattice steady state, each against a baseline
measured in the same run.

* NAC (seed 001 Fig. 2a point: semicircle, mu = 0, omega_p = 0.5, zeta = 20, t = 10/Gamma_eph,
  rtol 1e-8): PETSc TS (BDF order 4, assembled sparse Jacobian; solvers.nac.integrate) against
  SciPy's BDF on the same rhs and sparse Jacobian (NACModel.evolve_fixed).
* Lattice (seed 003: Gamma = 0.005, g = 0.3, omega0 = 0.3, Delta = 1, E = 0.01, N_omega = 2^16):
  the numpy Anderson fixed point (pde.keldysh.solve_lattice) against PETSc SNESANDERSON on the same
  residual (solvers.avalanche.snes_solve).

Run:  .venv/bin/python benchmarks/nac_lattice.py [--repeat 3]
"""

import argparse
import time

import numpy as np

from ephkin.pde import keldysh
from ephkin.pde.dos import make_dos
from ephkin.pde.nac import NACModel, filling_at


def best(fn, repeat):
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    from ephkin.solvers.avalanche import snes_solve
    from ephkin.solvers.nac import integrate

    band = make_dos("semicircle")
    m = NACModel(band, 0.5, T=0.003, filling=filling_at(band, 0.0, 0.003), hold_zeta=True)
    ref, t_ref = best(lambda: m.evolve_fixed(20.0, 10.0), a.repeat)
    run, t_ts = best(lambda: integrate(m, m.initial(20.0), 10.0), a.repeat)
    print(f"NAC point (N = {m.N}): SciPy BDF {t_ref:.3f} s, PETSc TS {t_ts:.3f} s ({run['steps']} steps): "
          f"ratio PETSc/SciPy {t_ts / t_ref:.2f}; sigma/sigma0 {m.conductivity(run['y'][:-1]):.10f} vs "
          f"{m.conductivity(ref):.10f}")
    args = (0.005, 0.3, 0.3, 1.0, 0.01)
    lat, t_np = best(lambda: keldysh.solve_lattice(*args, n_omega=2**16), a.repeat)
    prob = keldysh.lattice_problem(*args, n_omega=2**16)
    (x, info), t_snes = best(lambda: snes_solve(prob, np.zeros(2 * prob.grid.n)), a.repeat)
    n_snes = keldysh.observables(x, prob)["n_ex"]
    print(f"lattice steady state (N_omega = {prob.grid.n}): numpy Anderson {t_np:.3f} s ({lat['iterations']} it), "
          f"PETSc SNESANDERSON {t_snes:.3f} s ({info['iterations']} it): ratio SNES/numpy {t_snes / t_np:.2f}; "
          f"n_ex {lat['n_ex']:.12g} vs {n_snes:.12g}")


if __name__ == "__main__":
    main()
