"""``transport``: the transport rate 1/tau_tr(T) from the transport spectrum alpha^2F_tr (Allen's formula) or
from the Bloch-Grueneisen closed form with Debye temperature THETA, and the resistivity rho(T) in uOhm cm
from the plasma frequency (energies as in docs/theory.md section 0; rho needs the spectrum's own unit).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ephkin.pde.errors import InputError

from .base import Params, Progress, Result, Study, out, param
from .common import ENERGY, check_spectrum
from .spectrum import spectrum_at, spectrum_name


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransportParams(Params):
    """Parameters of :func:`run` (``ephkin transport``)."""

    spectrum: str | None = param(
        None, metavar="ALPHA2F", objects=True, help="transport spectrum alpha^2F_tr (same syntax as alpha^2F)"
    )
    lam: float | None = param(None, positive=True, metavar="LAMBDA_TR", help="lambda_tr")
    bloch_gruneisen: float | None = param(
        None,
        positive=True,
        metavar="THETA",
        help="use the Bloch-Grueneisen closed form with Debye temperature THETA instead of a spectrum",
    )
    T: tuple[float, ...] = param(help="temperatures", unit=ENERGY, positive=True)
    plasma_eV: float | None = param(None, positive=True, unit="eV", help="hbar*omega_p in eV, for rho in uOhm cm")
    energy_unit: str = param(
        "meV", choices=("meV", "eV", "K"), help="unit of the spectrum's energies when converting to rho"
    )
    units: str = param(
        "g",
        choices=("g", "plain"),
        help="energy units of the spectrum and of T (default g; rho needs plain, the spectrum's own unit)",
    )

    def check_more(self) -> None:
        if self.bloch_gruneisen is not None:
            if self.spectrum is not None:
                raise InputError(
                    "bloch_gruneisen replaces the spectrum: give either a spectrum (alpha^2F_tr) or "
                    "bloch_gruneisen THETA, not both",
                    "bloch_gruneisen",
                )
            return
        if self.spectrum is None:
            raise InputError(
                "spectrum (alpha^2F_tr) is required, or bloch_gruneisen THETA (the Bloch-Grueneisen form)", "spectrum"
            )
        check_spectrum(self.spectrum)
        if self.plasma_eV is not None and self.units != "plain":
            raise InputError(
                "plasma_eV: rho needs the rate in the spectrum's own energy unit (energy_unit); use units plain",
                "plasma_eV",
            )


@dataclasses.dataclass(kw_only=True)
class TransportResult(Result):
    """Result of :func:`run`: 1/tau_tr at each T and, with plasma_eV, rho (``status`` "ok")."""

    model: str = out(help="Allen (alpha^2F_tr) or Bloch-Grueneisen")
    spectrum: str | None = out(help="the alpha^2F_tr spec (Allen only)")
    theta: float | None = out(unit=ENERGY, help="Debye temperature (Bloch-Grueneisen only)")
    lambda_tr: float = out(help="transport coupling lambda_tr")
    units: str | None = out(help="energy units of the spectrum and T (Allen only)")
    T: list[float] = out(unit=ENERGY, default=[], help="temperatures")
    rate: list[float] = out(unit=ENERGY, default=[], help="transport rate hbar/tau_tr at each T")
    rho_uOhm_cm: list[float] | None = out(unit="uOhm cm", help="resistivity at each T (with plasma_eV)")
    energy_unit: str | None = out(help="the spectrum's energy unit used for rho (with plasma_eV)")


def run(
    params: TransportParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> TransportResult:
    """1/tau_tr(T) and rho(T) (no PETSc: ``petsc_options`` are not read)."""
    from ephkin.pde import phonons

    T = np.asarray(params.T, dtype=float)
    if params.bloch_gruneisen is not None:
        lam_tr = 1.0 if params.lam is None else params.lam
        rate = phonons.bloch_gruneisen_rate(lam_tr, params.bloch_gruneisen, T)
        res = TransportResult(model="Bloch-Grueneisen", theta=params.bloch_gruneisen, lambda_tr=lam_tr)
    else:
        s = spectrum_at(params.spectrum, params.lam, params.units)
        omega, weight = s.nodes()
        rate = phonons.transport_rate(omega, weight, T)
        res = TransportResult(
            model="Allen (alpha^2F_tr)", spectrum=spectrum_name(params.spectrum), lambda_tr=s.lam, units=params.units
        )
    res.T, res.rate = T.tolist(), np.atleast_1d(rate).tolist()
    if params.plasma_eV is not None:
        res.rho_uOhm_cm = np.atleast_1d(phonons.resistivity(rate, params.plasma_eV, params.energy_unit)).tolist()
        res.energy_unit = params.energy_unit
    res.message = f"{res.model}: 1/tau_tr = {res.rate[0]:.4g} at T = {res.T[0]:g}" + (
        f" ... {res.rate[-1]:.4g} at T = {res.T[-1]:g}" if len(res.T) > 1 else ""
    )
    return res


STUDY = Study(
    "transport",
    TransportParams,
    run,
    "transport rate 1/tau_tr(T) and resistivity from alpha^2F_tr (Allen; Bloch-Grueneisen)",
    positional=("T", "spectrum", "lam"),
)
