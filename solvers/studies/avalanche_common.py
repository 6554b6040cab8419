"""What the ``avalanche`` studies share (seed 003, docs/avalanche.md): the bath and phonon parameters, the
E-range of a field scan, and the analytic criterion of Eqs. (11)-(16) at the head of ``criterion`` and
``curve``.  Units hbar = e = k_B = 1 and t a^2 = hbar^2/2m = 1 (the seed's lattice: t = 1, m = 1/2): energies
in units of the hopping t, fields (potential drop per site) in t/a."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from ephkin.pde.errors import InputError

from .base import Params, Result, out, param

#: Unit of energies, rates and temperatures (the hopping t) and of fields (potential drop per site).
ENERGY = "t"
FIELD = "t/a"


@dataclasses.dataclass(frozen=True, kw_only=True)
class BathParams(Params):
    """The bath, the coupling and the Einstein phonon of every avalanche study."""

    gamma: float = param(unit=ENERGY, positive=True, help="bath dephasing rate Gamma (> 0)")
    g_ep: float = param(unit=ENERGY, positive=True, help="electron-phonon coupling g_ep (> 0)")
    omega0: float = param(unit=ENERGY, positive=True, help="Einstein phonon energy omega0 (> 0)")
    T: float = param(0.0, unit=ENERGY, nonnegative=True, help="bath temperature")


def check_e_range(E_range: tuple[float, float, float], limit: int) -> None:
    """A log scan of fields: 0 < EMIN < EMAX, at least 2 points and at most ``limit`` (the study's cost per
    point times ``limit`` is a few minutes)."""
    lo, hi, num = E_range
    if not 0 < lo < hi or int(num) < 2:
        raise InputError(f"E_range {lo:g} {hi:g} {num:g}: give 0 < EMIN < EMAX and at least 2 points", "E_range")
    from .common import require_scan

    require_scan("E_range", num, limit)


@dataclasses.dataclass(kw_only=True)
class CriterionResult(Result):
    """The analytic avalanche criterion, Eqs. (11)-(16) (``pde.avalanche.criterion``)."""

    beta: float = out(help="beta of Eq. (13) (bare Gamma)")
    beta_c: float = out(help="critical beta_c of Eq. (14)")
    x0: float = out(help="x0 of Eq. (14)")
    E_av: float | None = out(
        unit=FIELD,
        omit_none=False,
        help="avalanche field: the lower root of lambda(E) = 1, Eq. (11) (null below beta_c)",
    )
    E_av_upper: float | None = out(unit=FIELD, omit_none=False, help="the upper root of lambda(E) = 1")
    E_av_asymptotic: float | None = out(unit=FIELD, omit_none=False, help="E_av of Eq. (12)")
    T_star: float = out(unit=ENERGY, help="T* of Eq. (16)")
    reason: str | None = out(help="why there is no avalanche (beta below beta_c)")


C = TypeVar("C", bound=CriterionResult)


def criterion_result(cls: type[C], mass: float, g_ep: float, gamma: float, omega0: float, T: float) -> C:
    """``cls`` filled from ``pde.avalanche.criterion``; status "avalanche" or "no-avalanche"."""
    from ephkin.pde import avalanche as av

    res = cls()
    res.absorb(av.criterion(mass, g_ep, gamma, omega0, T))
    if res.E_av is None:
        res.status, res.message = "no-avalanche", res.reason or "no root of lambda(E) = 1"
    else:
        res.status = "avalanche"
        res.message = f"lambda(E) >= 1 for {res.E_av:.4g} <= E <= {res.E_av_upper:.4g}"
    return res
