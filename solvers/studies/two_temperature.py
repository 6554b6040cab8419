"""``two-temp``: the two-temperature equation (seed 000 Eq. (16); the a_ee >> a_ep limit of docs/theory.md
(T1)), C_el(T) dT/dt = -P(T, T0): the relaxation rate at T0 and T(t) from T_in.  Where C_el < 0 (Eq. (S14))
T runs away to T_- or T_+, where C_el = 0 (Fig. 3), in finite time.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ephkin.pde.errors import InputError

from .base import Array, Progress, Result, Study, out, param
from .common import ENERGY, SpectrumParams
from .spectrum import spectrum_at, spectrum_name

#: Largest t_end of Eq. (16): relaxation times are 1-10^3 in these units; at t ~ 10^20 a step of the relaxed
#: solution is below the rounding of t and the integrator crawls (measured: t_end 10^20 in 1.8 s, 10^40 > 60 s).
T_END_MAX = 1e15


@dataclasses.dataclass(frozen=True, kw_only=True)
class TwoTemperatureParams(SpectrumParams):
    """Parameters of :func:`run` (``ephkin two-temp``)."""

    T0: float = param(help="phonon (bath) temperature T0", unit=ENERGY, positive=True)
    T_in: float = param(help="initial electron temperature", unit=ENERGY, positive=True)
    t_end: float = param(1000.0, help="final time (rescaled, pi t -> t)", unit="time", positive=True)

    def check_more(self) -> None:
        super().check_more()
        if self.t_end > T_END_MAX:
            raise InputError(
                f"t_end = {self.t_end:g} is beyond {T_END_MAX:g}, where the time axis loses the relaxation's "
                "steps to rounding (T has long reached T0 or run away); give a smaller t_end",
                "t_end",
            )


@dataclasses.dataclass(kw_only=True)
class TwoTemperatureResult(Result):
    """Result of :func:`run`.  ``status`` is "relaxes" (T -> T0) or "runaway" (C_el < 0: T ran to T_- or
    T_+, ``reason``; or the relaxation rate at T0 is negative)."""

    spectrum: str = out(help="the alpha^2F spec")
    units: str = out(help="energy units: g or plain (the spectrum's own)")
    lam: float = out(key="lambda", help="coupling lambda")
    T0: float = out(unit=ENERGY, help="phonon (bath) temperature")
    T_in: float = out(unit=ENERGY, help="initial electron temperature")
    relaxation_rate: float = out(unit="1/time", help="-d(dT/dt)/dT at T0 (> 0 relaxes, < 0 runs away)")
    cel_over_free_T0: float = out(help="C_el/C_free at T0 (Eq. (S14))")
    T_final: float = out(unit=ENERGY, help="T at t_final")
    t_final: float = out(unit="time", help="time reached (t_end, or where C_el = 0 stopped the run)")
    reason: str | None = out(help="why the run stopped early (runaway to where C_el = 0)")
    t: Array | None = out(array=True, unit="time", help="times of the solution")
    T: Array | None = out(array=True, unit=ENERGY, help="T(t)")


def run(
    params: TwoTemperatureParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> TwoTemperatureResult:
    """Integrate Eq. (16) from T_in to t_end (or to where C_el = 0); no PETSc (``petsc_options`` are not
    read)."""
    from ephkin.pde import eliashberg as eq
    from ephkin.pde.two_temperature import evolve_temperature, relaxation_rate

    s = spectrum_at(params.spectrum, params.lam, params.units)
    sol = evolve_temperature(s, params.T0, params.T_in, params.t_end)
    res = TwoTemperatureResult(
        spectrum=spectrum_name(params.spectrum),
        units=params.units,
        lam=s.lam,
        T0=params.T0,
        T_in=params.T_in,
        relaxation_rate=relaxation_rate(s, params.T0),
        cel_over_free_T0=float(eq.cel_ratio(s, np.array([params.T0]))[0]),
        T_final=float(sol.y[0, -1]),
        t_final=float(sol.t[-1]),
        t=sol.t,
        T=sol.y[0],
    )
    if sol.status == 1:
        res.status = "runaway"
        res.reason = "C_el < 0: T ran to where C_el = 0 (T_- or T_+, Fig. 3)"
        res.message = f"runaway: T ran from {params.T_in:g} to {res.T_final:.4g} (C_el = 0) at t = {res.t_final:.4g}"
    else:
        res.status = "relaxes" if res.relaxation_rate > 0 else "runaway"
        res.message = (
            f"{res.status}: T = {res.T_final:.4g} at t = {res.t_final:.4g} (relaxation rate at T0 "
            f"{res.relaxation_rate:.4g})"
        )
    return res


STUDY = Study(
    "two-temp",
    TwoTemperatureParams,
    run,
    "two-temperature equation (Eq. 16): T(t) from T_in with C_el(T); runs away to T_-/T_+ where C_el < 0 (Fig. 3)",
    positional=("spectrum", "lam", "T0", "T_in", "t_end"),
)
