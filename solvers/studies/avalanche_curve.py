"""``avalanche curve``: lambda(E) of Eq. (A6) against the numerical lambda' of Eq. (A7) on a log grid of fields
(seed 003 Fig. 6, docs/avalanche.md), with the criterion of Eqs. (11)-(16) and the largest relative
difference of (A7) from (A6) inside the avalanche window E_av <= E <= E_av_upper."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .avalanche_common import FIELD, BathParams, CriterionResult, check_e_range, criterion_result
from .base import Array, Progress, Study, out, param


@dataclasses.dataclass(frozen=True, kw_only=True)
class AvalancheCurveParams(BathParams):
    """Parameters of :func:`run` (``ephkin avalanche curve``)."""

    mass: float = param(0.5, positive=True, help="band mass m (1/2: the seed's lattice)")
    E_range: tuple[float, float, float] = param(
        (3e-4, 5e-2, 40.0), unit=FIELD, metavar=("EMIN", "EMAX", "N"), help="log grid of fields: EMIN EMAX N"
    )

    def check_more(self) -> None:
        check_e_range(self.E_range, limit=100_000)  # Eq. (A7) numerically: ~1.8 ms a point, 3 min at the limit


@dataclasses.dataclass(kw_only=True)
class AvalancheCurveResult(CriterionResult):
    """Result of :func:`run`: the criterion of Eqs. (11)-(16), the curves and their agreement."""

    max_rel_diff_a7_a6_in_window: float | None = out(
        omit_none=False, help="max |lambda'/lambda - 1| for E_av <= E <= E_av_upper (null: no grid point there)"
    )
    curve: dict[str, Any] = out(default={}, help="E, lambda_A6, lambda_A7 (lists)")
    E: Array | None = out(array=True, unit=FIELD, help="the fields of the grid")
    lambda_A6: Array | None = out(array=True, help="lambda(E) of Eq. (A6)")
    lambda_A7: Array | None = out(array=True, help="lambda'(E) of Eq. (A7), numerical")


def run(
    params: AvalancheCurveParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> AvalancheCurveResult:
    """lambda(E) (A6) and lambda'(E) (A7) on the log grid ``E_range``, with the roots of lambda = 1."""
    from ephkin.pde import avalanche as av

    p = params
    lo, hi, num = p.E_range
    E = np.geomspace(lo, hi, int(num))
    lam = av.lambda_a6(E, p.mass, p.g_ep, p.gamma, p.omega0)
    lam7 = av.lambda_a7(E, p.mass, p.g_ep, p.gamma, p.omega0)
    res = criterion_result(AvalancheCurveResult, p.mass, p.g_ep, p.gamma, p.omega0, p.T)
    lo_av, hi_av = res.E_av, res.E_av_upper
    window = (E >= lo_av) & (E <= hi_av) if lo_av is not None and hi_av is not None else np.zeros(E.size, bool)
    res.max_rel_diff_a7_a6_in_window = float(np.max(np.abs(lam7 / lam - 1)[window])) if window.any() else None
    res.curve = {"E": E.tolist(), "lambda_A6": lam.tolist(), "lambda_A7": lam7.tolist()}
    res.E, res.lambda_A6, res.lambda_A7 = E, lam, lam7
    return res


STUDY = Study(
    "avalanche curve",
    AvalancheCurveParams,
    run,
    "lambda(E) of Eq. (A6) against lambda' of Eq. (A7) (Fig. 6)",
    positional=("g_ep", "gamma", "omega0"),
)
