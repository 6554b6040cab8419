"""The Python API: ephkin's computations for notebooks and scripts.

Each function takes physical parameters (no command-line flags, no files) and
returns a plain dict of numbers and lists -- the same functions the ``ephkin``
commands call, so a notebook and a batch job get the same answer.  Entries
whose names start with an underscore are numpy arrays for plots and tables
(the command line pops them before printing).  Bad input raises
``ephkin.pde.errors.InputError`` naming the parameter.  See docs/python-api.md.
The functions made from studies (``spectrum_moments``, ``zinv``, ``two_temp``, ``cel``,
``transport``, ``evolve``: ``solvers/studies``) return a typed ``Result`` instead, read
the same way (``r["zinv_min"]``, ``r.zinv_min``; ``r.to_dict()`` is the command's JSON)
with its arrays as attributes (``r.E``, ``r.zinv``).

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

from ephkin.pde.errors import InputError
from ephkin.pde.instability import lambda_c_cel, lambda_c_zinv
from ephkin.pde.spectra import parse_spectrum

from .studies import cel as _cel
from .studies import evolve as _evolve
from .studies import spectrum as _spectrum
from .studies import transport as _transport
from .studies import two_temperature as _two_temperature
from .studies import zinv as _zinv
from .studies.api import api_function
from .studies.evolve import (  # noqa: F401  (the evolve study's constants, re-exported)
    DIAGNOSTICS_MAX_L,
    GRID_REL_TOL,
    GRID_T_TOL,
    PREDICTION_MAX_L,
    grid_verdict,
)
from .studies.zinv import TC_STRONG  # noqa: F401  (T_c of the strong-coupling limit, re-exported)

__all__ = ["spectrum_moments", "zinv", "two_temp", "cel", "transport", "lambda_c", "lambda_c_convergence",
           "linear_problem", "stability", "stability_convergence", "evolve", "nac_sigma", "avalanche_criterion",
           "avalanche_lattice", "convergence"]


def _shape(spectrum):
    return parse_spectrum(spectrum) if isinstance(spectrum, str) else spectrum


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


#: ``ephkin spectrum`` (studies/spectrum.py): ``spectrum_moments(spectrum, lam, units, mu_star) -> SpectrumMomentsResult``.
spectrum_moments = api_function(_spectrum.STUDY, "spectrum_moments")
#: ``ephkin zinv`` (studies/zinv.py): ``zinv(T0, spectrum, lam, units, strong_coupling, **params) -> ZinvResult``.
zinv = api_function(_zinv.STUDY, "zinv")
#: ``ephkin two-temp`` (studies/two_temperature.py): ``two_temp(spectrum, lam, T0, T_in, t_end, **params)``.
two_temp = api_function(_two_temperature.STUDY, "two_temp")
#: ``ephkin cel`` (studies/cel.py): ``cel(spectrum, lam, units, **params) -> CelResult``.
cel = api_function(_cel.STUDY, "cel")
#: ``ephkin transport`` (studies/transport.py): ``transport(T, spectrum, lam, **params) -> TransportResult``.
transport = api_function(_transport.STUDY, "transport")
#: ``ephkin evolve`` (studies/evolve.py): ``evolve(spectrum, lam, T0, T_in, t_end, **params) -> EvolveResult``.
evolve = api_function(_evolve.STUDY, "evolve")
