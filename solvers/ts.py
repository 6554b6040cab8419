"""One way to build a PETSc TS (petsc4py ``demo/ode`` style).

The problem is an object whose methods are the TS callbacks -- ``ifunction`` and
``ijacobian`` (implicit form F(t, x, xdot) = 0) or ``rhsfunction`` and
``rhsjacobian`` (xdot = G(t, x)), and optionally ``monitor`` -- with the
signatures petsc4py passes.  :func:`build_ts` sets the integrator's defaults,
pushes the option defaults the caller asks for under the prefix, calls
``setFromOptions`` (the user's ``-PREFIX_ts_*``/``-PREFIX_snes_*``/``-PREFIX_ksp_*``
win) and removes the defaults it pushed.  The caller solves and destroys.

:class:`NewtonTest` is IDA's stopping rule for the Newton iteration of an implicit step, keyed to
the integration tolerances (``build_ts(..., newton_test=True)``).
"""

from __future__ import annotations

import numpy as np

from .bridge import comm, destroy, gather, parallel
from .options import option_defaults
from .petsc_env import init_petsc

__all__ = ["NewtonTest", "build_ts"]


class NewtonTest:
    """IDA's Newton stopping rule (SUNDIALS IDA, ``idaNlsConvTest``) as a SNES convergence test.

    The size of the Newton update dx is its weighted RMS norm ||dx|| with the weights
    1/(atol + rtol |x|) of the local error test, so ||dx|| = 1 is the error one step may make.
    The iteration stops when the estimated remaining error s ||dx|| is below ``tol`` = 0.33 of
    that (s = rate/(1 - rate), the rate measured over this step's updates; on the first update the
    rate of the previous step, initially s = 20, or ||dx|| <= 1e-4 tol outright).  A rate above 0.9,
    or ``max_it`` updates, is a failure and TS retries with a smaller step.  PETSc's default test
    (a relative drop of the residual by 1e-8) knows nothing of the step's tolerance and takes
    several more Newton iterations than the integration error needs.
    """

    def __init__(self, rtol, atol, tol=0.33, max_it=4):
        self.rtol, self.atol, self.tol, self.max_it = rtol, atol, tol, max_it
        self.s = 20.0
        self.first = None

    def __call__(self, snes, it, norms):
        R = type(snes).ConvergedReason
        if not np.isfinite(norms[2]):
            return R.DIVERGED_FNORM_NAN
        if it == 0:
            return R.ITERATING
        x = gather(snes.getSolution())
        d = float(np.sqrt(np.mean((gather(snes.getSolutionUpdate()) / (self.atol + self.rtol * np.abs(x))) ** 2)))
        if it == 1:
            self.first = d
            if d <= 1e-4 * self.tol:
                return R.CONVERGED_SNORM_RELATIVE
        else:
            rate = (d / self.first) ** (1.0 / (it - 1)) if self.first > 0 else 0.0
            if rate > 0.9:
                return R.DIVERGED_DTOL
            self.s = rate / (1.0 - rate)
        if self.s * d <= self.tol:
            return R.CONVERGED_SNORM_RELATIVE
        return R.DIVERGED_MAX_IT if it >= self.max_it else R.ITERATING


def build_ts(problem, prefix, x, t_end, *, rtol, atol, dt, J, P=None, ts_type="bdf", ksp_type="preonly",
             pc_type="lu", ksp_rtol=1e-10, h_min=None, max_snes_failures=-1, max_rejections=None, defaults=None,
             newton_test=False):
    """A configured TS for ``problem`` on the current point's communicator (``solvers.bridge.comm``).

    ``x`` is the state Vec (its layout gives the residual's), ``J``/``P`` the Jacobian and
    preconditioner matrices (``ksp_rtol``: the Krylov solver's relative tolerance), ``dt`` the first
    step, ``h_min`` the smallest step (the step limits are [h_min, t_end/10]); ``defaults`` are option
    defaults under ``prefix`` (e.g. ``{"ts_bdf_order": "4"}``); ``newton_test``: stop Newton by
    :class:`NewtonTest` (``-PREFIX_snes_convergence_test default`` restores PETSc's test).
    Factorisations use MUMPS when the communicator has more than one rank."""
    PETSc, _ = init_petsc()
    ts = PETSc.TS().create(comm=comm())
    try:  # the TS is the caller's once returned; destroyed here if its set-up fails (e.g. a bad -PREFIX option)
        ts.setOptionsPrefix(prefix)
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        ts.setType(ts_type)
        r = None
        try:  # the residual's work Vec: the TS keeps its own reference, this one is dropped at once
            r = x.duplicate()
            if hasattr(problem, "ifunction"):
                ts.setIFunction(problem.ifunction, r)
                ts.setIJacobian(problem.ijacobian, J, P or J)
            else:
                ts.setRHSFunction(problem.rhsfunction, r)
                ts.setRHSJacobian(problem.rhsjacobian, J, P or J)
        finally:
            destroy(r)
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
        test = NewtonTest(rtol, atol) if newton_test else None
        if test is not None:
            ts.getSNES().setConvergenceTest(test)
        _configure_ksp(ts.getSNES().getKSP(), ksp_type, ksp_rtol, pc_type)
        with option_defaults(prefix, defaults):
            ts.setFromOptions()
        if test is not None:  # Newton stops at the tolerances in force: -PREFIX_ts_rtol/-PREFIX_ts_atol included
            test.rtol, test.atol = ts.getTolerances()
    except BaseException:
        ts.destroy()
        raise
    return ts


def _configure_ksp(ksp, ksp_type, ksp_rtol, pc_type):
    """The linear solver of :func:`build_ts` (its own frame: the borrowed KSP/PC references die here)."""
    ksp.setType(ksp_type)
    if ksp_type != "preonly":
        ksp.setTolerances(rtol=ksp_rtol)
    ksp.getPC().setType(pc_type)
    if parallel() and pc_type in ("lu", "cholesky"):
        ksp.getPC().setFactorSolverType("mumps")
