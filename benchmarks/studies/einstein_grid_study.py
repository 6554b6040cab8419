"""Grid study of evolve's 'mass matrix lost definiteness' (docs/grid-convergence.md).

python benchmarks/einstein_grid_study.py --spectrum einstein --refine 256 --t-end 20 [--save out.npz]
Runs solvers.evolution.evolve (PETSc TS, CLI tolerances) and records per step the min of 1 - Sigma'[f]
in the monitor's window and where it is; saves the last state and the state at t_end.
"""
import argparse
import json
import time

import numpy as np

from ephkin.pde.kinetic import KineticModel
from ephkin.solvers.api import _shape
from ephkin.solvers.evolution import evolve
from ephkin.solvers.stability import make_problem

ap = argparse.ArgumentParser()
ap.add_argument("--spectrum", default="einstein")
ap.add_argument("--lam", type=float, default=1.0)
ap.add_argument("--T0", type=float, default=0.2)
ap.add_argument("--T-in", type=float, default=0.202)
ap.add_argument("--t-end", type=float, default=20.0)
ap.add_argument("--refine", type=int, default=1)
ap.add_argument("--grid-step", type=float, default=None)
ap.add_argument("--save", default=None)
ap.add_argument("--noise", type=float, default=0.0, help="add delta x N(0,1) white noise to f(0) (seed 1)")
a = ap.parse_args()

shape = _shape(a.spectrum)
p = make_problem(shape, a.lam, a.T0, "g", "exact", a.refine, a.grid_step)
m = KineticModel(p)
E = p.E
if a.noise > 0:
    from ephkin.pde.eliashberg import fermi

    _noise = a.noise * np.random.default_rng(1).standard_normal(E.size) * (E < 6.0)
    m.initial = lambda T: fermi(E, T) + _noise
window = E < p.grid.cutoff - 2.0 * float(np.max(p.omega_r))
rows = []
last = {}


def snap(t, f):
    d = m.mass_diag(f)
    dw = np.where(window, d, np.inf)
    i = int(np.argmin(dw))
    h4 = f[4:] - 4 * f[3:-1] + 6 * f[2:-2] - 4 * f[1:-3] + f[:-4]  # grid-scale content of f
    band = (E[2:-2] > 0.2) & (E[2:-2] < 0.8)
    rows.append((t, float(dw[i]), float(E[i]), float(np.sqrt(np.mean(h4[band] ** 2))),
                 float(np.max(np.abs(h4[band])))))
    last["t"], last["f"] = t, f.copy()


t0 = time.time()
r = evolve(m, a.T_in, a.t_end, rtol=1e-6, atol=1e-10, snapshots=snap)
wall = time.time() - t0
out = {k: r.get(k) for k in ("status", "reason", "t_final", "min_mass_diagonal", "steps", "growth_energies",
                             "decay_rate")}
out.update(noise=a.noise, refine=a.refine, L=p.grid.L, eps=p.grid.eps, wall=wall, zinv_min=r.get("zinv_min"))
rows = np.array(rows)
k = int(np.argmin(rows[:, 1]))
out["min_at"] = {"t": rows[k, 0], "mass": rows[k, 1], "E": rows[k, 2]}
out["d4f_rms_final"], out["d4f_max_final"] = rows[-1, 3], rows[-1, 4]
print(json.dumps(out))
if a.save:
    np.savez(a.save, rows=rows, E=E, f=last["f"], t=last["t"], feq=m.f_eq, f_in=m.initial(a.T_in),
             omega=p.omega_r, eps=p.grid.eps)
