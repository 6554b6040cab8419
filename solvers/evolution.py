"""Time integration of the kinetic equation (seed 000 Eq. (S26)-(S31)) with PETSc TS.

The DAE G(fdot, f) = M(f) fdot - I(f) = 0 (``pde.kinetic.KineticModel``) is
given to TS in implicit form (setIFunction/setIJacobian), BDF by default with
adaptive steps; every choice can be changed with options under ``-kin_``
(``-kin_ts_type arkimex``, ``-kin_ts_rtol``, ``-kin_ksp_type`` ...).

The Jacobian dG/df + a dG/dfdot is applied exactly and matrix-free (a Python
shell Mat: FFT products for the Sigma kernel, sparse stencils for the
derivatives); the preconditioner is its sparse part a diag(1 - Sigma') - dI/df,
assembled (exact collision Jacobian) and factorised, and re-formed only when the shift a
moved or GMRES slowed down.  While the mass matrix is definite, Newton stops as in IDA, at
the step's error tolerance (``solvers.ts.NewtonTest``): about one Newton iteration and ten
kernel products per step on the Fig. 1(b) problem (``benchmarks/evolve_ida.py``).

The instability is a result, not a crash: the integration stops with
``status = "unstable"`` when, on an accepted step, max|f - f0(T0)| grows beyond ``growth_limit``
times its initial value, the mass matrix loses definiteness, or the step collapses to h_min (the
seed's IDA criterion), and reports the time, the energies where |f - f0| grows fastest, the growth
rate, and the zeros of Z0^-1 for comparison.  A solver that fails is not physics: a PETSc error inside
TSSolve (an explicit TS type, a failed factorisation), TS giving up (a negative converged reason:
too many Newton failures or rejected steps before any criterion above), or a step collapse during
which linear solves failed give ``status = "solver_failed"`` with PETSc's reason by name
(``solvers.failures``).  A SciPy BDF reference integrator (dense, small N) is
:func:`evolve_scipy`.
"""

from __future__ import annotations

import sys

import numpy as np
import scipy.sparse as sp

from ephkin.pde.instability import zinv_analysis
from ephkin.pde.kinetic import KineticModel, fit_decay_rate

from . import prefixes
from .bridge import aij, comm, destroy, gather, parallel, scatter, set_rows, sharing, vec
from .failures import SOLVER_FAILED, STOPPED_EARLY, reason_name, ts_failure
from .petsc_env import init_petsc
from .ts import build_ts

PREFIX = prefixes.KINETIC
PC_BAND_MAX = 512  # widest band of the kernel K kept in the preconditioner of an indefinite mass matrix
#: BDF order while the mass matrix is definite (docs/theory.md §10.7, "Error control").  The linearised problem
#: has real decay rates (Eq. (14): A > 0, M symmetric), on which every BDF up to order 6 is stable; order 4 keeps
#: the A(alpha)-stability sector wide (73 degrees; order 5: 51) and took 123 steps against order 2's 409 on
#: Fig. 1(b) at rtol 1e-8, both with the RMS norm and the tolerances as given, 12x less error (docs/benchmarks.md,
#: "Work-precision").  An indefinite mass matrix keeps PETSc's order 2.
BDF_ORDER = 4
#: ``rtol`` at and above which TS's per-step tolerances are ``rtol``/``atol`` themselves; below it they are
#: tightened by (rtol / TOL_PIVOT)^(1/order) (:func:`step_tolerances`), so that the global error follows rtol.
TOL_PIVOT = 1e-6

__all__ = ["evolve", "evolve_burgers", "evolve_scipy", "linear_modes", "linear_prediction", "mass_loss",
           "slowest_rate", "step_tolerances"]


class _Unstable(Exception):
    """Raised from the monitor to stop TS: the instability is the result."""


class _SolverStop(Exception):
    """Raised from the monitor to stop TS: the solver failed (``reason``: PETSc's reason by name)."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason, self.message = reason, message


class _JacobianShell:
    """J v = a M(f) v + (dM(f)/df fdot) v - dI/df v, all exact (Sigma' = D Sigma, Sigma = -K g + tail;
    I = a_ep I_ep/pi + a_ee I_ee of Eq. (15): the e-ph part by its stencil (combs) or FFT, the e-e part by
    FFT; ``KineticModel.collisions_jvp``), nothing assembled."""

    def __init__(self, model):
        self.m = model
        self.f = self.fdot = None
        self.a = 0.0
        self.Je = None

    def update(self, f, fdot, a, Je=None):
        m = self.m
        self.f, self.fdot, self.a, self.Je = f.copy(), fdot.copy(), a, Je
        self.diag = m.mass_diag(f)
        self.fp = m.f_prime(f)
        self.Kfdot = m.K.matvec(fdot)

    def mult(self, mat, x, y):
        m, v = self.m, gather(x)
        Kv = m.K.matvec(v)
        # d/df [(1 - Sigma'(f)) fdot]: Sigma' = D(-K g) -> -Sigma' change = D K v
        dsig = m.derivative(-Kv, 0.0, [0.0, 0.0])
        # d/df [-f' (K fdot)] = -(D v) (K fdot)
        dfp = m.derivative(v, 0.0, [0.0, 0.0])
        dI = m.collisions_jvp(self.f, v, self.Je)
        scatter(self.a * (self.diag * v - self.fp * Kv) - dsig * self.fdot - dfp * self.Kfdot - dI, y)


def _banded_kernel(model, rows_tol=1e-10):
    """Sparse f'-row-scaled part of K kept in the preconditioner: |i - j| <= 2 r_max (+ the Hankel
    corner), on the rows where |f0'| is not negligible (elsewhere f' K is ~ 0)."""
    L, K = model.L, model.K
    # capped: with a continuous alpha^2F (r_max ~ L/5) the whole band would be dense rows
    b = min(L - 1, 2 * int(np.max(model.p.r)) + 2, PC_BAND_MAX)
    fp = np.abs(model.p.fp)
    rows_on = np.nonzero(fp > rows_tol * fp.max())[0]
    R, C, V = [], [], []
    for i in rows_on:
        j = np.arange(max(0, i - b), min(L, i + b + 1))
        R.append(np.full(j.size, i))
        C.append(j)
        V.append(K.t[np.abs(i - j)] - K.h[i + j])
    return sp.csr_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(C))), shape=(L, L))


def _matrices(PETSc, model, shell, Kb, definite):
    """The shell Jacobian and the preconditioner matrix, preallocated with its exact pattern, so reassembly is
    cheap: the diagonal while the mass matrix is definite; else also the banded kernel rows and, for combs,
    the exact e-ph collision stencil."""
    L = model.L
    pattern = (sp.identity(L, format="csr") + abs(model.derivative_matrix())).tocsr()
    if not definite:
        pattern = pattern + abs(Kb)
        if not model.p.ep_fft:
            pattern = pattern + abs(model.collisions_jacobian(model.f_eq))
    J = P = None
    try:  # both are the caller's once returned; destroyed here if the set-up fails
        J = PETSc.Mat().createPython([L, L], context=shell, comm=comm())
        J.setUp()
        P = aij(pattern.tocsr(), values=False)
        P.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    except BaseException:
        destroy(J, P)
        raise
    return J, P


class KineticTS:
    """The DAE M(f) fdot = I_ep(f) of Eq. (S27) as TS callbacks (petsc4py ``demo/ode`` style), with the
    history and the stopping rules of the instability (growth, step collapse, loss of definiteness)."""

    def __init__(self, model, f_init, t_end, growth_limit, h_min, snapshots=None, progress=None, on_step=None,
                 pc_its=8):
        self.m, self.t_end, self.growth_limit, self.h_min = model, t_end, growth_limit, h_min
        self.snapshots, self.progress, self.on_step = snapshots, progress, on_step
        self.dev0 = float(np.max(np.abs(model.deviation(f_init))))
        self.window = model.p.E < model.p.grid.cutoff - 2.0 * float(np.max(model.p.omega_r))
        self.definite = float(np.min(model.mass_diag(f_init)[self.window])) > 0
        # preconditioner: a diag(1 - Sigma') - dI/df; the banded kernel part -a f' K only when the mass
        # matrix is indefinite (there GMRES needs it; for a definite mass its LU costs more than it saves)
        self.Kb = sp.csr_matrix((model.L, model.L)) if self.definite else _banded_kernel(model)
        self.shell = _JacobianShell(model)
        self.a_pc, self.pc_its = None, pc_its
        self._pc_pattern = None  # the positions of the diagonal among the definite P's stencil entries
        self.fdot_last = None  # the last accepted step's backward difference (f_n - f_n-1)/dt
        self.linear_failures, self.linear_reason = 0, None  # failed Krylov solves (a solver failure, not physics)
        self.replayed = False  # a stored run's steps were replayed: TS's first monitor call repeats the last
        self.hist = {"t": [], "dev": [], "energy": [], "power": [], "mass_min": [], "number": [], "T_eff": [],
                     "f": []}

    def ifunction(self, ts, t, X, Xdot, F):
        scatter(self.m.residual(gather(Xdot), gather(X)), F)

    def ijacobian(self, ts, t, X, Xdot, a, J, P):
        m = self.m
        f, fdot = gather(X), gather(Xdot)
        r = ts.getSNES().getKSP().getConvergedReason()  # the previous linear solve's (0 before the first)
        if r < 0:
            self.linear_failures, self.linear_reason = self.linear_failures + 1, r
        Je = m.ee_jacobian(f) if m.a_ee > 0 else None
        sh = self.shell
        sh.update(f, fdot, a, Je)  # the operator is always the exact Jacobian at this iterate
        if self._refresh_pc(ts, a):
            if self.definite:
                # a diag(1 - Sigma') - diag(dI/df) - diag(K fdot) D: the shift, the collisions' diagonal (the
                # exact sparse e-ph Jacobian factorised by LU takes the same GMRES iterations: Fig. 1(b),
                # Einstein refine 128, 244 over 58 steps either way) and the stencil of d/df [f' Sigma-dot],
                # whose size |K fdot|/eps outgrows the shift on fine grids (Pb model, refine 256 / 512: 273 /
                # 416 GMRES iterations without it, 229 / 229 with it).  Pentadiagonal: LU without fill-in
                # (natural ordering)
                D = m.derivative_matrix()
                counts = np.diff(D.indptr)
                if self._pc_pattern is None:  # where the diagonal sits among the stencil's entries (once)
                    self._pc_pattern = np.nonzero(D.indices == np.repeat(np.arange(m.L), counts))[0].astype(np.int32)
                vals = D.data * np.repeat(sh.Kfdot, counts)  # in place of scipy sums: no L x 5 temporaries
                np.negative(vals, out=vals)
                vals[self._pc_pattern] += a * sh.diag - m.collisions_jacobian_diagonal(f, Je)
                set_rows(P, sp.csr_matrix((vals, D.indices, D.indptr), shape=D.shape, copy=False))
            else:
                # indefinite: the banded kernel part -a f' K too, and the e-ph part exactly (combs) or its
                # diagonal (FFT operators); the e-e part by its leading diagonal
                JP = (m.collisions_jacobian_approx(f, Je) if not m.p.ep_fft
                      else sp.diags(m.collisions_jacobian_diagonal(f, Je)))
                set_rows(P, (a * (sp.diags(sh.diag) - sp.diags(sh.fp) @ self.Kb) - JP).tocsr())
            self.a_pc = a
        J.assemble()
        return True

    def _refresh_pc(self, ts, a):
        """Whether to re-form the preconditioner (an unchanged P keeps its factorisation: PCSetUp
        compares the matrix state).  IDA's rule: when the shift a = dG/dfdot weight left [0.6, 1/0.6]
        times its value at the last factorisation, or when the last linear solve needed more than
        ``pc_its`` GMRES iterations; at every Newton iteration while the mass matrix is indefinite."""
        if not self.definite or self.a_pc is None or not 0.6 <= a / self.a_pc <= 1.0 / 0.6:
            return True
        return ts.getSNES().getKSP().getIterationNumber() > self.pc_its

    def monitor(self, ts, step, t, X):
        if self.replayed:  # TS's step 0 is the last replayed step (evolve(..., replay=...)), recorded already
            self.replayed = False
            return
        f = gather(X).copy()
        dev = self.record(t, f)
        if not np.all(np.isfinite(f)) or dev > self.growth_limit * max(self.dev0, 1e-12):
            raise _Unstable(f"max|f - f0| exceeded {self.growth_limit:g} x its initial value")
        if step > 10 and ts.getTimeStep() <= 1.01 * self.h_min:
            if self.linear_failures:  # the steps were cut because the linear solver failed: not the physics
                PETSc, _ = init_petsc()
                name = reason_name(PETSc.KSP.ConvergedReason, self.linear_reason)
                prefix = "-" + (ts.getOptionsPrefix() or "")
                raise _SolverStop("DIVERGED_LINEAR_SOLVE", f"the time step collapsed after {self.linear_failures} "
                                  f"failed linear solves (KSP {name}); check the {prefix}ksp_/{prefix}pc_ options")
            raise _Unstable(f"the time step collapsed to h_min = {self.h_min:g} (fast growth)")
        if self.definite and self.hist["mass_min"][-1] <= 0:
            raise _Unstable("the mass matrix 1 - Sigma'[f] lost definiteness during the evolution")

    def record(self, t, f):
        """One accepted step (t, f) into the history, ``on_step``, the snapshots and the progress; returns
        max|f - f0|.  Also the replay of a stored run's steps (restart)."""
        m, hist = self.m, self.hist
        dev = float(np.max(np.abs(m.deviation(f))))
        hist["t"].append(t)
        hist["dev"].append(dev)
        hist["energy"].append(m.energy(f))
        hist["power"].append(m.energy_rate_collisions(f))
        hist["mass_min"].append(float(np.min(m.mass_diag(f)[self.window])))
        hist["number"].append(m.particle_number(f))
        if m.a_ee > 0:  # Eq. (S6): the temperature whose f0 has the energy of f (Eq. (16) when a_ee >> a_ep)
            hist["T_eff"].append(_t_eff(m, f, hist["T_eff"][-1] if hist["T_eff"] else None))
        # only the latest state and its backward difference (the last step's df/dt, where the growth
        # peaks) are kept: memory independent of the number of steps
        prev = hist["f"][-1] if hist["f"] else None
        if prev is not None and len(hist["t"]) > 1 and hist["t"][-1] > hist["t"][-2]:
            self.fdot_last = (f - prev) / (hist["t"][-1] - hist["t"][-2])
        hist["f"] = [f]
        # the history row first: a snapshot may close an HDF5 chunk, and after a kill -9 the table must hold every
        # step the time series does
        if self.on_step is not None:
            self.on_step(t, {k: v[-1] for k, v in hist.items() if k != "f" and v})
        if self.snapshots is not None:
            self.snapshots(t, f)
        if self.progress is not None:
            self.progress(t, self.t_end)
        return dev


def _t_eff(model, f, guess):
    """T_eff of f (``KineticModel.t_eff``), None where no temperature has its energy (C_el < 0 window)."""
    from ephkin.pde.errors import InputError

    try:
        return model.t_eff(f, guess if guess is not None else None, rtol=1e-10)
    except InputError:
        return None


def _solve(PETSc, ts, x):
    """Run ``ts``; returns (status, reason, solver_reason).  The instability (a monitor's _Unstable: growth,
    loss of definiteness, the step collapsed to h_min on accepted steps) is physics, "unstable"; a PETSc
    error inside TSSolve, a negative converged reason (TS gave up before any of those criteria) or a
    monitor's _SolverStop is "solver_failed" with PETSc's reason by name and a suggestion as ``reason``."""
    try:
        ts.solve(x)
    except _Unstable as exc:
        return "unstable", str(exc), None
    except _SolverStop as exc:
        return SOLVER_FAILED, exc.message, exc.reason
    except PETSc.Error as exc:
        name, message = ts_failure(PETSc, ts, exc)
        return SOLVER_FAILED, message, name
    if ts.getConvergedReason() < 0:
        name, message = ts_failure(PETSc, ts)
        return SOLVER_FAILED, message, name
    t, t_end = ts.getTime(), ts.getMaxTime()
    if t < t_end * (1.0 - 1e-12):  # TS ended (its step limit) before t_end with no verdict: not a result
        name = reason_name(PETSc.TS.ConvergedReason, ts.getConvergedReason())
        return (STOPPED_EARLY, f"stopped at t = {t:.4g} before t_end = {t_end:g} ({name}: the step limit, "
                f"-{ts.getOptionsPrefix() or ''}ts_max_steps {ts.getMaxSteps()}, was reached); raise it", name)
    return "stable", None, None


def step_tolerances(rtol, atol, order=BDF_ORDER):
    """The per-step tolerances given to TS for a global error of f that follows ``rtol``: (rtol s, atol s),
    s = min(1, (rtol / TOL_PIVOT)^(1/order)) (docs/theory.md §10.7, "Error control").

    TS bounds the error each step makes (error per step); summed over the ~tol^(-1/(p+1)) steps of a method
    of order p, the global error of f then scales as tol^(p/(p+1)): a tenth of rtol gave 4-6x less error, not
    10x (docs/benchmarks.md).  Tightening the step tolerance by (rtol/TOL_PIVOT)^(1/p) makes the global error
    proportional to rtol below TOL_PIVOT, and leaves the default run (rtol = TOL_PIVOT) as it was."""
    s = min(1.0, (rtol / TOL_PIVOT) ** (1.0 / max(int(order), 1)))
    return rtol * s, atol * s


def evolve(model: KineticModel, T_in, t_end, rtol=1e-6, atol=1e-9, growth_limit=100.0,
           snapshots=None, progress=None, h_min=1e-7, on_step=None, f_init=None, replay=None):
    """Integrate from f0(T_in) (or ``f_init``) to t_end (or until the instability); returns a result dict.

    BDF with adaptive steps on the implicit form; failed steps are retried with smaller dt, and a
    collapse of dt below h_min is the instability (what the seed's IDA reports as h < h_min).  ``rtol`` and
    ``atol`` bound the error of f (docs/theory.md §10.7, "Error control"): while the mass matrix is definite,
    BDF of order :data:`BDF_ORDER`, every component's step error within atol + rtol |f| (the max norm, not
    the RMS over the grid), and the step tolerances of :func:`step_tolerances`; ``-kin_ts_rtol``,
    ``-kin_ts_atol``, ``-kin_ts_bdf_order`` and ``-kin_ts_adapt_wnormtype`` set TS's own values instead.
    ``snapshots``: optional callable (t, f) called at every accepted step (e.g. an
    XDMF writer).  ``progress``: optional callable (t, t_end) for rank-0 progress.  ``on_step``:
    optional callable (t, {"t", "dev", "energy", "power", "mass_min"}) at every accepted step (e.g. a
    history table written as the run goes).  ``f_init``: the state at t = 0 (default f0(T_in); any initial state,
    ``pde.initial_states``).  ``replay`` = (times, rows): the accepted steps of an earlier run of the same
    problem from t = 0 (``solvers.restart.StoredRun``), recorded as if just taken (history, ``on_step``,
    snapshots), and the integration continues from the last one with the last step size; ``f_init`` is then
    that run's t = 0 state (the growth and definiteness criteria refer to it).  BDF restarts at first order
    there, so the continuation agrees with an uninterrupted run to the integration tolerances, not bitwise.
    """
    PETSc, _ = init_petsc()
    f_init = model.initial(T_in) if f_init is None else np.asarray(f_init, dtype=float)
    problem = KineticTS(model, f_init, t_end, growth_limit, h_min, snapshots, progress, on_step)
    t0, f_start, dt0, steps0 = 0.0, f_init, 1e-3, 0
    if replay is not None:
        times, rows = replay
        for t, f in rows:
            problem.record(t, np.array(f, dtype=float))
        t0, f_start = float(times[-1]), problem.hist["f"][-1]
        dt0 = float(times[-1] - times[-2]) if len(times) > 1 else dt0
        steps0, problem.replayed = len(times) - 1, True
    J = P = x = ts = None
    try:  # every PETSc object of the run is created inside this try, destroyed in its finally
        J, P = _matrices(PETSc, model, problem.shell, problem.Kb, problem.definite)
        x = vec(f_start)
        # While the mass matrix is definite (a well-posed problem), like IDA: Newton stops at the
        # integration tolerances (ts.NewtonTest), so each linear solve needs only 1e-3, and the
        # preconditioner is kept while it works (KineticTS._refresh_pc).  With 1 - Sigma' < 0 somewhere
        # the step collapse is the result, and PETSc's residual test with tight linear solves finds it at
        # once (an update-size test lets TS creep on with tiny steps into noise).  The operator is the
        # exact Jacobian at every iterate (never lagged: with a stale one, e.g. an old shift a, the Newton
        # update is off by a/a_old and an update-size test would accept it).  -kin_* options win.
        # the definite mass matrix's preconditioner is pentadiagonal: LU in the natural ordering has no fill-in.
        # On a group of ranks each factorises its own diagonal block (block Jacobi: the two entries that couple
        # neighbouring blocks are dropped, the Krylov counts stay those of one rank).  MUMPS on a band has a chain
        # as elimination tree, nothing to share, and cost 0.22 s per solve at L = 102 400 on 2 ranks against
        # 1 ms for this LU (80 % of a 139 s run; docs/benchmarks.md, "Grouped points").
        pc_type, pc_defaults = "lu", {"pc_factor_mat_ordering_type": "natural", "pc_factor_fill": "1.0"}
        if problem.definite and parallel():
            pc_type, pc_defaults = "bjacobi", {"sub_" + k: v for k, v in dict(pc_defaults, pc_type="lu").items()}
        step_rtol, step_atol = rtol, atol
        if problem.definite:
            # the error control of docs/theory.md §10.7: BDF order 4, each component's error within its own
            # tolerance (PETSc's default RMS norm over the grid lets the error where f changes grow with the
            # number of points where it does not), and step tolerances for a global error that follows rtol
            order = PETSc.Options().getInt(PREFIX + "ts_bdf_order", BDF_ORDER)
            pc_defaults = dict(pc_defaults, ts_bdf_order=str(BDF_ORDER), ts_adapt_wnormtype="infinity")
            step_rtol, step_atol = step_tolerances(rtol, atol, order)
        ts = build_ts(problem, PREFIX, x, t_end, rtol=step_rtol, atol=step_atol, dt=dt0, J=J, P=P, ksp_type="gmres",
                      pc_type=pc_type, ksp_rtol=1e-3 if problem.definite else 1e-10,
                      h_min=h_min, max_snes_failures=50, defaults=pc_defaults if problem.definite else None,
                      max_rejections=50, newton_test=problem.definite)
        ts.setTime(t0)  # a restart continues at its last stored step
        opts = PETSc.Options()
        if (problem.definite and opts.getInt(PREFIX + "snes_lag_jacobian", 1) != 1
                and not opts.hasName(PREFIX + "snes_convergence_test")):
            print("ephkin: warning: -kin_snes_lag_jacobian with IDA's Newton rule (an update-size test) can "
                  "accept the too-short update of a stale Jacobian; add -kin_snes_convergence_test default",
                  file=sys.stderr)
        if ts.getType() == PETSc.TS.Type.ARKIMEX:
            print("ephkin: warning: -kin_ts_type arkimex assumes a state-independent mass matrix; here "
                  "M(f) = 1 - Sigma'[f] - f'K varies with f (measured: 5% off on Fig. 1(b)); prefer bdf "
                  "(default), beuler or theta", file=sys.stderr)
        # the kernel products (and the e-ph FFT operators of a continuous alpha^2F) shared by the group's ranks
        with sharing(model.K, model.ep.ops):
            status, reason, solver_reason = _solve(PETSc, ts, x)
        steps = steps0 + ts.getStepNumber()  # a restart's count includes the replayed steps
        # Newton iterations and GMRES iterations (= Jacobian products) over all steps, rejected ones included
        solver_its = {"newton_iterations": ts.getSNESIterations(), "krylov_iterations": ts.getKSPIterations()}
    finally:
        destroy(ts, J, P, x)
    out = _result(model, problem.hist, status, reason, steps, problem.dev0, t_end, problem.fdot_last)
    if solver_reason is not None:
        out["solver_reason"] = solver_reason
    return {**out, **solver_its}


#: ``mass_loss``: half-width (grid points) of the moving average that separates a grid-scale loss of definiteness
#: from a resolved one.  The mode that the delta-spectrum equation amplifies fastest has a 4-6 point period
#: (docs/grid-convergence.md); averaging over 2 x 8 + 1 points leaves ~10% of it.
MASS_SMOOTH_HALF_WIDTH = 8


def mass_loss(model, f, window, half_width=MASS_SMOOTH_HALF_WIDTH):
    """Where and how 1 - Sigma'[f] is <= 0 in ``window``: the energy and value of its minimum, the number of
    points <= 0, the longest run of consecutive ones, and the minimum of its moving average over
    2 ``half_width`` + 1 points near the minimum.  ``grid_scale`` is True when that average stays positive: the
    negative values are isolated grid points of an oscillation, not a resolved region (on the Einstein
    lambda = 1 runs of docs/grid-convergence.md: runs of 1 point, averaged minimum 0.090-0.096; lambda = 2.169,
    where Z0^-1 < 0: 54 points, 0.937 < E < 1.297).  None when 1 - Sigma'[f] > 0 throughout."""
    d = model.mass_diag(f)
    dw = np.where(window, d, np.inf)
    i = int(np.argmin(dw))
    if not dw[i] <= 0:
        return None
    neg = np.isfinite(dw) & (dw <= 0)
    longest = run = 0
    for x in neg:
        run = run + 1 if x else 0
        longest = max(longest, run)
    k = int(half_width)
    lo, hi = max(0, i - 4 * k), min(d.size, i + 4 * k + 1)
    smooth = np.convolve(d[lo:hi], np.ones(2 * k + 1) / (2 * k + 1), mode="valid")
    smin = float(np.min(smooth)) if smooth.size else float(dw[i])
    return {"E": float(model.p.E[i]), "min": float(dw[i]), "negative_points": int(np.sum(neg)),
            "longest_negative_run": int(longest), "smoothed_min": smin, "smoothing_points": 2 * k + 1,
            "grid_scale": smin > 0}


def _result(model, hist, status, reason, steps, dev0, t_end, fdot_last=None):
    t = np.asarray(hist["t"])
    dev = np.asarray(hist["dev"])
    out = {"status": status, "steps": int(steps), "t_final": float(t[-1]) if t.size else 0.0,
           "initial_deviation": dev0, "max_deviation": float(dev[-1]) if dev.size else dev0,
           "min_mass_diagonal": float(np.min(hist["mass_min"])) if hist["mass_min"] else None}
    # Z0^-1's zeros for comparison: of the spectrum on the grid (combs), or of the continuous alpha^2F itself
    # (a scan over its thousands of grid frequencies would cost more than the evolution)
    z = zinv_analysis(model.p.spectrum if model.p.ep_fft else model.p.proj, model.T0)
    out["zinv_zeros"] = z["zeros"]
    out["zinv_min"] = z["zinv_min"]
    if status == "unstable":
        out["reason"] = reason
        out["t_instability"] = out["t_final"]
        if hist["f"]:
            window = model.p.E < model.p.grid.cutoff - 2.0 * float(np.max(model.p.omega_r))
            chosen, listing, top = model.growth_peaks(hist["f"][-1], window, fdot=fdot_last)
            out["growth_energies"] = chosen
            out["growth_peaks"] = [{"E": e, "relative_rate": r} for e, r in listing]
            out["growth_rate"] = top  # max |fdot|/|f - f0| at t_instability (grid-regularised, cf. Eq. (11))
            loss = mass_loss(model, hist["f"][-1], window)
            if loss is not None:
                out["mass_loss"] = loss
    elif status in (SOLVER_FAILED, STOPPED_EARLY):  # no verdict: why it stopped (numbers up to t_final stand)
        out["reason"] = reason
    else:
        rate, window = fit_decay_rate(t, dev)
        out["decay_rate"], out["decay_fit_window"] = rate, window
    e = np.asarray(hist["energy"])
    out["energy_change"] = float(e[-1] - e[0]) if e.size else 0.0
    if e.size > 1:
        # Eq. (S6) integrated: eps_el(t) - eps_el(0) against int_0^t 2 int E I_ep (trapezoid over steps)
        work = float(np.sum(0.5 * (np.asarray(hist["power"][1:]) + np.asarray(hist["power"][:-1])) * np.diff(t)))
        out["energy_from_collisions"] = work
        # relative to the energy exchanged with the bath; without e-ph collisions (a_ep = 0) nothing is, the
        # energy is conserved (Eq. (S24)), and the error is relative to the initial state's energy above f0(T0)
        scale = abs(work) if model.a_ep > 0 else max(abs(work), abs(float(e[0])))
        out["energy_balance_error"] = abs(out["energy_change"] - work) / max(scale, 1e-300)
    N = np.asarray(hist["number"])
    out["particle_number_drift"] = float(np.max(np.abs(N - N[0]))) if N.size else 0.0
    out["a_ep"], out["a_ee"] = model.a_ep, model.a_ee
    if hist["f"]:
        guess = next((x for x in reversed(hist["T_eff"]) if x is not None), None)
        out["T_eff_final"] = _t_eff(model, hist["f"][-1], guess)
    out["history"] = {"t": t.tolist(), "max_deviation": dev.tolist(), "energy": e.tolist()}
    if hist["T_eff"]:
        out["history"]["T_eff"] = hist["T_eff"]
    out["f_final"] = hist["f"][-1] if hist["f"] else None
    return out


def evolve_scipy(model: KineticModel, T_in, t_end, rtol=1e-6, atol=1e-9, t_eval=None, f_init=None):
    """Reference integrator: M(f) fdot = I(f) solved densely, SciPy's BDF (small N only), from f0(T_in) or
    ``f_init``."""
    import scipy.linalg as sla
    from scipy.integrate import solve_ivp

    f0 = model.initial(T_in) if f_init is None else np.asarray(f_init, dtype=float)
    Kd = model.K.dense()

    def rhs(t, f):
        M = np.diag(model.mass_diag(f)) - model.f_prime(f)[:, None] * Kd
        return sla.solve(M, model.collisions(f))

    M0 = np.diag(model.mass_diag(model.f_eq)) - model.f_prime(model.f_eq)[:, None] * Kd
    jac = sla.solve(M0, model.collisions_jacobian(model.f_eq).toarray())
    sol = solve_ivp(rhs, (0.0, t_end), f0, method="BDF", rtol=rtol, atol=atol, jac=jac, t_eval=t_eval)
    return sol


def linear_modes(problem):
    """(gamma, X): every mode of M_hat x = gamma A_hat x (Eq. (14) scaled), A_hat-orthonormal, by one dense
    LAPACK ``eigh`` (A > 0, small L): shared by the modal prediction and the slowest rate."""
    import scipy.linalg as sla

    Mh = problem.m_matrix(scaled=True)
    return sla.eigh(Mh if isinstance(Mh, np.ndarray) else Mh.toarray(), problem.ahat_dense())


def linear_prediction(model, f_init, t, modes=None):
    """delta f(t) predicted by the linearised equation A phidot = -M phi (Eq. (13)), modal expansion.

    In scaled variables x = phi/s: M_hat x_n = gamma_n A_hat x_n with A_hat-orthonormal
    x_n (``modes`` = :func:`linear_modes`, computed if not given); x(t) = sum_n (x_n^T A_hat x0)
    exp(-gamma_n t) x_n.  Null modes of M (ladder modes, gamma = 0) are conserved (docs/theory.md §5).
    """
    p = model.p
    gam, X = linear_modes(p) if modes is None else modes
    x0 = -(np.asarray(f_init) - model.f_eq) / p.fp / p.s
    coef = X.T @ p.ahat_matvec(x0)
    xt = X @ (coef * np.exp(-np.maximum(gam, 0.0) * t))
    return -p.fp * p.s * xt


def slowest_rate(model):
    """gamma_min_positive of the linearised problem on the same grid (the decay-rate cross-check)."""
    from .stability import stability_summary

    return stability_summary(model.p, nev=2, counts=False)["gamma_min_positive"]



class BurgersTS:
    """Eq. (8) (``pde.burgers.BurgersModel``) as TS callbacks: residual, the tridiagonal Jacobian
    a diag(Z0^-1) - d rhs/df, and the stopping rules of :class:`KineticTS`."""

    def __init__(self, model, T_in, growth_limit, h_min):
        self.m, self.growth_limit, self.h_min = model, growth_limit, h_min
        self.dev0 = float(np.max(np.abs(model.deviation(model.initial(T_in)))))
        self.hist = {"t": [], "dev": []}

    def ifunction(self, ts, t, X, Xdot, F):
        scatter(self.m.residual(gather(Xdot), gather(X)), F)

    def ijacobian(self, ts, t, X, Xdot, a, J, P):
        set_rows(P, (sp.diags(a * self.m.zinv) - self.m.rhs_jacobian(gather(X))).tocsr())
        return True

    def monitor(self, ts, step, t, X):
        dev = float(np.max(np.abs(self.m.deviation(gather(X)))))
        self.hist["t"].append(t)
        self.hist["dev"].append(dev)
        if not np.isfinite(dev) or dev > self.growth_limit * self.dev0:
            raise _Unstable(f"max|f - f0| exceeded {self.growth_limit:g} x its initial value")
        if step > 10 and ts.getTimeStep() <= 1.01 * self.h_min:
            raise _Unstable(f"the time step collapsed to h_min = {self.h_min:g} (fast growth)")


def evolve_burgers(model, T_in, t_end, rtol=1e-6, atol=1e-10, growth_limit=100.0, h_min=1e-7):
    """Eq. (8) with PETSc TS (options ``-kin_burgers_``), tridiagonal LU; same stopping rules as
    :func:`evolve`."""
    PETSc, _ = init_petsc()
    L = model.L
    problem = BurgersTS(model, T_in, growth_limit, h_min)
    x = J = ts = None
    try:  # every PETSc object of the run is created inside this try, destroyed in its finally
        x = vec(model.initial(T_in))
        J = aij(sp.diags([np.ones(L - 1), np.ones(L), np.ones(L - 1)], [-1, 0, 1]), values=False)
        ts = build_ts(problem, PREFIX + "burgers_", x, t_end, rtol=rtol, atol=atol, dt=1e-3, J=J, h_min=h_min,
                      max_snes_failures=50, max_rejections=50)
        status, reason, solver_reason = _solve(PETSc, ts, x)
        f_final = gather(x).copy()
    finally:
        destroy(ts, J, x)
    hist, dev0 = problem.hist, problem.dev0
    t = np.asarray(hist["t"])
    out = {"status": status, "t_final": float(t[-1]) if t.size else 0.0, "initial_deviation": dev0,
           "max_deviation": hist["dev"][-1] if hist["dev"] else dev0}
    if status == SOLVER_FAILED:
        out["reason"], out["solver_reason"] = reason, solver_reason
    elif status == "unstable":
        out["reason"] = reason
        grow = np.abs(model.deviation(f_final)) - np.abs(model.deviation(model.initial(T_in)))
        out["growth_energy"] = float(model.E[int(np.argmax(grow))])
    else:
        out["decay_rate"], out["decay_fit_window"] = fit_decay_rate(t, np.asarray(hist["dev"]))
    return out
