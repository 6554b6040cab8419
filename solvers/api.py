"""The Python API: ephkin's computations for notebooks and scripts.

Each function takes physical parameters (no command-line flags, no files) and
returns a plain dict of numbers and lists -- the same functions the ``ephkin``
commands call, so a notebook and a batch job get the same answer.  Entries
whose names start with an underscore are numpy arrays for plots and tables
(the command line pops them before printing).  Bad input raises
``ephkin.pde.errors.InputError`` naming the parameter.  See docs/python-api.md.

    from ephkin.solvers import api
    api.lambda_c("modes:40-60", 0.180)["lambda_c"]          # 1.13321 (seed 000 Table S1)
    api.stability("modes:40-60", lam=5.0, T0=0.20)["n_negative"]

Spectra are spec strings (``einstein``, ``modes:40-60``, ``debye``, ``peaks:W:L,...``,
``lorentz:C:G``, ``file:PATH``) or ``pde.spectra`` shapes; energies are in units of g
(g^2 = 2 int omega a2F) with ``units="g"``, or in the spectrum's own unit with ``units="plain"``.
PETSc/SLEPc are imported only by the functions that solve with them.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ephkin.pde import eliashberg as eq
from ephkin.pde import phonons
from ephkin.pde.errors import InputError
from ephkin.pde.instability import (
    lambda_c_cel,
    lambda_c_zinv,
    strong_coupling_analysis,
    strong_coupling_T0_max,
    zinv_analysis,
)
from ephkin.pde.spectra import make_spectrum, parse_spectrum

__all__ = ["spectrum_moments", "zinv", "lambda_c", "lambda_c_convergence", "linear_problem", "stability",
           "stability_convergence", "evolve", "nac_sigma", "avalanche_criterion", "avalanche_lattice", "convergence"]

#: Largest grid on which ``evolve`` compares with the linear problem by default: where the comparison costs
#: less than the evolution (measured, Einstein lambda = 1, T0 = 0.2, t_end = 20, whose ladder null modes of M
#: make it dearest: L = 3200: 0.4 s of 1.0 s; L = 6400: 1.8 s of 2.5 s; L = 12 800: 5.7 s of 6.7 s).
DIAGNOSTICS_MAX_L = 5000
PREDICTION_MAX_L = 1200  # default limit of evolve's dense modal prediction (one O(L^3) eigh, ~0.3 s)

#: T_c of the strong-coupling limit in units of g (seed 000 main text, [20]).
TC_STRONG = 0.1827


def _shape(spectrum):
    return parse_spectrum(spectrum) if isinstance(spectrum, str) else spectrum


def spectrum_moments(spectrum, lam=None, units="g", mu_star=0.10):
    """Moments of alpha^2F (lambda, g, omega_log, <omega^2>, omega_max) and the Allen-Dynes and McMillan
    T_c with Coulomb pseudopotential ``mu_star`` (seed 002)."""
    s = make_spectrum(spectrum, lam, units)
    if not mu_star >= 0:
        raise InputError(f"mu_star must be >= 0 (got {mu_star}); typical values are 0.08-0.15", "mu_star")
    om, w = s.nodes()
    res = dict(s.moments(), mu_star=mu_star)
    res["Tc_allen_dynes"] = phonons.allen_dynes_tc(om, w, mu_star)
    res["Tc_mcmillan"] = phonons.mcmillan_tc(om, w, mu_star)
    return res


def zinv(T0, spectrum=None, lam=None, units="g", strong_coupling=False):
    """Z0^-1(E) at T0, Eq. (5) (or its lambda -> inf limit, Eq. (S38), with ``strong_coupling``): the
    minimum E_min, the zeros and the interval where Z0^-1 < 0.  ``_curve`` is a callable E -> Z0^-1(E)."""
    if strong_coupling:
        if spectrum is not None:
            raise InputError("strong_coupling does not take a spectrum (the limit is spectrum-independent)",
                             "spectrum")
        if units != "g":
            raise InputError("strong_coupling works in units of g; use units='g'", "units")
        res = {"model": "strong-coupling (Eq. S38)", "units": "g", "T0": T0}
        res.update(strong_coupling_analysis(T0))
        res["T0_over_Tc"] = T0 / TC_STRONG
        t_max = strong_coupling_T0_max()
        res.update(T0_max_negative=t_max, T0_max_negative_over_Tc=t_max / TC_STRONG,
                   _curve=lambda E: eq.zinv_strong(E, T0), _E_max=3.0)
        return res
    if spectrum is None:
        raise InputError("spectrum is required (or strong_coupling=True)", "spectrum")
    s = make_spectrum(spectrum, lam, units)
    res = {"lambda": s.lam, "T0": T0, "omega_log": s.omega_log}
    res.update(zinv_analysis(s, T0))
    res["E_min_over_omega"] = res["E_min"] / s.omega_log
    res.update(_curve=lambda E: eq.zinv(s, E, T0), _E_max=2.5 * s.omega_max + 10 * T0)
    return res


def lambda_c(spectrum, T0, units="g", method="zinv", lam_max=1e4, kernel="exact", pv=None, refine=1,
             grid_step=None, cutoff=None, solver="auto", grid="uniform", h_min=None):
    """The critical coupling lambda_c(T0) of the kinetic instability (seed 000).

    method "zinv": min_E Z0^-1(E) = 0 (Eq. (10)/(S21)), with ``lambda_c_cel``, the coupling where C_el(T0)
    turns negative (an upper bound by the seed's theorem).  method "linear": the smallest eigenvalue of A
    (Eq. (14)) crosses 0 (Sylvester: the first gamma < 0), on a uniform or ``graded`` grid, with the
    corrected (``exact``) or the seed's (``paper``) kernel; ``solver`` auto/slepc (matrix-free),
    dense, inertia (MUMPS).
    """
    shape = _shape(spectrum)
    t = time.perf_counter()
    if method == "zinv":
        r = lambda_c_zinv(shape, T0, units=units, lam_max=lam_max)
        row = {"T0": T0, "lambda_c": r["lambda_c"], "E_min": r["E_min"]}
        if r["lambda_c"] is not None:
            row.update(E_min_over_omega=r["E_min"] / r["omega_log"], omega_ref=r["omega_log"])
        else:
            row["reason"] = r["reason"]
        row["lambda_c_cel"] = lambda_c_cel(shape, T0, units=units, lam_max=lam_max)
    elif method == "linear":
        from .stability import lambda_c_graded, lambda_c_linear

        if grid == "graded":
            row = lambda_c_graded(shape, T0, units=units, kernel=kernel, refine=refine, cutoff=cutoff,
                                  h_min=h_min, lam_max=lam_max, pv=pv)
        else:
            row = lambda_c_linear(shape, T0, units=units, kernel=kernel, refine=refine, grid_step=grid_step,
                                  cutoff=cutoff, solver=solver, lam_max=lam_max, pv=pv)
    else:
        raise InputError(f"method must be 'zinv' or 'linear' (got {method!r})", "method")
    row["seconds"] = round(time.perf_counter() - t, 4)
    return row


def convergence(values, factor=2.0):
    """Observed order p = log_f((x1-x2)/(x2-x3)) of the last three levels and the Richardson
    estimate x_n + (x_n - x_{n-1})/(f^p - 1) with its error bar |estimate - x_n|."""
    v = [x for x in values if x is not None]
    if len(v) < 3 or v[-1] == v[-2] or (v[-3] - v[-2]) / (v[-2] - v[-1]) <= 0:
        return {"observed_order": None, "richardson": None, "error_bar": None}
    p = math.log(abs((v[-3] - v[-2]) / (v[-2] - v[-1]))) / math.log(factor)
    est = v[-1] + (v[-1] - v[-2]) / (factor**p - 1.0)
    return {"observed_order": p, "richardson": est, "error_bar": abs(est - v[-1])}


def lambda_c_convergence(spectrum, T0, levels=4, refine=1, progress=None, **kw):
    """The linear lambda_c on ``levels`` grids refined by 2, the observed order and a Richardson
    estimate (``kw`` as :func:`lambda_c` with method "linear")."""
    if levels < 3:
        raise InputError(f"levels must be >= 3 for an observed order (got {levels})", "converge")
    rows = []
    for lev in range(levels):
        rows.append(lambda_c(spectrum, T0, method="linear", refine=refine * 2**lev, **kw))
        if progress is not None:
            progress(f"lambda-c --converge: level {lev + 1}/{levels} refine={refine * 2**lev} L={rows[-1]['L']} "
                     f"lambda_c={rows[-1]['lambda_c']}")
    res = {"T0": T0, "kernel": kw.get("kernel", "exact"), "levels": rows}
    res.update(convergence([r["lambda_c"] for r in rows]))
    res["lambda_c"] = rows[-1]["lambda_c"]
    return res


def linear_problem(spectrum, lam, T0, units="g", kernel="exact", refine=1, grid_step=None, cutoff=None, a_ee=0.0,
                   p_ee="gaussian:0.3", pv=None):
    """The linearised problem gamma A phi = M phi of Eq. (14) on the folded grid
    (``pde.linearized.LinearizedProblem``: A by FFT, M^ep sparse, + a_ee M^ee of Eq. (S25) by FFT with the
    transition probability ``p_ee``, a ``pde.electron_electron.make_p_ee`` spec or a TransitionProbability)."""
    from ephkin.pde.electron_electron import make_p_ee

    from .stability import make_problem

    shape = _shape(spectrum)
    lam = shape.lam if lam is None else lam
    if not a_ee >= 0:
        raise InputError(f"a_ee must be >= 0 (got {a_ee})", "a_ee")
    P = (make_p_ee(p_ee) if isinstance(p_ee, str) else p_ee) if a_ee > 0 else None
    return make_problem(shape, lam, T0, units, kernel, refine, grid_step, cutoff, a_ee=a_ee, p_ee=P, pv=pv)


def stability(spectrum, lam, T0, nev=6, target=None, solver="auto", **grid):
    """The gamma spectrum of Eq. (14): the nev gamma nearest 0 (and nearest ``target``), the inertia counts
    (n_negative = number of unstable modes, Sylvester), the slowest positive gamma, the negative gamma, and
    the temperature-mode check <E, A E> against C_el (Eq. (S14)).  ``solver``: "slepc" (matrix-free, any
    L), "dense" (one LAPACK eigh, L <= 3000, M without ladder null modes or e-e collisions) or "auto" (dense
    where it applies up to L = SUMMARY_DENSE_MAX, where it costs less than starting PETSc; SLEPc otherwise).
    ``grid``: keywords of :func:`linear_problem`.  ``_E``, ``_eigenvectors``, ``_eigenvector_gammas``
    and ``_zinv`` are arrays for plots."""
    from ephkin.pde.linearized import cel_identity

    from .stability import SUMMARY_DENSE_MAX, dense_refusal, dense_summary, stability_summary

    if nev < 1:
        raise InputError(f"nev must be >= 1 (got {nev})", "nev")
    if solver not in ("auto", "dense", "slepc"):
        raise InputError(f"solver must be 'auto', 'dense' or 'slepc' (got {solver!r})", "solver")
    lam = _shape(spectrum).lam if lam is None else lam
    p = linear_problem(spectrum, lam, T0, **grid)
    if solver == "auto":
        solver = "dense" if p.grid.L <= SUMMARY_DENSE_MAX and dense_refusal(p) is None else "slepc"
    summ = dense_summary(p, nev, target) if solver == "dense" else stability_summary(p, nev, target)
    res = {"lambda": lam, "T0": T0, "kernel": p.kernel, "pv": p.pv,
           "a_ee": grid.get("a_ee", 0.0), "grid_step": p.grid.eps, "cutoff": p.grid.cutoff, "L": p.grid.L}
    vecs, vec_gammas = summ.pop("eigenvectors"), summ.pop("eigenvector_gammas")
    res.update(summ)
    grid_value, cont = p.cel_check(), cel_identity(p.proj, T0)
    res["cel_check"] = {"grid": grid_value, "continuum_S14": cont, "difference": grid_value - cont}
    res["kernel_matvecs"] = p.K.matvecs
    res.update(_E=p.E, _eigenvectors=vecs, _eigenvector_gammas=vec_gammas, _zinv=p.zinv)
    return res


def stability_convergence(spectrum, lam, T0, levels=4, refine=1, nev=2, progress=None, **grid):
    """gamma_min_positive and the slowest negative gamma (Eq. (14)) on ``levels`` grids refined by 2, with
    the observed order and a Richardson estimate of each (:func:`convergence`); ``grid`` as
    :func:`linear_problem`."""
    from .stability import stability_summary

    if levels < 3:
        raise InputError(f"levels must be >= 3 for an observed order (got {levels})", "converge")
    lam = _shape(spectrum).lam if lam is None else lam
    rows = []
    for lev in range(levels):
        t = time.perf_counter()
        p = linear_problem(spectrum, lam, T0, refine=refine * 2**lev, **grid)
        s = stability_summary(p, nev, counts=False)
        rows.append({"refine": refine * 2**lev, "L": p.grid.L, "grid_step": p.grid.eps,
                     "gamma_min_positive": s["gamma_min_positive"], "gamma_max_negative": s["gamma_max_negative"],
                     "n_zero_gamma": s["n_zero_gamma"], "unstable": s["mu_min_ahat"] < 0,
                     "seconds": round(time.perf_counter() - t, 3)})
        if progress is not None:
            progress(f"stability --converge: level {lev + 1}/{levels} refine={rows[-1]['refine']} L={p.grid.L} "
                     f"gamma_min_positive={rows[-1]['gamma_min_positive']}")
    res = {"lambda": lam, "T0": T0, "levels": rows}
    for key in ("gamma_min_positive", "gamma_max_negative"):
        c = convergence([r[key] for r in rows])
        res[key] = rows[-1][key]
        res.update({f"{key}_{k}": v for k, v in c.items()})
    return res


def evolve(spectrum, lam, T0, T_in, t_end, units="g", rtol=1e-6, atol=1e-10, refine=1, grid_step=None,
           cutoff=None, growth_limit=100.0, reference=False, xdmf_dir=None, progress=None, on_step=None,
           flush_every=10.0, a_ee=0.0, a_ep=1.0, p_ee="gaussian:0.3", diagnostics=None, converge=False):
    """The full kinetic equation (Eqs. (1), (S26)-(S31)) with PETSc TS from f0(T_in): relaxation (decay
    rate against the slowest linear gamma, deviation against the linear modal prediction) or the
    instability (time, energies, rate).  With ``a_ee`` > 0 it is Eq. (15), (1 - Sigma') fdot + f' Sigma-dot
    = a_ep I_ep + a_ee I_ee, with the transition probability ``p_ee`` of Eq. (S22) (a
    ``pde.electron_electron.make_p_ee`` spec or a TransitionProbability); ``T_eff`` (Eq. (S6)) is then
    followed at every step.  ``xdmf_dir``: write f(E, t) there as an XDMF/HDF5 time series
    as the run goes (an HDF5 chunk closed every ``flush_every`` s: readable after a kill -9); ``progress(t, t_end)``
    for progress reports; ``on_step(t, values)`` at every accepted step (t, dev = max|f - f0|, energy, power,
    mass_min, T_eff).  ``diagnostics``: compare with the linear problem of Eq. (14) on the same grid (the
    slowest gamma, the unstable modes; ``diagnostics_seconds`` says what that cost): True, False, or None
    (the default) for L <= DIAGNOSTICS_MAX_L only, where they cost less than the evolution; the modal
    prediction of Eq. (13) (``max_deviation_linear_prediction``, one dense eigh) by default up to
    L = PREDICTION_MAX_L, with True up to DENSE_MAX.  ``_E``, ``_f_final``, ``_f_eq``,
    ``_history``, ``_zinv``, ``_samples`` (some (t, f) of the run) and ``_files`` are for plots and tables.
    ``converge``: also run the same problem on a grid twice as coarse and report ``grid_check``
    (:func:`_grid_check`, docs/grid-convergence.md): whether the verdict depends on the grid."""
    from ephkin.pde.kinetic import KineticModel

    from .evolution import evolve as run_ts, evolve_scipy
    from .stability import DENSE_MAX, make_problem

    for name, val in (("T_in", T_in), ("t_end", t_end)):
        if not val > 0:
            raise InputError(f"{name} must be > 0 (got {val})", name)
    from ephkin.pde.electron_electron import make_p_ee

    if not a_ep >= 0:
        raise InputError(f"a_ep must be >= 0 (got {a_ep}); give the weight of e-ph collisions", "a_ep")
    if not a_ee >= 0:
        raise InputError(f"a_ee must be >= 0 (got {a_ee}); give the weight of e-e collisions", "a_ee")
    P = (make_p_ee(p_ee) if isinstance(p_ee, str) else p_ee) if a_ee > 0 else None
    shape = _shape(spectrum)
    lam = shape.lam if lam is None else lam
    p = make_problem(shape, lam, T0, units, "exact", refine, grid_step, cutoff, a_ee=a_ee, p_ee=P)
    coarse = _coarse_problem(shape, lam, T0, units, p, a_ee, P) if converge else None  # refused before any run
    model = KineticModel(p, a_ep=a_ep, a_ee=a_ee, p_ee=P)
    writer = None
    if xdmf_dir is not None:
        from .xdmf import SnapshotWriter

        writer = SnapshotWriter(xdmf_dir, p.E, chunk_s=flush_every)
    try:
        r = run_ts(model, T_in, t_end, rtol=rtol, atol=atol, growth_limit=growth_limit, snapshots=writer,
                   progress=progress, on_step=on_step)
    finally:
        if writer is not None:
            writer.close()
    f_final, hist = r.pop("f_final"), r.pop("history")
    r["kernel_matvecs"] = model.kernel_matvecs
    r["kernel_matvecs_per_step"] = model.kernel_matvecs / max(r["steps"], 1)
    res = {"lambda": lam, "T0": T0, "T_in": T_in, "t_end": t_end, "grid_step": p.grid.eps, "L": p.grid.L,
           "cutoff": p.grid.cutoff, "p_ee": str(P) if P is not None else None}
    res.update(r)
    if diagnostics or (diagnostics is None and p.grid.L <= DIAGNOSTICS_MAX_L):
        # the dense modal prediction costs O(L^3): by default only where that is below ~0.3 s
        prediction = p.grid.L <= (DENSE_MAX if diagnostics else PREDICTION_MAX_L)
        res.update(_linear_diagnostics(p, model, r, T_in, prediction))
        if not prediction and p.grid.L <= DENSE_MAX and r["status"] == "stable":
            res["prediction_skipped"] = (f"L = {p.grid.L} > {PREDICTION_MAX_L}: the dense modal prediction of "
                                         "Eq. (13) costs O(L^3) (force it with diagnostics=True, --diagnostics)")
    elif diagnostics is None:
        res["diagnostics_skipped"] = (f"L = {p.grid.L} > {DIAGNOSTICS_MAX_L}: the linear comparison would cost more "
                                      "than the evolution (force it with diagnostics=True, --diagnostics)")
    if a_ee > 0:
        res.update(_two_temperature_gap(shape.with_lambda(lam, units), T0, T_in, a_ep, hist))
    if converge:
        res["grid_check"] = _grid_check(p, coarse, r, T_in, t_end, rtol, atol, growth_limit, a_ee, a_ep, P)
    if reference:
        if p.grid.L > DENSE_MAX:
            raise InputError(f"reference integrates densely; use a grid with L <= {DENSE_MAX}", "reference")
        sol = evolve_scipy(model, T_in, r["t_final"], rtol=rtol, atol=atol)
        res["reference_max_difference"] = float(np.max(np.abs(sol.y[:, -1] - f_final)))
    res.update(_E=p.E, _f_final=f_final, _f_eq=model.f_eq, _history=hist, _zinv=p.zinv,
               _samples=writer.samples if writer else [], _files=writer.files if writer else [])
    return res


#: ``evolve(converge=True)``: two grids' instability times agree when they differ by at most this fraction of the
#: later one.  The time is read at accepted BDF steps, which late in a run grow by ~20% each (Fig. 1(b) problem:
#: t = 8.15 -> 9.75), so one step is the resolution of t_instability; the grid-scale loss of definiteness of
#: the Einstein lambda = 1 run moves by a factor 2.3-2.9 per halving of the step (docs/grid-convergence.md).
GRID_T_TOL = 0.25
#: ... and two stable runs agree when the minima of 1 - Sigma'[f] and the decay rates differ by at most this
#: fraction (the converged Fig. 1(b) problem: 4e-4 between refine 64 and 128; the same grids with 1e-8 noise
#: in f(0), where the grid-scale growth has started: 0.22).
GRID_REL_TOL = 0.1


def _grid_summary(p, r):
    out = {"L": int(p.grid.L), "grid_step": float(p.grid.eps), "status": r["status"],
           "min_mass_diagonal": r.get("min_mass_diagonal")}
    if r["status"] == "unstable":
        out["t_instability"] = r.get("t_instability")
        out["reason"] = r.get("reason")
        if "mass_loss" in r:
            out["mass_loss_grid_scale"] = r["mass_loss"]["grid_scale"]
    else:
        out["decay_rate"] = r.get("decay_rate")
    return out


def _rel_diff(a, b):
    if a is None or b is None:
        return None
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _coarse_problem(shape, lam, T0, units, p, a_ee, P):
    """The grid of ``evolve(converge=True)``'s check: step 2 eps, the same cutoff.  For an even ``refine`` on
    the default grid this is refine/2; otherwise modes off the coarse grid are split between its neighbouring
    frequencies (``pde.grids.project_spectrum``), which is part of what is checked."""
    from .stability import make_problem

    step = 2.0 * p.grid.eps
    try:
        return make_problem(shape, lam, T0, units, "exact", 1, step, p.grid.cutoff, a_ee=a_ee, p_ee=P)
    except InputError as exc:
        raise InputError(f"converge: the check runs the grid twice as coarse (step {step:g}), which is refused "
                         f"({exc}); use a finer grid (refine or grid_step) to check convergence", "converge") from None


def grid_verdict(fine, coarse):
    """(verdict, why) for two grids' summaries (dicts with status, t_instability or decay_rate, and
    min_mass_diagonal): "grid-dependent" when the statuses differ, or both are unstable and the instability
    times differ by more than GRID_T_TOL of the later one, or both are stable and the minimum of 1 - Sigma'[f]
    or the decay rate differs by more than GRID_REL_TOL; else "converged" (why is then None)."""
    if fine["status"] != coarse["status"]:
        return "grid-dependent", f"status {coarse['status']} on the coarse grid, {fine['status']} on the fine grid"
    if fine["status"] == "unstable":
        d = _rel_diff(fine.get("t_instability"), coarse.get("t_instability"))
        if d is not None and d > GRID_T_TOL:
            return "grid-dependent", (f"t_instability {coarse['t_instability']:.4g} (coarse) vs "
                                      f"{fine['t_instability']:.4g} (fine): {100 * d:.0f}% apart, tolerance "
                                      f"{100 * GRID_T_TOL:.0f}%")
        return "converged", None
    for key in ("min_mass_diagonal", "decay_rate"):
        d = _rel_diff(fine.get(key), coarse.get(key))
        if d is not None and d > GRID_REL_TOL:
            return "grid-dependent", (f"{key} {coarse[key]:.4g} (coarse) vs {fine[key]:.4g} (fine): {100 * d:.0f}% "
                                      f"apart, tolerance {100 * GRID_REL_TOL:.0f}%")
    return "converged", None


def _grid_check(p, pc, r, T_in, t_end, rtol, atol, growth_limit, a_ee, a_ep, P):
    """``evolve(converge=True)``: the same evolution on the coarse problem ``pc`` (:func:`_coarse_problem`);
    both grids' summaries and :func:`grid_verdict`."""
    from ephkin.pde.kinetic import KineticModel

    from .evolution import evolve as run_ts

    mc = KineticModel(pc, a_ep=a_ep, a_ee=a_ee, p_ee=P)
    window = pc.E < pc.grid.cutoff - 2.0 * float(np.max(pc.omega_r))
    indefinite0 = float(np.min(mc.mass_diag(mc.initial(T_in))[window])) <= 0
    rc = run_ts(mc, T_in, t_end, rtol=rtol, atol=atol, growth_limit=growth_limit)
    fine, coarse = _grid_summary(p, r), _grid_summary(pc, rc)
    verdict, why = grid_verdict(fine, coarse)
    out = {"coarse": coarse, "fine": fine, "verdict": verdict, "status_agrees": fine["status"] == coarse["status"],
           "t_tolerance": GRID_T_TOL, "relative_tolerance": GRID_REL_TOL}
    if why:
        out["why"] = why
    if indefinite0:
        out["note"] = ("1 - Sigma'[f] is already negative at t = 0: the instability is immediate (growth at the "
                       "grid scale), so t_instability shrinks with the grid step; only the status is meaningful")
    return out


def _linear_diagnostics(p, model, r, T_in, prediction):
    """The evolution against the linear problem on the same grid: the late decay rate against the slowest
    gamma, or the unstable modes.  Matrix-free at every L (FFT shell A_hat, M_hat sparse or + a_ee M^ee by
    FFT); with ``prediction`` (stable runs, L <= DENSE_MAX) one dense ``eigh`` instead gives both the slowest
    gamma and the modal prediction of Eq. (13)."""
    from .evolution import linear_modes, linear_prediction
    from .stability import nonzero_gammas, stability_summary

    t0 = time.perf_counter()
    out = {}
    if prediction and r["status"] == "stable":
        gam, X = modes = linear_modes(p)
        gmin = nonzero_gammas(gam)
        gmin = gmin[gmin > 0]
        summ = {"gamma_min_positive": float(gmin[0]) if gmin.size else None}
        pred = linear_prediction(model, model.initial(T_in), r["t_final"], modes)
        out["max_deviation_linear_prediction"] = float(np.max(np.abs(pred)))
    else:
        try:
            summ = stability_summary(p, nev=2, counts=r["status"] != "stable")
        except InputError as exc:  # e.g. memory: the evolution's own result stands
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


def _two_temperature_gap(spec, T0, T_in, a_ep, hist):
    """T_eff(t) of the kinetic run (Eq. (S6)) against T(t) of the two-temperature equation (16) from the same
    T_in: the limit a_ee >> a_ep of Eq. (15).  The gap is |T_eff - T_2T| / |T_in - T0|, its largest value
    after the initial layer (t >= t_final/10) and at the end; ``_T_two_temp`` is T_2T on the history's times."""
    from ephkin.pde.two_temperature import evolve_temperature

    t = np.asarray(hist["t"])
    Te = np.array([np.nan if x is None else x for x in hist.get("T_eff", [])])
    if t.size < 2 or Te.size != t.size:
        return {}
    sol = evolve_temperature(spec, T0, T_in, float(t[-1]), a_ep=a_ep)
    inside = t <= sol.t[-1]
    T2 = np.full(t.size, np.nan)
    T2[inside] = sol.sol(t[inside])[0]
    gap = np.abs(Te - T2) / abs(T_in - T0)
    late = (t >= 0.1 * t[-1]) & np.isfinite(gap)
    return {"T_two_temp_final": float(T2[-1]) if np.isfinite(T2[-1]) else None,
            "two_temp_status": "runaway" if sol.status == 1 else "relaxes",
            "two_temp_gap_final": float(gap[-1]) if np.isfinite(gap[-1]) else None,
            "two_temp_gap_max": float(np.max(gap[late])) if late.any() else None, "_T_two_temp": T2}


def nac_sigma(omega_p, zeta, dos="semicircle", mu=None, filling=None, T=0.003, gamma_in=0.0, field=0.0,
              delta_omega=0.0, refine=1.0, t_end=10.0, steady=False, E_star=False, rtol=1e-8, progress=None):
    """sigma/sigma0 of the photoexcited state at fixed phonon population zeta (seed 001): Eq. (8) for
    zeta = inf, else Eq. (2) evolved with PETSc TS from f_T for ``t_end`` (the seed's 10/Gamma_eph;
    ``steady``: t -> inf); ``E_star``: also the field with sigma(E*) = 0 (Fig. 2e).  Energies in units
    of the bandwidth W.  ``_eps``, ``_dos``, ``_f``, ``_f_T`` are arrays for plots."""
    from .nac import describe, integrate, make_model

    model = make_model(dos, omega_p, T, mu, filling, gamma_in, field, delta_omega, refine, hold_zeta=True)
    res = describe(model)
    res["zeta"] = "inf" if math.isinf(zeta) else zeta
    if math.isinf(zeta):
        if gamma_in or field or delta_omega:
            raise InputError("zeta = inf is Eq. (8): St_in = 0, E = 0, sharp phonons; drop gamma_in, field "
                             "and delta_omega or give a finite zeta", "zeta")
        f = model.periodic_limit()
        res.update(method="Eq. (8): periodic zeta -> inf state")
    elif steady:
        f = model.steady_state(zeta)
        res.update(method="steady state of Eq. (2) (pseudo-transient Newton)")
    else:
        if not t_end > 0:
            raise InputError(f"t_end must be > 0 (got {t_end}); give the evolution time in 1/Gamma_eph", "t_end")
        run = integrate(model, model.initial(zeta), t_end, rtol=rtol)
        f = run["y"][:-1]
        res.update(method="Eq. (2) evolved with PETSc TS", t_end=t_end, steps=run["steps"],
                   particle_number_drift=run["particle_number_drift"])
        if progress is not None:
            progress(f"nac sigma: t = {t_end} reached in {run['steps']} steps")
    res["sigma_over_sigma0"] = model.conductivity(f)
    if not (math.isinf(zeta) or gamma_in or field or delta_omega):
        # Eq. (8) is the zeta -> inf limit of this state: the distance shrinks like 1/zeta
        res["max_abs_df_vs_eq8"] = float(np.max(np.abs(f - model.periodic_limit())))
    if E_star:
        if math.isinf(zeta):
            raise InputError("E_star needs a finite zeta (the field acts through Eq. (7) in Eq. (2))", "E_star")
        F, omega_E, _ = model.zero_conductivity_field(zeta, t_end=None if steady else t_end)
        res.update(E_star=F, omega_E_over_sigma0=omega_E,
                   E_star_paper_units=(F * math.sqrt(1.0 / gamma_in) / model.omega_p if gamma_in > 0 else None))
    res.update(_eps=model.eps, _dos=model.D / model.DF, _f=f, _f_T=model.fermi())
    return res


def avalanche_criterion(g_ep, gamma, omega0, mass=0.5, T=0.0):
    """The analytic avalanche criterion of seed 003, Eqs. (11)-(16): beta, beta_c, x0, both roots
    E_av < E_av_upper of lambda(E) = 1, the asymptotic E_av of Eq. (12) and T* (``reason`` below beta_c)."""
    from ephkin.pde import avalanche as av

    return av.criterion(mass, g_ep, gamma, omega0, T)


def avalanche_lattice(gamma, g_ep, omega0, E, delta=1.0, T=0.01, n_omega=2**16, solver="anderson", tol=1e-8,
                      branching=False):
    """The Keldysh steady state of the DC-biased Holstein chain (seed 003; SCBA, Wannier-Stark reduced):
    n_ex, current, bath current, convergence; ``branching``: the replica branching ratios (SCBA-dressed
    and Gamma-only, Eq. (10)).  ``solver``: numpy Anderson mixing or PETSc SNES (options -aval_).
    ``_spectra`` holds the spectral functions for plots."""
    from ephkin.pde import keldysh

    kw = dict(T=T, n_omega=n_omega)
    if solver == "snes":
        from .avalanche import snes_solve

        problem = keldysh.lattice_problem(gamma, g_ep, omega0, delta, E, **kw)
        x, info = snes_solve(problem, np.zeros(2 * problem.grid.n), tol=tol)
        run = keldysh.observables(x, problem)
        run.update(info, grid=problem.grid)
    elif solver == "anderson":
        problem = None
        run = keldysh.solve_lattice(gamma, g_ep, omega0, delta, E, tol=tol, **kw)
    else:
        raise InputError(f"solver must be 'anderson' or 'snes' (got {solver!r})", "solver")
    g = run["grid"]
    res = {"gamma": gamma, "g_ep": g_ep, "omega0": omega0, "delta": delta, "E": E, "T": T, "solver": solver,
           "n_ex": run["n_ex"], "current": run["current"], "current_left": run["current_left"],
           "spectral_weight": run["weight"], "bath_current": run["bath_current"],
           "converged": bool(run["converged"]), "residual": run["residual"], "iterations": run["iterations"],
           "n_omega": g.n, "d_omega": g.d_omega, "omega_range": [float(g.omega[0]), float(g.omega[-1])]}
    if branching:
        if problem is None:
            problem = keldysh.lattice_problem(gamma, g_ep, omega0, delta, E, **kw)
        br = keldysh.branching_ratio(gamma, g_ep, omega0, delta, E, steady=dict(run, problem=problem))
        res.update(branching_scba=br["rho_scba"], branching_bare=br["rho_bare"])
    if g.note:
        res["grid_note"] = g.note
    res["_spectra"] = run["spectra"]
    return res
