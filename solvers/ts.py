"""One way to build a PETSc TS (petsc4py ``demo/ode`` style).

The problem is an object whose methods are the TS callbacks -- ``ifunction`` and
``ijacobian`` (implicit form F(t, x, xdot) = 0) or ``rhsfunction`` and
``rhsjacobian`` (xdot = G(t, x)), and optionally ``monitor`` -- with the
signatures petsc4py passes.  :func:`build_ts` sets the integrator's defaults,
pushes the option defaults the caller asks for under the prefix, calls
``setFromOptions`` (the user's ``-PREFIX_ts_*``/``-PREFIX_snes_*``/``-PREFIX_ksp_*``
win) and removes the defaults it pushed.  The caller solves and destroys.
"""

from __future__ import annotations

from .bridge import comm, parallel
from .options import option_defaults
from .petsc_env import init_petsc

__all__ = ["build_ts"]


def build_ts(problem, prefix, x, t_end, *, rtol, atol, dt, J, P=None, ts_type="bdf", ksp_type="preonly",
             pc_type="lu", h_min=None, max_snes_failures=-1, max_rejections=None, defaults=None):
    """A configured TS for ``problem`` on the current point's communicator (``solvers.bridge.comm``).

    ``x`` is the state Vec (its layout gives the residual's), ``J``/``P`` the Jacobian and
    preconditioner matrices, ``dt`` the first step, ``h_min`` the smallest step (the step limits are
    [h_min, t_end/10]); ``defaults`` are option defaults under ``prefix`` (e.g. ``{"ts_bdf_order": "4"}``).
    Factorisations use MUMPS when the communicator has more than one rank."""
    PETSc, _ = init_petsc()
    ts = PETSc.TS().create(comm=comm())
    ts.setOptionsPrefix(prefix)
    ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
    ts.setType(ts_type)
    if hasattr(problem, "ifunction"):
        ts.setIFunction(problem.ifunction, x.duplicate())
        ts.setIJacobian(problem.ijacobian, J, P or J)
    else:
        ts.setRHSFunction(problem.rhsfunction, x.duplicate())
        ts.setRHSJacobian(problem.rhsjacobian, J, P or J)
    if hasattr(problem, "monitor"):
        ts.setMonitor(problem.monitor)
    ts.setTime(0.0)
    ts.setTimeStep(dt)
    ts.setMaxTime(t_end)
    ts.setMaxSteps(10**6)
    ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
    ts.setTolerances(rtol=rtol, atol=atol)
    ts.setMaxSNESFailures(max_snes_failures)
    if max_rejections is not None:
        ts.setMaxStepRejections(max_rejections)
    if h_min is not None:
        ts.setStepLimits(h_min, 0.1 * t_end)
    ksp = ts.getSNES().getKSP()
    ksp.setType(ksp_type)
    if ksp_type != "preonly":
        ksp.setTolerances(rtol=1e-10)
    ksp.getPC().setType(pc_type)
    if parallel() and pc_type in ("lu", "cholesky"):
        ksp.getPC().setFactorSolverType("mumps")
    with option_defaults(prefix, defaults):
        ts.setFromOptions()
    return ts
