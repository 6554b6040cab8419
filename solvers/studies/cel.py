"""``cel``: the electronic specific heat C_el(T)/C_free at fixed phonon frequencies (seed 000 Eqs. (S11)-(S14);
its grid form is docs/theory.md (T9)): the window T_- < T < T_+ where C_el < 0, the smallest coupling
lambda_min with such a window, and the table C_el(T), epsilon(T) for Fig. 3.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ephkin.pde.errors import InputError

from .base import Array, Progress, Result, Study, out, param
from .common import ENERGY, SpectrumParams
from .spectrum import spectrum_at, spectrum_name

#: Temperatures of the C_el(T) table (linear in T_range).
TABLE_POINTS = 400


@dataclasses.dataclass(frozen=True, kw_only=True)
class CelParams(SpectrumParams):
    """Parameters of :func:`run` (``ephkin cel``)."""

    T_range: tuple[float, float] | None = param(
        None,
        positive=True,
        unit=ENERGY,
        metavar=("TLO", "THI"),
        help="temperature range scanned (default 0.01..5 omega_log)",
    )

    def check_more(self) -> None:
        if self.T_range is not None and not self.T_range[0] < self.T_range[1]:
            raise InputError(f"T_range {self.T_range[0]:g} {self.T_range[1]:g}: give T_lo < T_hi", "T_range")
        super().check_more()


@dataclasses.dataclass(kw_only=True)
class CelResult(Result):
    """Result of :func:`run`: where C_el < 0 (``status`` "ok"; T_minus, T_plus None when C_el > 0 on the
    whole range) and the table ``T``, ``cel_over_free``, ``cel``, ``energy``."""

    spectrum: str = out(help="the alpha^2F spec")
    units: str = out(help="energy units: g or plain (the spectrum's own)")
    lam: float = out(key="lambda", help="coupling lambda")
    omega_ref: float = out(unit=ENERGY, help="reference frequency of the ratios (omega_log)")
    omega_ref_definition: str = out(default="omega_log", help="what omega_ref is")
    negative_intervals: list[list[float]] = out(unit=ENERGY, default=[], help="intervals of T where C_el < 0")
    T_minus: float | None = out(unit=ENERGY, omit_none=False, help="lower end T_- of the first window C_el < 0")
    T_plus: float | None = out(unit=ENERGY, omit_none=False, help="upper end T_+ of the first window C_el < 0")
    lambda_min: float | None = out(omit_none=False, help="smallest lambda with C_el < 0 somewhere (this shape)")
    T_at_lambda_min: float | None = out(unit=ENERGY, omit_none=False, help="where C_el first turns negative")
    T_minus_over_omega: float | None = out(omit_none=False, help="T_- / omega_ref")
    T_plus_over_omega: float | None = out(omit_none=False, help="T_+ / omega_ref")
    T: Array | None = out(array=True, unit=ENERGY, help="temperatures of the table (T_range)")
    cel_over_free: Array | None = out(array=True, help="C_el/C_free on ``T`` (Eq. (S14))")
    cel: Array | None = out(array=True, help="C_el on ``T``")
    energy: Array | None = out(array=True, unit=ENERGY, help="electronic energy epsilon(T) on ``T``")


def run(params: CelParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None) -> CelResult:
    """C_el(T) on T_range: T_-, T_+, lambda_min and the table (no PETSc: ``petsc_options`` are not read)."""
    from ephkin.pde import eliashberg as eq
    from ephkin.pde.instability import cel_analysis

    s = spectrum_at(params.spectrum, params.lam, params.units)
    wl = s.omega_log
    lo, hi = params.T_range or (0.01 * wl, 5.0 * wl)
    res = CelResult(spectrum=spectrum_name(params.spectrum), units=params.units, lam=s.lam, omega_ref=wl)
    res.absorb(cel_analysis(s, lo, hi))
    res.T_minus_over_omega = None if res.T_minus is None else res.T_minus / wl
    res.T_plus_over_omega = None if res.T_plus is None else res.T_plus / wl
    res.T = np.linspace(lo, hi, TABLE_POINTS)
    res.cel_over_free, res.energy, res.cel = eq.cel_ratio(s, res.T), eq.electronic_energy(s, res.T), eq.cel(s, res.T)
    res.message = (
        f"C_el < 0 for {res.T_minus:.4g} < T < {res.T_plus:.4g}"
        if res.T_minus is not None
        else f"C_el > 0 for {lo:.4g} < T < {hi:.4g}"
    ) + (f"; lambda_min = {res.lambda_min:.4g}" if res.lambda_min is not None else "")
    return res


STUDY = Study(
    "cel",
    CelParams,
    run,
    "electronic specific heat C_el(T) (S11-S14): window where C_el < 0",
    positional=("spectrum", "lam", "units"),
)
