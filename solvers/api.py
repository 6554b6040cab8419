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
from collections.abc import Callable
from typing import Any

import numpy as np

from ephkin.pde import eliashberg as eq
from ephkin.pde import phonons
from ephkin.pde.errors import InputError
from ephkin.pde.instability import (
    strong_coupling_analysis,
    strong_coupling_T0_max,
    zinv_analysis,
)
from ephkin.pde.spectra import make_spectrum, parse_spectrum

from .studies import evolve as _evolve
from .studies import lambda_c as _lambda_c
from .studies import stability as _stability
from .studies.convergence import convergence  # noqa: F401  (re-exported)
from .studies.stability import linear_problem  # noqa: F401  (re-exported)
from .studies.api import api_function
from .studies.base import Result
from .studies.evolve import (  # noqa: F401  (the evolve study's constants, re-exported)
    DIAGNOSTICS_MAX_L,
    GRID_REL_TOL,
    GRID_T_TOL,
    PREDICTION_MAX_L,
    grid_verdict,
)

__all__ = ["spectrum_moments", "zinv", "lambda_c", "lambda_c_convergence", "linear_problem", "stability",
           "stability_convergence", "evolve", "nac_sigma", "avalanche_criterion", "avalanche_lattice", "convergence"]

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


#: ``ephkin evolve`` (studies/evolve.py): ``evolve(spectrum, lam, T0, T_in, t_end, **params) -> EvolveResult``.
evolve = api_function(_evolve.STUDY, "evolve")
#: ``ephkin lambda-c`` (studies/lambda_c.py): ``lambda_c(spectrum, T0, **params) -> LambdaCResult``.
lambda_c = api_function(_lambda_c.STUDY, "lambda_c")
#: ``ephkin stability`` (studies/stability.py): ``stability(spectrum, lam, T0, **params) -> StabilityResult``.
stability = api_function(_stability.STUDY, "stability")


def lambda_c_convergence(spectrum: Any, T0: float, levels: int = 4, refine: int = 1,
                         progress: Callable[[str], None] | None = None, **kw: Any) -> Result:
    """The linear lambda_c on ``levels`` grids refined by 2 (``lambda_c(..., method="linear", converge=levels)``)."""
    return lambda_c(spectrum, T0, method="linear", converge=levels, refine=refine, progress=progress, **kw)


def stability_convergence(spectrum: Any, lam: float | None, T0: float, levels: int = 4, refine: int = 1, nev: int = 2,
                          progress: Callable[[str], None] | None = None, **grid: Any) -> Result:
    """gamma_min_positive and the slowest negative gamma on ``levels`` refined grids
    (``stability(..., converge=levels)``)."""
    return stability(spectrum, lam, T0, converge=levels, refine=refine, nev=nev, progress=progress, **grid)
