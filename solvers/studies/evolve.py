"""``evolve``: the full kinetic equation (docs/theory.md T1, Eq. (15)) with PETSc TS from f0(T_in), a
photoexcited pulse or a tabulated f (``initial``, ``pde.initial_states``), or continuing an earlier run
(``restart``, ``solvers.restart``).

Relaxation (the decay rate against the slowest linear gamma, the deviation against the modal prediction of
Eq. (13)) or the instability (its time, energies and rate); with a_ee > 0, T_eff(t) against the
two-temperature equation (16); with ``converge``, the same run on a grid twice as coarse and the verdict
"converged" or "grid-dependent" (docs/grid-convergence.md).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ephkin.pde.errors import InputError
from ephkin.pde.syntax import INITIAL_HELP

from .. import progress as engine_progress
from ..failures import NOT_PHYSICS, SOLVER_FAILED, STOPPED_EARLY, SolverFailed
from ..prefixes import KINETIC
from ..stability.common import DENSE_MAX
from .base import Array, Progress, Result, Study, out, param
from .common import (
    ENERGY,
    ElectronElectronParams,
    EnergyGridParams,
    SpectrumParams,
    TimeSeriesParams,
    check_readable,
)
from .petsc import petsc_scope
from .tracking import snapshots, tenth_reporter

#: Largest grid on which ``evolve`` compares with the linear problem by default: where the comparison costs
#: less than the evolution (measured, Einstein lambda = 1, T0 = 0.2, t_end = 20, whose ladder null modes of M
#: make it dearest: L = 3200: 0.4 s of 1.0 s; L = 6400: 1.8 s of 2.5 s; L = 12 800: 5.7 s of 6.7 s).
DIAGNOSTICS_MAX_L = 5000
#: Default limit of evolve's dense modal prediction (one O(L^3) eigh, ~0.3 s).
PREDICTION_MAX_L = 1200
#: ``converge``: two grids' instability times agree when they differ by at most this fraction of the later
#: one.  The time is read at accepted BDF steps, which late in a run grow by ~20% each (Fig. 1(b) problem:
#: t = 8.15 -> 9.75), so one step is the resolution of t_instability; the grid-scale loss of definiteness of
#: the Einstein lambda = 1 run moves by a factor 2.3-2.9 per halving of the step (docs/grid-convergence.md).
GRID_T_TOL = 0.25
#: ... and two stable runs agree when the minima of 1 - Sigma'[f] and the decay rates differ by at most this
#: fraction (the converged Fig. 1(b) problem: 4e-4 between refine 64 and 128; the same grids with 1e-8 noise
#: in f(0), where the grid-scale growth has started: 0.22).
GRID_REL_TOL = 0.1


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvolveParams(TimeSeriesParams, ElectronElectronParams, EnergyGridParams, SpectrumParams):
    """Parameters of :func:`run` (``ephkin evolve``)."""

    T0: float = param(help="phonon (bath) temperature T0", unit=ENERGY, positive=True)
    T_in: float = param(help="initial electron temperature T_in (Eq. S29)", unit=ENERGY, positive=True)
    t_end: float = param(help="final time (rescaled, pi t -> t)", unit="time", positive=True)
    rtol: float = param(
        1e-6,
        help="relative tolerance of f: the error of f(E, t_end) stays within a fraction of rtol max|f| + atol "
        "(measured 0.01-0.3 x rtol for rtol <= 1e-6) and falls in proportion to rtol below 1e-6, where the "
        "per-step tolerances given to TS are tightened by (rtol/1e-6)^(1/4) (docs/theory.md §10.7, "
        "'Error control'; -kin_ts_rtol sets TS's own)",
        positive=True,
    )
    atol: float = param(1e-10, help="absolute tolerance of f, scaled with rtol the same way", positive=True)
    growth_limit: float = param(
        100.0, positive=True, help="report 'unstable' when max|f - f0| exceeds this factor times its initial value"
    )
    reference: bool = param(False, help="also integrate with SciPy's BDF (dense, small N) and report the difference")
    a_ep: float = param(1.0, nonnegative=True, help="weight a_ep of electron-phonon collisions")
    diagnostics: bool | None = param(
        None,
        help="compare with the linear problem of Eq. (14) (gamma_min_positive, "
        "unstable modes; cost in diagnostics_seconds): --diagnostics at any "
        f"L (the modal prediction of Eq. (13) up to L = {DENSE_MAX}), "
        f"--no-diagnostics never; default: for L <= {DIAGNOSTICS_MAX_L} only, the "
        f"prediction for L <= {PREDICTION_MAX_L} only",
    )
    converge: bool = param(
        False,
        help="also run the same problem on a grid twice as coarse (step 2 eps, same "
        "cutoff) and report grid_check: both grids' status, t_instability or decay "
        "rate, min of 1 - Sigma'[f], and the verdict 'converged' or "
        "'grid-dependent' (docs/grid-convergence.md)",
    )
    initial: str = param(
        "thermal",
        metavar="STATE",
        help=f"the state f(E, 0) (docs/theory.md §10.8): {INITIAL_HELP}",
    )
    restart: str | None = param(
        None,
        metavar="DIR",
        help="continue the run of an earlier 'evolve -o DIR' from its last stored step: the same parameters "
        "(only t_end may change, and flush_every; refused otherwise), its steps replayed into this run's "
        "history and time series (give a new -o), the integration continued with its last step size; the "
        "result agrees with an uninterrupted run to the TS tolerances (rtol, atol), not bitwise",
    )

    def check_more(self) -> None:
        super().check_more()
        from ephkin.pde.initial_states import parse_initial

        check_readable("initial", self.initial)
        parse_initial(self.initial).check(self.T_in)  # a file is read and checked here: finite, 0 <= f <= 1
        if self.restart is not None:
            from ..restart import check_same, read_run

            if self.converge:
                raise InputError(
                    "restart: converge runs the problem from t = 0 on a second grid; continue without converge",
                    "restart",
                )
            check_same(read_run(self.restart), self.to_dict())


@dataclasses.dataclass(kw_only=True)
class EvolveResult(Result):
    """Result of :func:`run`.  ``status`` is "stable" (f relaxed to f_eq within t_end), "unstable" (the
    deviation grew past growth_limit, the mass matrix lost definiteness, or the step collapsed: ``reason``), or
    "solver_failed" (PETSc failed or gave up: ``solver_reason``, no verdict)."""

    lam: float = out(key="lambda", help="coupling lambda")
    T0: float = out(unit=ENERGY, help="bath temperature")
    T_in: float = out(unit=ENERGY, help="initial electron temperature (of f0, or of the tails of a non-thermal state)")
    initial: str = out(default="thermal", help="the initial state (thermal, pulse:..., file:...)")
    restart_time: float | None = out(unit="time", help="time of the stored step a restart continued from")
    t_end: float = out(unit="time", help="final time asked for")
    grid_step: float = out(unit=ENERGY, help="energy grid step eps")
    L: int = out(help="grid points of the folded grid")
    cutoff: float = out(unit=ENERGY, help="energy cutoff of the folded grid")
    p_ee: str | None = out(omit_none=False, help="transition probability of the e-e collisions (None: e-ph only)")
    t_final: float | None = out(unit="time", help="time reached (t_end, or where the instability was found)")
    reason: str | None = out(help="why the run stopped early (unstable and solver_failed runs)")
    t_instability: float | None = out(unit="time", help="time of the instability (unstable runs)")
    growth_energies: list[float] | None = out(unit=ENERGY, help="energies where f - f0 grows fastest at t_instability")
    growth_rate: float | None = out(unit="1/time", help="max |fdot|/|f - f0| at t_instability")
    decay_rate: float | None = out(unit="1/time", help="late-time decay rate of max|f - f0| (stable runs)")
    initial_deviation: float | None = out(help="max|f - f0| at t = 0")
    max_deviation: float | None = out(help="max|f - f0| at t_final")
    min_mass_diagonal: float | None = out(help="minimum over the run of 1 - Sigma'[f] (negative: ill-posed)")
    zinv_min: float | None = out(help="min_E Z0^-1(E) at T0")
    energy_balance_error: float | None = out(help="relative error of the energy balance, Eq. (S6) integrated")
    particle_number_drift: float | None = out(help="max |N(t) - N(0)| (conserved by the collisions)")
    T_eff_final: float | None = out(unit=ENERGY, help="effective temperature of f at t_final (Eq. (S6))")
    E: Array | None = out(array=True, unit=ENERGY, help="energies of the grid")
    f_final: Array | None = out(array=True, help="f(E) at t_final")
    f_eq: Array | None = out(array=True, help="f0(E, T0)")
    history: dict[str, Any] | None = out(
        array=True, help="per accepted step: t, dev, energy, power, mass_min, T_eff (lists)"
    )
    zinv: Array | None = out(array=True, help="Z0^-1(E) on the grid")
    samples: list[Any] = out(array=True, default=[], help="some (t, f) of the run (with an XDMF writer)")
    files: list[str] = out(array=True, default=[], help="files written by the XDMF writer")
    T_two_temp: Array | None = out(array=True, unit=ENERGY, help="T(t) of Eq. (16) on the history's times")


def _gap(spec: Any, T0: float, T_in: float, a_ep: float, hist: dict[str, Any]) -> dict[str, Any]:
    """T_eff(t) of the kinetic run (Eq. (S6)) against T(t) of the two-temperature equation (16) from the same
    T_in: the limit a_ee >> a_ep of Eq. (15).  The gap is |T_eff - T_2T| / |T_in - T0|, its largest value
    after the initial layer (t >= t_final/10) and at the end; ``_T_two_temp`` is T_2T on the history's times."""
    from ephkin.pde.two_temperature import evolve_temperature

    t = np.asarray(hist["t"])
    Te = np.array([np.nan if x is None else x for x in hist.get("T_eff", [])])
    if t.size < 2 or Te.size != t.size or T_in == T0:  # T_in = T0: nothing to relax, no gap to measure
        return {}
    sol = evolve_temperature(spec, T0, T_in, float(t[-1]), a_ep=a_ep)
    inside = t <= sol.t[-1]
    T2 = np.full(t.size, np.nan)
    T2[inside] = sol.sol(t[inside])[0]
    gap = np.abs(Te - T2) / abs(T_in - T0)
    late = (t >= 0.1 * t[-1]) & np.isfinite(gap)
    return {
        "T_two_temp_final": float(T2[-1]) if np.isfinite(T2[-1]) else None,
        "two_temp_status": "runaway" if sol.status == 1 else "relaxes",
        "two_temp_gap_final": float(gap[-1]) if np.isfinite(gap[-1]) else None,
        "two_temp_gap_max": float(np.max(gap[late])) if late.any() else None,
        "_T_two_temp": T2,
    }


def run(
    params: EvolveParams,
    *,
    progress: Progress | None = None,
    petsc_options: list[str] | None = None,
    on_step: Callable[[float, dict[str, Any]], None] | None = None,
    xdmf_dir: str | None = None,
) -> EvolveResult:
    """Integrate the kinetic equation from the initial state (f0(T_in) by default) to t_end, or until the
    instability; with ``params.restart``, continue a stored run.

    Parameters
    ----------
    params : EvolveParams
        The problem and the solver's tolerances.
    progress : callable, optional
        Called with a line of text every tenth of t_end.
    petsc_options : list of str, optional
        PETSc options for the TS/SNES/KSP under the prefix ``-kin_`` (e.g. ``["-kin_ts_type", "beuler"]``),
        set for this run only.
    on_step : callable, optional
        ``on_step(t, values)`` at every accepted step (t, dev = max|f - f0|, energy, power, mass_min, T_eff).
    xdmf_dir : str, optional
        Write f(E, t) there as an XDMF/HDF5 time series as the run goes (a chunk closed every
        ``params.flush_every`` seconds: readable after a kill -9).  Not the ``params.restart`` directory.

    Returns
    -------
    EvolveResult
        The verdict, the time and energies of an instability or the decay rate, conservation checks, and
        the arrays for plots.
    """
    from ephkin.pde.initial_states import parse_initial
    from ephkin.pde.kinetic import KineticModel
    from ephkin.pde.spectra import parse_spectrum

    from ..evolution import evolve as run_ts
    from ..evolution import evolve_scipy
    from ..stability import make_problem

    P = params.p_ee_object()
    shape = parse_spectrum(params.spectrum) if isinstance(params.spectrum, str) else params.spectrum
    lam = shape.lam if params.lam is None else params.lam
    p = make_problem(
        shape,
        lam,
        params.T0,
        params.units,
        "exact",
        params.refine,
        params.grid_step,
        params.cutoff,
        a_ee=params.a_ee,
        p_ee=P,
    )
    coarse = _coarse_problem(shape, lam, params, p, P) if params.converge else None  # refused before any run
    model = KineticModel(p, a_ep=params.a_ep, a_ee=params.a_ee, p_ee=P)
    state = parse_initial(params.initial)
    stored = _stored_run(params, p, petsc_options, xdmf_dir) if params.restart is not None else None
    # the t = 0 state: a restart's own (its file may have changed since), else the initial state on this grid
    f_init = stored.first() if stored is not None else state.on_grid(p.E, params.T_in)
    with petsc_scope(petsc_options, (KINETIC,)):
        with snapshots(xdmf_dir, p.E, params.flush_every, E_units=params.units) as writer:
            r = run_ts(
                model,
                params.T_in,
                params.t_end,
                rtol=params.rtol,
                atol=params.atol,
                growth_limit=params.growth_limit,
                snapshots=writer,
                progress=tenth_reporter(progress, "evolve"),
                on_step=on_step,
                f_init=f_init,
                replay=(stored.time, stored.rows()) if stored is not None else None,
            )
        f_final, hist = r.pop("f_final"), r.pop("history")
        stats = {k: r.pop(k) for k in ("steps", "newton_iterations", "krylov_iterations") if k in r}
        stats["kernel_matvecs"] = model.kernel_matvecs
        stats["kernel_matvecs_per_step"] = model.kernel_matvecs / max(stats.get("steps", 0), 1)
        status = r.pop("status")
        res = EvolveResult(
            status=status,
            lam=lam,
            T0=params.T0,
            T_in=params.T_in,
            initial=params.initial,
            restart_time=float(stored.time[-1]) if stored is not None else None,
            t_end=params.t_end,
            grid_step=p.grid.eps,
            L=p.grid.L,
            cutoff=p.grid.cutoff,
            p_ee=str(P) if P is not None else None,
            stats=stats,
        )
        res.absorb(r)
        if status == SOLVER_FAILED:
            res.message = f"solver failed at t = {res.t_final or 0.0:.4g}: {res.reason or ''}"
        elif status == STOPPED_EARLY:
            res.message = res.reason or "stopped before t_end"
        elif status == "unstable":
            res.message = f"unstable at t = {res.t_instability or 0.0:.4g}: {res.reason or ''}"
        else:
            res.message = f"stable to t = {res.t_final or 0.0:.4g}"
        if status in NOT_PHYSICS:
            pass  # no verdict to compare with the linear problem, nothing to check on a coarser grid
        elif params.a_ep != 1.0 and params.diagnostics is not False:
            # the linear problem of Eq. (14) is built with M = M^ep + a_ee M^ee (a_ep = 1): its gammas would not
            # be this run's (the unstable count, the inertia of A, would; the rates would not)
            res.extra["diagnostics_skipped"] = (
                f"a_ep = {params.a_ep:g}: the linear comparison is made for a_ep = 1 only; rerun with a_ep = 1 "
                "(and a_ee / a_ep, time in units of 1 / a_ep) to compare"
            )
        elif params.diagnostics or (params.diagnostics is None and p.grid.L <= DIAGNOSTICS_MAX_L):
            # the dense modal prediction costs O(L^3): by default only where that is below ~0.3 s
            prediction = p.grid.L <= (DENSE_MAX if params.diagnostics else PREDICTION_MAX_L)
            if progress is not None:
                progress(
                    f"evolve: {status} at t = {res.t_final or 0.0:.4g}; comparing with the linear problem of Eq. (14) "
                    f"(L = {p.grid.L}; --no-diagnostics skips this)"
                )
            res.extra.update(
                _linear_diagnostics(p, model, dict(r, status=status, steps=stats.get("steps")), f_init, prediction)
            )
            if not prediction and p.grid.L <= DENSE_MAX and status == "stable":
                res.extra["prediction_skipped"] = (
                    f"L = {p.grid.L} > {PREDICTION_MAX_L}: the dense modal prediction of Eq. (13) costs O(L^3) "
                    "(force it with diagnostics=True, --diagnostics)"
                )
        elif params.diagnostics is None:
            res.extra["diagnostics_skipped"] = (
                f"L = {p.grid.L} > {DIAGNOSTICS_MAX_L}: the linear comparison would cost more than the evolution "
                "(force it with diagnostics=True, --diagnostics)"
            )
        if params.a_ee > 0:
            # Eq. (16) starts from the temperature of the initial state: T_in, or T_eff(0) of a non-thermal one
            T_start = params.T_in
            if state.kind != "thermal" and hist.get("T_eff") and hist["T_eff"][0] is not None:
                T_start = float(hist["T_eff"][0])
            gap = _gap(shape.with_lambda(lam, params.units), params.T0, T_start, params.a_ep, hist)
            res.T_two_temp = gap.pop("_T_two_temp", None)
            res.extra.update(gap)
        if params.converge and status not in NOT_PHYSICS:
            assert coarse is not None
            res.extra["grid_check"] = _grid_check(p, coarse, dict(r, status=status), params, P, state)
        if params.reference and status not in NOT_PHYSICS:
            if p.grid.L > DENSE_MAX:
                raise InputError(f"reference integrates densely; use a grid with L <= {DENSE_MAX}", "reference")
            sol = evolve_scipy(model, params.T_in, r["t_final"], rtol=params.rtol, atol=params.atol, f_init=f_init)
            res.extra["reference_max_difference"] = float(np.max(np.abs(sol.y[:, -1] - f_final)))
    res.E, res.f_final, res.f_eq, res.history, res.zinv = p.E, f_final, model.f_eq, hist, p.zinv
    res.samples = writer.samples if writer else []
    res.files = writer.files if writer else []
    return res


def _stored_run(params: EvolveParams, p: Any, petsc_options: list[str] | None, xdmf_dir: str | None) -> Any:
    """``restart``: the stored run (``solvers.restart``), checked against this one: the parameters (again: the
    directory may have changed since the Params were made), the PETSc options, the grid, and an output
    directory that is not the one read."""
    from ..restart import check_invocation, check_same, read_run

    assert params.restart is not None
    check_invocation(params.restart, xdmf_dir, petsc_options)
    stored = read_run(params.restart)
    check_same(stored, params.to_dict())
    if stored.E.shape != p.E.shape or not np.allclose(stored.E, p.E, rtol=1e-12, atol=0.0):
        raise InputError(
            f"restart {params.restart}: its time series is on another grid (L = {stored.E.size}, here {p.grid.L})",
            "restart",
        )
    return stored


def _grid_summary(p: Any, r: dict[str, Any]) -> dict[str, Any]:
    out = {
        "L": int(p.grid.L),
        "grid_step": float(p.grid.eps),
        "status": r["status"],
        "min_mass_diagonal": r.get("min_mass_diagonal"),
    }
    if r["status"] == "unstable":
        out["t_instability"] = r.get("t_instability")
        out["reason"] = r.get("reason")
        if "mass_loss" in r:
            out["mass_loss_grid_scale"] = r["mass_loss"]["grid_scale"]
    else:
        out["decay_rate"] = r.get("decay_rate")
    return out


def _rel_diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _coarse_problem(shape: Any, lam: float, params: EvolveParams, p: Any, P: Any) -> Any:
    """The grid of ``converge``'s check: step 2 eps, the same cutoff.  For an even ``refine`` on the default
    grid this is refine/2; otherwise modes off the coarse grid are split between its neighbouring frequencies
    (``pde.grids.project_spectrum``), which is part of what is checked."""
    from ..stability import make_problem

    step = 2.0 * p.grid.eps
    try:
        return make_problem(
            shape, lam, params.T0, params.units, "exact", 1, step, p.grid.cutoff, a_ee=params.a_ee, p_ee=P
        )
    except InputError as exc:
        raise InputError(
            f"converge: the check runs the grid twice as coarse (step {step:g}), which is refused "
            f"({exc}); use a finer grid (refine or grid_step) to check convergence",
            "converge",
        ) from None


def grid_verdict(fine: dict[str, Any], coarse: dict[str, Any]) -> tuple[str, str | None]:
    """(verdict, why) for two grids' summaries (dicts with status, t_instability or decay_rate, and
    min_mass_diagonal): "grid-dependent" when the statuses differ, or both are unstable and the instability
    times differ by more than GRID_T_TOL of the later one, or both are stable and the minimum of 1 - Sigma'[f]
    or the decay rate differs by more than GRID_REL_TOL; else "converged" (why is then None)."""
    if fine["status"] != coarse["status"]:
        return "grid-dependent", f"status {coarse['status']} on the coarse grid, {fine['status']} on the fine grid"
    if fine["status"] == "unstable":
        d = _rel_diff(fine.get("t_instability"), coarse.get("t_instability"))
        if d is not None and d > GRID_T_TOL:
            return "grid-dependent", (
                f"t_instability {coarse['t_instability']:.4g} (coarse) vs "
                f"{fine['t_instability']:.4g} (fine): {100 * d:.0f}% apart, tolerance "
                f"{100 * GRID_T_TOL:.0f}%"
            )
        return "converged", None
    for key in ("min_mass_diagonal", "decay_rate"):
        d = _rel_diff(fine.get(key), coarse.get(key))
        if d is not None and d > GRID_REL_TOL:
            return "grid-dependent", (
                f"{key} {coarse[key]:.4g} (coarse) vs {fine[key]:.4g} (fine): {100 * d:.0f}% "
                f"apart, tolerance {100 * GRID_REL_TOL:.0f}%"
            )
    return "converged", None


def _grid_check(p: Any, pc: Any, r: dict[str, Any], params: EvolveParams, P: Any, state: Any) -> dict[str, Any]:
    """``converge``: the same evolution (the same initial ``state``) on the coarse problem ``pc``
    (:func:`_coarse_problem`); both grids' summaries and :func:`grid_verdict`."""
    from ephkin.pde.kinetic import KineticModel

    from ..evolution import evolve as run_ts

    mc = KineticModel(pc, a_ep=params.a_ep, a_ee=params.a_ee, p_ee=P)
    window = pc.E < pc.grid.cutoff - 2.0 * float(np.max(pc.omega_r))
    fc = state.on_grid(pc.E, params.T_in)
    indefinite0 = float(np.min(mc.mass_diag(fc)[window])) <= 0
    rc = run_ts(
        mc, params.T_in, params.t_end, rtol=params.rtol, atol=params.atol, growth_limit=params.growth_limit, f_init=fc
    )
    fine, coarse = _grid_summary(p, r), _grid_summary(pc, rc)
    verdict, why = grid_verdict(fine, coarse)
    out: dict[str, Any] = {
        "coarse": coarse,
        "fine": fine,
        "verdict": verdict,
        "status_agrees": fine["status"] == coarse["status"],
        "t_tolerance": GRID_T_TOL,
        "relative_tolerance": GRID_REL_TOL,
    }
    if why:
        out["why"] = why
    if indefinite0:
        out["note"] = (
            "1 - Sigma'[f] is already negative at t = 0: the instability is immediate (growth at the "
            "grid scale), so t_instability shrinks with the grid step; only the status is meaningful"
        )
    return out


def _linear_diagnostics(p: Any, model: Any, r: dict[str, Any], f_init: Array, prediction: bool) -> dict[str, Any]:
    """The evolution against the linear problem on the same grid: the late decay rate against the slowest
    gamma, or the unstable modes.  Matrix-free at every L (FFT shell A_hat, M_hat sparse or + a_ee M^ee by
    FFT); with ``prediction`` (stable runs, L <= DENSE_MAX) one dense ``eigh`` instead gives both the slowest
    gamma and the modal prediction of Eq. (13)."""
    from ..evolution import linear_modes, linear_prediction
    from ..stability import nonzero_gammas, stability_summary

    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    if prediction and r["status"] == "stable":
        # printed on stderr only if it lasts (solvers.progress); the SLEPc path reports its own iterations
        engine_progress.report(
            f"evolve: the dense modal prediction of Eq. (13) (M{' with M^ee' if p.a_ee > 0 else ''} assembled, "
            f"one eigh, L = {p.grid.L})"
        )
        gam, X = modes = linear_modes(p)
        gmin = nonzero_gammas(gam)
        gmin = gmin[gmin > 0]
        summ: dict[str, Any] = {"gamma_min_positive": float(gmin[0]) if gmin.size else None}
        pred = linear_prediction(model, f_init, r["t_final"], modes)
        out["max_deviation_linear_prediction"] = float(np.max(np.abs(pred)))
    else:
        try:
            summ = stability_summary(p, nev=2, counts=r["status"] != "stable")
        except (InputError, SolverFailed) as exc:  # e.g. memory, an EPS short of pairs: the evolution's result stands
            return {"diagnostics_skipped": str(exc), "diagnostics_seconds": round(time.perf_counter() - t0, 4)}
    if r["status"] == "stable":
        out["gamma_min_positive"] = summ["gamma_min_positive"]
        if r.get("decay_rate") and summ["gamma_min_positive"]:
            out["decay_rate_vs_gamma"] = r["decay_rate"] / summ["gamma_min_positive"] - 1.0
    else:
        out["linear_gamma_negative"] = summ["gamma_negative"]
        out["linear_n_negative"] = summ["n_negative"]
        out["linear_n_negative_method"] = summ["n_negative_method"]
    out["diagnostics_seconds"] = round(time.perf_counter() - t0, 4)
    return out


STUDY = Study(
    "evolve",
    EvolveParams,
    run,
    "the full kinetic equation (Eq. 1/S26) with PETSc TS from f0(T_in), a pulse, a table or an earlier run: "
    "relaxation or instability",
    prefixes=(KINETIC,),
    positional=("spectrum", "lam", "T0", "T_in", "t_end"),
)
