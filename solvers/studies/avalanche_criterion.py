"""``avalanche criterion``: the analytic avalanche criterion of seed 003, Eqs. (11)-(16) (docs/avalanche.md):
beta, beta_c, x0, both roots E_av < E_av_upper of lambda(E) = 1, the asymptotic E_av of Eq. (12) and T*."""

from __future__ import annotations

import dataclasses

from .avalanche_common import BathParams, CriterionResult, criterion_result
from .base import Progress, Study, param


@dataclasses.dataclass(frozen=True, kw_only=True)
class AvalancheCriterionParams(BathParams):
    """Parameters of :func:`run` (``ephkin avalanche criterion``)."""

    mass: float = param(0.5, positive=True, help="band mass m (1/2: the seed's lattice)")


@dataclasses.dataclass(kw_only=True)
class AvalancheCriterionResult(CriterionResult):
    """Result of :func:`run`: the criterion of Eqs. (11)-(16); status "avalanche" (a root of lambda(E) = 1)
    or "no-avalanche" (beta < beta_c, ``reason``)."""


def run(
    params: AvalancheCriterionParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> AvalancheCriterionResult:
    """Eqs. (11)-(16) in closed form (no PETSc: ``petsc_options`` are not read)."""
    return criterion_result(AvalancheCriterionResult, params.mass, params.g_ep, params.gamma, params.omega0, params.T)


STUDY = Study(
    "avalanche criterion",
    AvalancheCriterionParams,
    run,
    "Eqs. (11)-(16): beta, beta_c, x0, both roots E_av < E_av_upper of lambda(E) = 1, Eq. (12), T*",
    positional=("g_ep", "gamma", "omega0", "mass", "T"),
)
