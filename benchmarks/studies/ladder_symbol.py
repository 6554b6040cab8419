"""High-k symbol of the kinetic equation linearised about the relaxing f(t) (docs/grid-convergence.md, 3d).

For v ~ c_n exp(ikE) on the ladder E_n = E0 + n Omega (full line, folded by f(-E) = 1 - f(E)):
  B dc/dt = -i k C c,  B = Z - F Kh,  C = Sdot + Phi Kh,  Kh = -i s kappa (S_- - S_+), kappa = pi lam Omega / 2,
Z, F, Phi, Sdot = 1 - Sigma', f', fdot, dSigma/dt on the ladder.  Growth rate per unit k: max Im eig(B^-1 C) (s = +-1).
python benchmarks/ladder_symbol.py --refine 4 --t 0.1
"""
import argparse

import numpy as np

from ephkin.pde.kinetic import KineticModel
from ephkin.solvers.api import _shape
from ephkin.solvers.evolution import evolve
from ephkin.solvers.stability import make_problem

ap = argparse.ArgumentParser()
ap.add_argument("--refine", type=int, default=4)
ap.add_argument("--T-in", type=float, default=0.202)
ap.add_argument("--t", type=float, nargs="+", default=[0.1])
ap.add_argument("--nmax", type=int, default=4)
a = ap.parse_args()
p = make_problem(_shape("einstein"), 1.0, 0.2, "g", "exact", a.refine, None)
m = KineticModel(p)
r = int(p.r[0])
Om = r * p.grid.eps
kappa = np.pi * float(p.lam_r[0]) * Om / 2  # lam_r of the single grid mode = lambda


def fold(arr, odd):
    """values at grid index j = E/eps (j may be <= 0), folded: arr(-E) = -arr(E) (odd) or arr(E) (even)."""
    def at(j):
        if j == 0:
            return 0.0 if odd else (arr[0] + 0 * arr[0])  # f' and Z are smooth through 0: use E = eps
        v = arr[abs(j) - 1]
        return -v if (odd and j < 0) else v
    return at


for T in a.t:
    res = evolve(m, a.T_in, T, rtol=1e-8, atol=1e-12)
    f = res["f_final"]
    fdot = m.rate(f)
    Z, F = m.mass_diag(f), m.f_prime(f)
    Sdot = -m.K.matvec(fdot)
    z, fp, ph, sd = fold(Z, False), fold(F, False), fold(fdot, True), fold(Sdot, True)
    n = np.arange(-a.nmax, a.nmax + 1)
    shift = np.diag(np.ones(n.size - 1), -1)  # (S_- c)_m = c_{m-1}
    best = (0.0, None)
    for j0 in range(1, r):  # E0 = j0 eps in (0, Omega)
        js = j0 + n * r
        Zl = np.array([z(j) for j in js])
        Fl = np.array([fp(j) for j in js])
        Pl = np.array([ph(j) for j in js])
        Sl = np.array([sd(j) for j in js])
        for s in (1, -1):
            Kh = -1j * s * kappa * (shift - shift.T)
            B = np.diag(Zl) - np.diag(Fl) @ Kh
            C = np.diag(Sl) + np.diag(Pl) @ Kh
            mu = np.linalg.eigvals(np.linalg.solve(B, C))
            im = float(np.max(np.abs(mu.imag)))
            if im > best[0]:
                best = (im, j0 * p.grid.eps)
    # the same with fdot replaced by its projection on f' (a pure temperature/shift change): Hermitian case
    print(f"t = {T:g}: max_E0 |Im eig(B^-1 C)| = {best[0]:.3e} at E0 = {best[1]:.4f} "
          f"(growth rate ~ k x this); max|fdot| = {np.max(np.abs(fdot)):.3e}")
