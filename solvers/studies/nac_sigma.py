"""``nac sigma``: sigma/sigma0 of the photoexcited state at fixed phonon population zeta (seed 001,
docs/theory.md sections 7, 8): Eq. (8) for zeta = inf, else Eq. (2) evolved with PETSc TS from f_T for ``t_end``
(``steady``: t -> inf); ``E_star``: also the field with sigma(E*) = 0 (Fig. 2e)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ephkin.pde.errors import InputError

from ..prefixes import NAC
from .base import Array, Progress, Study, out, param, solver_failures
from .nac_common import TIME, BandParams, BandResult
from .petsc import petsc_scope


@dataclasses.dataclass(frozen=True, kw_only=True)
class NacSigmaParams(BandParams):
    """Parameters of :func:`run` (``ephkin nac sigma``)."""

    zeta: float = param(nonnegative=True, allow_inf=True, help="phonon population zeta (a number or inf)")
    t_end: float = param(10.0, unit=TIME, positive=True, help="evolution time Gamma_eph t (10 is the seed's)")
    steady: bool = param(False, help="the t -> inf steady state instead of t = --t-end")
    E_star: bool = param(False, help="also E* with sigma(E*) = 0 and omega_E (Fig. 2e, 3b)")

    def check_more(self) -> None:
        super().check_more()
        if math.isinf(self.zeta):
            if self.gamma_in or self.field or self.delta_omega:
                raise InputError(
                    "zeta = inf is Eq. (8): St_in = 0, E = 0, sharp phonons; drop gamma_in, field "
                    "and delta_omega or give a finite zeta",
                    "zeta",
                )
            if self.E_star:
                raise InputError("E_star needs a finite zeta (the field acts through Eq. (7) in Eq. (2))", "E_star")


@dataclasses.dataclass(kw_only=True)
class NacSigmaResult(BandResult):
    """Result of :func:`run`: sigma/sigma0 of the state, how it was found, and f(eps) for plots."""

    zeta: float | str = out(help='phonon population ("inf": the periodic state of Eq. (8))')
    method: str = out(help="how the state was found: Eq. (8), the steady state or the evolution of Eq. (2)")
    t_end: float | None = out(unit=TIME, help="evolution time (evolved states)")
    particle_number_drift: float | None = out(help="max |N(t) - N(0)| / N(0) of the evolution")
    sigma_over_sigma0: float = out(help="conductivity sigma/sigma0 of the state, Eq. (9)")
    max_abs_df_vs_eq8: float | None = out(
        help="max |f - f_Eq.(8)|: the distance from the zeta -> inf limit (shrinks like 1/zeta)"
    )
    E_star: float | None = out(unit="W", help="field F* with sigma(F*) = 0 (with E_star)")
    omega_E_over_sigma0: float | None = out(help="omega_E / sigma0 at F* (with E_star)")
    E_star_paper_units: float | None = out(
        help="F* in the seed's units, F* sqrt(Gamma_eph/Gamma_in) / omega_p "
        "(with E_star and gamma_in > 0; null otherwise)"
    )
    eps: Array | None = out(array=True, unit="W", help="energies of the grid")
    D_over_DF: Array | None = out(array=True, help="D(eps)/D(mu)")
    f: Array | None = out(array=True, help="f(eps) of the state")
    f_T: Array | None = out(array=True, help="the Fermi function f_T(eps)")


@solver_failures
def run(
    params: NacSigmaParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> NacSigmaResult:
    """sigma/sigma0 at fixed zeta: Eq. (8), the steady state of Eq. (2), or Eq. (2) evolved for t_end."""
    from ..nac import describe, integrate, make_model

    zeta = params.zeta
    model = make_model(
        params.dos, params.omega_p, hold_zeta=True, **{k: v for k, v in params.band().items() if k != "dos"}
    )
    res = NacSigmaResult(zeta="inf" if math.isinf(zeta) else zeta, method="")
    res.absorb(describe(model))
    with petsc_scope(petsc_options, (NAC,)):
        if math.isinf(zeta):
            f = model.periodic_limit()
            res.method = "Eq. (8): periodic zeta -> inf state"
        elif params.steady:
            f = model.steady_state(zeta)
            res.method = "steady state of Eq. (2) (pseudo-transient Newton)"
        else:
            r = integrate(model, model.initial(zeta), params.t_end, rtol=params.rtol)
            f = r["y"][:-1]
            res.method = "Eq. (2) evolved with PETSc TS"
            res.t_end, res.particle_number_drift = params.t_end, r["particle_number_drift"]
            res.stats["steps"] = r["steps"]
            if progress is not None:
                progress(f"nac sigma: t = {params.t_end} reached in {r['steps']} steps")
        res.sigma_over_sigma0 = model.conductivity(f)
        if not (math.isinf(zeta) or params.gamma_in or params.field or params.delta_omega):
            # Eq. (8) is the zeta -> inf limit of this state: the distance shrinks like 1/zeta
            res.max_abs_df_vs_eq8 = float(np.max(np.abs(f - model.periodic_limit())))
        if params.E_star:
            F, omega_E, _ = model.zero_conductivity_field(zeta, t_end=None if params.steady else params.t_end)
            res.E_star, res.omega_E_over_sigma0 = F, omega_E
            if params.gamma_in > 0:
                res.E_star_paper_units = F * math.sqrt(1.0 / params.gamma_in) / model.omega_p
            else:
                res.extra["E_star_paper_units"] = None  # asked for, undefined without St_in: null in the JSON
    res.message = f"sigma/sigma0 = {res.sigma_over_sigma0:.6g} ({res.method})"
    res.eps, res.D_over_DF, res.f, res.f_T = model.eps, model.D / model.DF, f, model.fermi()
    return res


STUDY = Study(
    "nac sigma",
    NacSigmaParams,
    run,
    "sigma/sigma0 at fixed zeta: Eq. (8) (--zeta inf) or Eq. (2) evolved for --t-end with PETSc TS; "
    "--E-star: the field with sigma(E*) = 0 (Fig. 2e)",
    prefixes=(NAC,),
    positional=("omega_p", "zeta"),
)
