"""``zinv``: Z0^-1(E) at the bath temperature T0 (seed 000 Eq. (5); on the grid docs/theory.md section 2), or
its lambda -> infinity limit (Eq. (S38)) with ``strong_coupling``: the minimum E_min, the zeros and the
interval where Z0^-1 < 0 (the Z0 criterion of the kinetic instability, Eq. (10)), and the table Z0^-1(E) on
0 .. E_max.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ephkin.pde.errors import InputError

from .base import Array, Params, Progress, Result, Study, out, param
from .common import ALPHA2F_FORMS_HELP, ENERGY, UNITS_HELP, check_spectrum, require_scan
from .spectrum import spectrum_at, spectrum_name

#: T_c of the strong-coupling limit in units of g (seed 000 main text, [20]).
TC_STRONG = 0.1827
#: Largest energy of the strong-coupling table by default [g].
STRONG_E_MAX = 3.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class ZinvParams(Params):
    """Parameters of :func:`run` (``ephkin zinv``)."""

    strong_coupling: bool = param(
        False, help="use the lambda -> infinity limit, Eq. (S38) (no spectrum needed; units of g)"
    )
    spectrum: str | None = param(
        None, help=ALPHA2F_FORMS_HELP + "; required unless strong_coupling", metavar="ALPHA2F", objects=True
    )
    lam: float | None = param(
        None,
        positive=True,
        metavar="LAMBDA",
        help="coupling lambda (default: the spectrum's own, 1 for built-in shapes)",
    )
    T0: float = param(help="temperature T0", unit=ENERGY, positive=True)
    units: str = param("g", help=UNITS_HELP, choices=("g", "plain"))
    E_max: float | None = param(
        None,
        positive=True,
        unit=ENERGY,
        help="largest energy of the Z0^-1(E) table/plot (default 2.5 omega_max + 10 T0; "
        f"strong coupling {STRONG_E_MAX:g})",
    )
    points: int = param(801, help="points of the Z0^-1(E) table")

    def check_more(self) -> None:
        if self.points < 3:
            raise InputError(f"points must be >= 3 (got {self.points})", "points")
        require_scan("points", self.points)
        if self.strong_coupling:
            if self.spectrum is not None:
                raise InputError(
                    "strong_coupling does not take a spectrum (the limit is spectrum-independent)", "spectrum"
                )
            if self.units != "g":
                raise InputError("strong_coupling works in units of g; use units g", "units")
        elif self.spectrum is None:
            raise InputError("spectrum is required (or strong_coupling, the lambda -> infinity limit)", "spectrum")
        else:
            check_spectrum(self.spectrum)


@dataclasses.dataclass(kw_only=True)
class ZinvResult(Result):
    """Result of :func:`run`: the minimum of Z0^-1(E), its zeros and the interval where it is negative
    (``status`` "ok"; ``unstable``: Z0^-1 < 0 somewhere, Eq. (10)), and the table ``E``, ``zinv``."""

    model: str | None = out(help="strong-coupling (Eq. S38) with strong_coupling; absent otherwise")
    spectrum: str | None = out(help="the alpha^2F spec (absent with strong_coupling)")
    units: str = out(help="energy units: g or plain (the spectrum's own)")
    lam: float | None = out(key="lambda", help="coupling lambda (absent with strong_coupling)")
    T0: float = out(unit=ENERGY, help="temperature T0")
    omega_log: float | None = out(unit=ENERGY, help="logarithmic mean frequency (absent with strong_coupling)")
    E_min: float = out(unit=ENERGY, help="energy of the minimum of Z0^-1(E)")
    zinv_min: float = out(help="min_E Z0^-1(E)")
    unstable: bool = out(help="Z0^-1 < 0 somewhere (Eq. (10))")
    zeros: list[float] = out(unit=ENERGY, default=[], help="zeros of Z0^-1(E)")
    negative_intervals: list[list[float]] = out(unit=ENERGY, default=[], help="intervals where Z0^-1 < 0")
    negative_interval: list[float] | None = out(
        unit=ENERGY, omit_none=False, help="the interval where Z0^-1 < 0 around E_min (None: none)"
    )
    E_min_over_omega: float | None = out(help="E_min / omega_log (absent with strong_coupling)")
    T0_over_Tc: float | None = out(help="T0 / T_c of the strong-coupling limit (strong_coupling only)")
    T0_max_negative: float | None = out(unit=ENERGY, help="highest T0 with Z0^-1 < 0 somewhere (strong_coupling only)")
    T0_max_negative_over_Tc: float | None = out(help="T0_max_negative / T_c (strong_coupling only)")
    E: Array | None = out(array=True, unit=ENERGY, help="energies of the table, 0 .. E_max")
    zinv: Array | None = out(array=True, help="Z0^-1 on ``E``")


def run(params: ZinvParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None) -> ZinvResult:
    """Z0^-1(E) at T0: its minimum, zeros, negative interval and table (no PETSc: ``petsc_options`` are not
    read)."""
    from ephkin.pde import eliashberg as eq
    from ephkin.pde.instability import strong_coupling_analysis, strong_coupling_T0_max, zinv_analysis

    T0 = params.T0
    if params.strong_coupling:
        res = ZinvResult(model="strong-coupling (Eq. S38)", units="g", T0=T0)
        res.absorb(strong_coupling_analysis(T0))
        t_max = strong_coupling_T0_max()
        res.T0_over_Tc, res.T0_max_negative, res.T0_max_negative_over_Tc = T0 / TC_STRONG, t_max, t_max / TC_STRONG
        res.E = np.linspace(0.0, params.E_max or STRONG_E_MAX, params.points)
        res.zinv = eq.zinv_strong(res.E, T0)
    else:
        s = spectrum_at(params.spectrum, params.lam, params.units)
        res = ZinvResult(
            spectrum=spectrum_name(params.spectrum), units=params.units, lam=s.lam, T0=T0, omega_log=s.omega_log
        )
        res.absorb(zinv_analysis(s, T0))
        res.E_min_over_omega = res.E_min / s.omega_log
        res.E = np.linspace(0.0, params.E_max or 2.5 * s.omega_max + 10 * T0, params.points)
        res.zinv = eq.zinv(s, res.E, T0)
    iv = res.negative_interval
    res.message = f"min Z0^-1 = {res.zinv_min:.4g} at E = {res.E_min:.4g}" + (
        f"; Z0^-1 < 0 for {iv[0]:.4g} < E < {iv[1]:.4g}" if iv else ""
    )
    return res


STUDY = Study(
    "zinv",
    ZinvParams,
    run,
    "Z0^-1(E) (Eq. 5 / S38): minimum, zeros, interval where Z0^-1 < 0",
    positional=("T0", "spectrum", "lam", "units", "strong_coupling"),
)
