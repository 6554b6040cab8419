"""``spectrum``: the moments of alpha^2F (lambda, g, omega_log, <omega^2>, omega_max; seed 000 Eqs. (6), (7))
and the Allen-Dynes and McMillan T_c with a Coulomb pseudopotential mu* (seed 002).  Energies in units of g
(g^2 = 2 int omega a2F, docs/theory.md section 0) or in the spectrum's own unit with ``units="plain"``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .base import Array, Progress, Result, Study, out, param
from .common import ENERGY, SpectrumParams

#: Points of the alpha^2F curve returned for the plot (0 .. 1.1 omega_max).
PLOT_POINTS = 600


def spectrum_at(spec: Any, lam: float | None, units: str) -> Any:
    """The ``pde.spectra.Spectrum`` of a spec string or a ``pde.spectra`` shape (from Python) at coupling
    ``lam`` (None: the shape's own) in ``units`` (docs/theory.md section 0)."""
    from ephkin.pde.spectra import parse_spectrum

    shape = parse_spectrum(spec) if isinstance(spec, str) else spec
    return shape.with_lambda(shape.lam if lam is None else lam, units)


def spectrum_name(spec: Any) -> str:
    """The spec as the results echo it (a shape given from Python: its kind, e.g. "modes:40-60")."""
    return spec if isinstance(spec, str) else str(getattr(spec, "kind", None) or spec)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpectrumMomentsParams(SpectrumParams):
    """Parameters of :func:`run` (``ephkin spectrum``)."""

    mu_star: float = param(0.10, nonnegative=True, help="Coulomb pseudopotential mu* (typical values 0.08-0.15)")


@dataclasses.dataclass(kw_only=True)
class SpectrumMomentsResult(Result):
    """Result of :func:`run`: the moments of alpha^2F and T_c (``status`` "ok")."""

    spectrum: str = out(help="the alpha^2F spec")
    units: str = out(help="energy units: g or plain (the spectrum's own)")
    lam: float = out(key="lambda", help="coupling lambda = 2 int a2F/omega")
    g: float = out(unit=ENERGY, help="g = sqrt(g2)")
    g2: float = out(unit=ENERGY + "^2", help="g^2 = 2 int omega a2F")
    omega_log: float = out(unit=ENERGY, help="logarithmic mean frequency (seed 000 Eq. (7))")
    omega1_mean: float = out(unit=ENERGY, help="<omega> (weight 2 a2F/(lambda omega))")
    omega2_mean: float = out(unit=ENERGY + "^2", help="<omega^2>")
    omega2_bar: float = out(unit=ENERGY, help="sqrt(<omega^2>)")
    omega_max: float = out(unit=ENERGY, help="largest phonon frequency")
    mu_star: float = out(help="Coulomb pseudopotential mu*")
    Tc_allen_dynes: float | None = out(unit=ENERGY, omit_none=False, help="Allen-Dynes T_c")
    Tc_mcmillan: float | None = out(unit=ENERGY, omit_none=False, help="McMillan T_c")
    omega: Array | None = out(array=True, unit=ENERGY, help="frequencies of the plot, 0 .. 1.1 omega_max")
    alpha2f: Array | None = out(
        array=True, help="the continuous part of alpha^2F on ``omega`` (None: delta peaks only)"
    )
    peaks: tuple[Array, Array] | None = out(
        array=True, help="(omega_k, 2 w_k/omega_k) of the delta peaks (None: a continuous spectrum)"
    )


def run(
    params: SpectrumMomentsParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> SpectrumMomentsResult:
    """Moments of alpha^2F and the Allen-Dynes / McMillan T_c (no PETSc: ``petsc_options`` are not read)."""
    from ephkin.pde import phonons

    s = spectrum_at(params.spectrum, params.lam, params.units)
    om, w = s.nodes()
    res = SpectrumMomentsResult(spectrum=spectrum_name(params.spectrum), units=params.units, mu_star=params.mu_star)
    res.absorb(s.moments())
    res.Tc_allen_dynes = phonons.allen_dynes_tc(om, w, params.mu_star)
    res.Tc_mcmillan = phonons.mcmillan_tc(om, w, params.mu_star)
    res.omega = np.linspace(0.0, 1.1 * s.omega_max, PLOT_POINTS)
    res.alpha2f = s.alpha2f(res.omega) if s.density is not None else None
    res.peaks = (s.omega, 2.0 * s.weight / s.omega) if s.omega.size else None
    tc = f"{res.Tc_allen_dynes:.4g}" if res.Tc_allen_dynes is not None else "none"
    res.message = (
        f"lambda = {res.lam:.4g}, omega_log = {res.omega_log:.4g}, T_c (Allen-Dynes, mu* = {params.mu_star:g}) = {tc}"
    )
    return res


STUDY = Study(
    "spectrum",
    SpectrumMomentsParams,
    run,
    "moments of alpha^2F (lambda, g, omega_log, <omega^2>) and T_c",
    positional=("spectrum", "lam", "units", "mu_star"),
)
