"""Negative absolute conductivity (seed 001): the PETSc TS engine for Eqs. (2), (3).

The unknowns y = [f(eps_i), zeta] of ``pde.nac.NACModel`` are integrated in the
explicit form dy/dt = G(t, y) with an implicit method (BDF by default: St_in on
the fine grid near mu is stiff) and the assembled sparse Jacobian dG/dy, factorised
by LU (MUMPS on a sub-communicator).  Options under ``-nac_`` (``-nac_ts_type``,
``-nac_ts_rtol``, ``-nac_ksp_type`` ...).  The monitor records sigma/sigma0
(Eq. (9)), zeta, the field E*^2 in spontaneous mode (Fig. 3b), the particle
number and the energy int eps D f + omega_p zeta at every step.
"""

from __future__ import annotations

import numpy as np

from ephkin.pde.dos import make_dos
from ephkin.pde.errors import InputError
from ephkin.pde.nac import NACModel, filling_at

from . import prefixes
from .bridge import aij, destroy, gather, scatter, set_rows, vec
from .failures import SolverFailed, ts_failure
from .petsc_env import init_petsc
from .ts import build_ts

PREFIX = prefixes.NAC

__all__ = ["NACTS", "integrate", "make_model", "describe"]


class NACTS:
    """dy/dt = G(t, y) of Eqs. (2)-(3) as TS callbacks (petsc4py ``demo/ode`` style): the right-hand
    side, its assembled sparse Jacobian, and a monitor recording sigma/sigma0 (Eq. (9)), zeta, E*^2,
    the particle number and the energy."""

    def __init__(self, model, t_end, snapshots=None, progress=None, on_step=None):
        self.m, self.t_end, self.snapshots, self.progress, self.on_step = model, t_end, snapshots, progress, on_step
        self.hist = {"t": [], "sigma": [], "zeta": [], "field2": [], "N": [], "energy": []}

    def rhsfunction(self, ts, t, X, F):
        scatter(self.m.rhs(t, gather(X)), F)

    def rhsjacobian(self, ts, t, X, J, P):
        set_rows(P, self.m.jacobian(t, gather(X)).tocsr())
        return True

    def monitor(self, ts, step, t, X):
        m, hist = self.m, self.hist
        y = gather(X)
        f, zeta = y[:-1], y[-1]
        hist["t"].append(t)
        hist["sigma"].append(m.conductivity(f))
        hist["zeta"].append(float(zeta))
        hist["field2"].append(float(m.field_squared(t, y)))
        hist["N"].append(m.particle_number(f))
        hist["energy"].append(m.energy(f, zeta))
        # the history row first (see evolution.KineticTS): the table holds every step the time series does
        if self.on_step is not None:
            self.on_step(t, {k: v[-1] for k, v in hist.items()})
        if self.snapshots is not None:
            self.snapshots(t, f)
        if self.progress is not None:
            self.progress(t, self.t_end)


def integrate(model, y0, t_end, rtol=1e-8, atol=1e-11, snapshots=None, progress=None, on_step=None):
    """y(t_end) of dy/dt = model.rhs(t, y) with PETSc TS (BDF, sparse LU); returns a result dict with
    the final state and the history of sigma, zeta, E*^2, particle number and energy (``on_step(t,
    {"t", "sigma", "zeta", "field2", "N", "energy"})`` at every accepted step, as the run goes).  A TS that
    fails or gives up raises :class:`~ephkin.solvers.failures.SolverFailed` (PETSc's reason by name)."""
    PETSc, _ = init_petsc()
    import scipy.sparse as sp

    y0 = np.asarray(y0, dtype=float)
    n = y0.size
    # the Jacobian's pattern: the links, the field operator (whatever F is now), the zeta row/column
    pattern = abs(model.jacobian(0.0, y0)) + sp.block_diag([abs(model.A_field), sp.csr_matrix((1, 1))])
    pattern = (pattern + sp.identity(n) + sp.csr_matrix((np.ones(2 * n), (np.r_[np.arange(n), np.full(n, n - 1)],
                                                                         np.r_[np.full(n, n - 1), np.arange(n)])),
                                                        shape=(n, n))).tocsr()
    problem = NACTS(model, t_end, snapshots, progress, on_step)
    J = x = ts = None
    try:  # every PETSc object of the run is created inside this try, destroyed in its finally
        J = aij(pattern, values=False)
        J.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
        x = vec(y0)
        # BDF order 4: 6x fewer steps than order 2 at rtol 1e-8
        ts = build_ts(problem, PREFIX, x, t_end, rtol=rtol, atol=atol, dt=1e-4 * t_end, J=J,
                      defaults={"ts_bdf_order": "4"})
        try:
            ts.solve(x)
        except PETSc.Error as exc:  # inside TSSolve: a solver failure (status solver_failed), not a crash
            raise SolverFailed(*ts_failure(PETSc, ts, exc)) from None
        if ts.getConvergedReason() < 0:
            raise SolverFailed(*ts_failure(PETSc, ts))
        steps = ts.getStepNumber()
        y = gather(x).copy()
    finally:
        destroy(ts, J, x)
    hist = problem.hist
    N = np.asarray(hist["N"])
    return {"y": y, "steps": int(steps), "t_final": float(hist["t"][-1]),
            "particle_number_drift": float(np.max(np.abs(N - N[0])) / N[0]),
            "history": {k: np.asarray(v) for k, v in hist.items()}}


def make_model(dos="semicircle", omega_p=0.5, T=0.003, mu=None, filling=None, gamma_in=0.0, field=0.0,
               delta_omega=0.0, refine=1.0, **extra):
    """NACModel (seed 001 Eqs. (2)-(7)) for the band ``dos`` (``pde.dos.make_dos`` syntax) at chemical
    potential ``mu`` or band ``filling`` (default 1/2), bath temperature T, phonon energy omega_p (units
    of W); ``extra`` goes to NACModel (pump, zeta0, tau_pulse, tau_ph, spontaneous, tau_M, hold_zeta)."""
    band = make_dos(dos)
    if mu is not None:
        if filling is not None:
            raise InputError("give either mu or filling, not both", "mu")
        filling = filling_at(band, mu, T)
    return NACModel(band, omega_p, T=T, filling=0.5 if filling is None else filling, gamma_in=gamma_in,
                    field=field, delta_omega=delta_omega, refine=refine, **extra)


def describe(model):
    """The parameters of a NACModel as a plain dict (the head of every ``nac`` result)."""
    return {"dos": model.band.name, "omega_p": model.omega_p, "T": model.T, "mu": model.mu,
            "filling": model.filling, "gamma_in": model.gamma_in, "field": model.field,
            "delta_omega": model.delta_omega, "N": model.N}
