"""Quantum avalanche (seed 003): the PETSc SNES engine of the lattice steady state.

The SCBA steady state of the biased chain (``pde.keldysh``) is the fixed point Phi(x) = x; besides the
numpy Anderson mixing of ``pde.keldysh.anderson`` it is solved here by PETSc SNES (SNESANDERSON by
default), options ``-aval_``.
"""

from __future__ import annotations

import numpy as np

from ephkin.pde import keldysh

from . import prefixes
from .bridge import comm, destroy, gather, scatter, vec
from .failures import petsc_error_reason, reason_name
from .petsc_env import init_petsc

PREFIX = prefixes.AVALANCHE

__all__ = ["snes_solve"]


def snes_solve(problem, x0, tol=1e-8, max_it=300):
    """Phi(x) = x by PETSc SNES on F(x) = x - Phi(x): Anderson mixing (SNESANDERSON) by default.

    (``-aval_snes_type newtonls -aval_snes_mf``, Newton-Krylov with a finite-difference Jacobian,
    fails its first line search from the cold start x = 0 at the seed's parameters: Phi has the
    scale split sigma^< << sigma^> that the block-scaled Anderson of pde.keldysh handles.)

    Returns (Phi(x), info) like ``pde.keldysh.anderson``: info's residual is the same
    block-relative norm, so both backends are judged alike; info's ``solver_reason`` is SNES's converged
    reason by name (or "PETSc error N: ..." for an error inside SNESSolve), and ``converged`` is False when
    the residual is above 10 tol or SNES diverged."""
    PETSc, _ = init_petsc()
    n = problem.grid.n
    hist = []

    def F(snes, X, R):
        scatter(-keldysh.residual(gather(X), problem), R)

    x = r = snes = None
    try:  # every PETSc object of the solve is created inside this try, destroyed in its finally
        x = vec(np.asarray(x0, dtype=float))
        r = x.duplicate()
        snes = PETSc.SNES().create(comm=comm())
        snes.setOptionsPrefix(PREFIX)
        snes.setFunction(F, r)
        snes.setType(PETSc.SNES.Type.ANDERSON)
        snes.setTolerances(rtol=tol, atol=0.0, stol=0.0, max_it=max_it)
        snes.getKSP().setTolerances(max_it=100)
        snes.setMonitor(lambda s, it, norm: hist.append(float(norm)))
        snes.setFromOptions()
        try:
            snes.solve(None, x)
            reason = reason_name(PETSc.SNES.ConvergedReason, snes.getConvergedReason())
        except PETSc.Error as exc:  # inside SNESSolve: a solver failure (status solver_failed), not a crash
            reason = petsc_error_reason(exc)
        xs = gather(x).copy()
        its = snes.getIterationNumber()
    finally:
        destroy(snes, x, r)
    g = problem.phi(xs)
    res = keldysh.block_norm(g - xs, g, n)
    ok = bool(res <= 10 * tol) and not reason.startswith(("DIVERGED", "PETSc error"))
    return g, dict(converged=ok, iterations=int(its), residual=res, history=hist, solver_reason=reason)
