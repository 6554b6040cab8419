"""``nac evolve``: the transient after a pump (seed 001 Fig. 3, docs/theory.md sections 7, 8): f(eps, t), zeta(t),
sigma(t) of Eqs. (2)-(3) with PETSc TS and, with ``spontaneous``, the field E*(t) that keeps sigma >= 0 (the
sigma < 0 instability)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..prefixes import NAC
from .base import Array, Progress, Study, out, param, solver_failures
from .common import TimeSeriesParams
from .nac_common import TIME, BandParams, BandResult
from .petsc import petsc_scope
from .tracking import snapshots, tenth_reporter


@dataclasses.dataclass(frozen=True, kw_only=True)
class NacEvolveParams(TimeSeriesParams, BandParams):
    """Parameters of :func:`run` (``ephkin nac evolve``)."""

    pump: str = param("pulse", choices=("pulse", "steady", "none"), help="I_p(t)")
    zeta0: float = param(10.0, nonnegative=True, help="pump strength zeta0")
    zeta_initial: float = param(0.0, nonnegative=True, help="zeta at t = 0")
    tau_pulse: float = param(0.3, unit=TIME, positive=True, help="pulse width Gamma_eph tau_pulse")
    tau_ph: float = param(
        5.0,
        unit=TIME,
        nonnegative=True,
        allow_inf=True,
        help="anharmonic decay time Gamma_eph tau_ph (a number or inf)",
    )
    spontaneous: bool = param(False, help="self-tuned field E*(t) keeping sigma >= 0 (Fig. 3b)")
    tau_M: float = param(1e-3, unit=TIME, positive=True, help="field response time")
    t_end: float = param(15.0, unit=TIME, positive=True, help="final time Gamma_eph t")


@dataclasses.dataclass(kw_only=True)
class NacEvolveResult(BandResult):
    """Result of :func:`run`: the extremes of sigma(t), zeta(t) and E*(t), and the history for plots."""

    pump: str = out(help="I_p(t): pulse, steady or none")
    zeta0: float = out(help="pump strength")
    tau_pulse: float = out(unit=TIME, help="pulse width")
    tau_ph: float = out(unit=TIME, help="anharmonic decay time")
    spontaneous: bool = out(help="self-tuned field E*(t)")
    t_end: float = out(unit=TIME, help="final time")
    particle_number_drift: float = out(help="max |N(t) - N(0)| / N(0)")
    sigma_min: float = out(help="min over t of sigma/sigma0")
    t_sigma_min: float = out(unit=TIME, help="time of sigma_min")
    sigma_negative_interval: list[float] | None = out(
        unit=TIME, omit_none=False, help="first and last time with sigma < 0 (null: never)"
    )
    zeta_max: float = out(help="max over t of zeta")
    E_star_max: float = out(unit="W", help="max over t of the field E*(t) (0 without spontaneous)")
    E_star_on_interval: list[float] | None = out(
        unit=TIME, omit_none=False, help="first and last time with E* > 0 (null: never)"
    )
    sigma_final: float = out(help="sigma/sigma0 at t_end")
    history: dict[str, Any] | None = out(
        array=True, help="per accepted step: t, sigma, zeta, field2, N, energy (arrays)"
    )
    E_star_t: Array | None = out(array=True, unit="W", help="E*(t) = sqrt(field2) on the history's times")
    eps: Array | None = out(array=True, unit="W", help="energies of the grid")
    D_over_DF: Array | None = out(array=True, help="D(eps)/D(mu)")
    f_final: Array | None = out(array=True, help="f(eps) at t_end")
    f_T: Array | None = out(array=True, help="the Fermi function f_T(eps)")
    files: list[str] = out(array=True, default=[], help="files written by the XDMF writer")


@solver_failures
def run(
    params: NacEvolveParams,
    *,
    progress: Progress | None = None,
    petsc_options: list[str] | None = None,
    on_step: Callable[[float, dict[str, Any]], None] | None = None,
    xdmf_dir: str | None = None,
) -> NacEvolveResult:
    """Integrate Eqs. (2)-(3) from f_T and zeta_initial to t_end with PETSc TS (options under ``-nac_``);
    ``on_step(t, values)`` at every accepted step (t, sigma, zeta, field2, N, energy); ``xdmf_dir``: f(eps, t)
    written there as an XDMF/HDF5 time series as the run goes."""
    from ..nac import describe, integrate, make_model

    band = params.band()
    model = make_model(
        band.pop("dos"),
        params.omega_p,
        pump=params.pump,
        zeta0=params.zeta0,
        tau_pulse=params.tau_pulse,
        tau_ph=params.tau_ph,
        spontaneous=params.spontaneous,
        tau_M=params.tau_M,
        **band,
    )
    with (
        petsc_scope(petsc_options, (NAC,)),
        snapshots(xdmf_dir, model.eps, params.flush_every, E_units="W", t_units="1/Gamma_eph") as writer,
    ):
        r = integrate(
            model,
            model.initial(params.zeta_initial),
            params.t_end,
            rtol=params.rtol,
            snapshots=writer,
            progress=tenth_reporter(progress, "nac evolve"),
            on_step=on_step,
        )
    h = r["history"]
    E_star = np.sqrt(np.maximum(h["field2"], 0.0))
    neg, on = h["sigma"] < 0, E_star > 0
    res = NacEvolveResult(
        pump=params.pump,
        zeta0=params.zeta0,
        tau_pulse=params.tau_pulse,
        tau_ph=params.tau_ph,
        spontaneous=params.spontaneous,
        t_end=params.t_end,
        particle_number_drift=r["particle_number_drift"],
        sigma_min=float(h["sigma"].min()),
        t_sigma_min=float(h["t"][np.argmin(h["sigma"])]),
        sigma_negative_interval=[float(h["t"][neg][0]), float(h["t"][neg][-1])] if neg.any() else None,
        zeta_max=float(h["zeta"].max()),
        E_star_max=float(E_star.max()),
        E_star_on_interval=[float(h["t"][on][0]), float(h["t"][on][-1])] if on.any() else None,
        sigma_final=float(h["sigma"][-1]),
        stats={"steps": r["steps"]},
    )
    res.absorb(describe(model))
    res.message = (
        f"sigma < 0 for {res.sigma_negative_interval[0]:.4g} <= t <= {res.sigma_negative_interval[1]:.4g}"
        if res.sigma_negative_interval
        else "sigma >= 0 throughout"
    ) + f" (min {res.sigma_min:.4g})"
    res.history, res.E_star_t = h, E_star
    res.eps, res.D_over_DF, res.f_final, res.f_T = model.eps, model.D / model.DF, r["y"][:-1], model.fermi()
    res.files = writer.files if writer else []
    return res


STUDY = Study(
    "nac evolve",
    NacEvolveParams,
    run,
    "transient after a pump pulse (Fig. 3): sigma(t), zeta(t), f(eps, t), with --spontaneous the field "
    "E*(t) of the sigma < 0 instability",
    prefixes=(NAC,),
    positional=("omega_p",),
)
