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

from .studies import avalanche_criterion as _avalanche_criterion
from .studies import avalanche_curve as _avalanche_curve
from .studies import avalanche_lattice as _avalanche_lattice
from .studies import avalanche_replica as _avalanche_replica
from .studies import evolve as _evolve
from .studies import nac_evolve as _nac_evolve
from .studies import nac_sigma as _nac_sigma
from .studies.api import api_function
from .studies.evolve import (  # noqa: F401  (the evolve study's constants, re-exported)
    DIAGNOSTICS_MAX_L,
    GRID_REL_TOL,
    GRID_T_TOL,
    PREDICTION_MAX_L,
    grid_verdict,
)

__all__ = ["spectrum_moments", "zinv", "lambda_c", "lambda_c_convergence", "linear_problem", "stability",
           "stability_convergence", "evolve", "nac_sigma", "nac_evolve", "avalanche_criterion", "avalanche_curve",
           "avalanche_lattice", "avalanche_replica", "convergence"]

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


#: ``ephkin evolve`` (studies/evolve.py): ``evolve(spectrum, lam, T0, T_in, t_end, **params) -> EvolveResult``.
evolve = api_function(_evolve.STUDY, "evolve")

#: ``ephkin nac sigma`` (studies/nac_sigma.py): ``nac_sigma(omega_p, zeta, **params) -> NacSigmaResult``.
nac_sigma = api_function(_nac_sigma.STUDY, "nac_sigma")
#: ``ephkin nac evolve`` (studies/nac_evolve.py): ``nac_evolve(omega_p, **params) -> NacEvolveResult``.
nac_evolve = api_function(_nac_evolve.STUDY, "nac_evolve")
#: ``ephkin avalanche criterion``: ``avalanche_criterion(g_ep, gamma, omega0, mass=0.5, T=0.0)``.
avalanche_criterion = api_function(_avalanche_criterion.STUDY, "avalanche_criterion")
#: ``ephkin avalanche curve``: ``avalanche_curve(g_ep, gamma, omega0, **params) -> AvalancheCurveResult``.
avalanche_curve = api_function(_avalanche_curve.STUDY, "avalanche_curve")
#: ``ephkin avalanche lattice``: ``avalanche_lattice(gamma, g_ep, omega0, E, delta=1.0, T=0.01, n_omega=65536,
#: solver="anderson", tol=1e-8, branching=False) -> AvalancheLatticeResult``.
avalanche_lattice = api_function(_avalanche_lattice.STUDY, "avalanche_lattice")
#: ``ephkin avalanche replica``: ``avalanche_replica(gamma, g_ep, omega0, **params) -> AvalancheReplicaResult``.
avalanche_replica = api_function(_avalanche_replica.STUDY, "avalanche_replica")
