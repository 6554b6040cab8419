"""Typed studies: one module per computation, each a ``Params`` dataclass, a ``run`` function and a
``Result`` dataclass (``base.py``).  :data:`STUDIES` maps each command name to its :class:`~.base.Study`;
the command line (``solvers/cli``), run files, sweeps and the Python API (``ephkin.solvers.api``) are
generated from it."""

from __future__ import annotations

from . import (
    avalanche_criterion,
    avalanche_curve,
    avalanche_lattice,
    avalanche_replica,
    evolve,
    nac_evolve,
    nac_sigma,
)
from .base import Params, Result, Study

__all__ = ["STUDIES", "Params", "Result", "Study", "study"]

#: Every study by its command name ("evolve", "nac sigma").
STUDIES: dict[str, Study] = {s.name: s for s in (
    evolve.STUDY, nac_sigma.STUDY, nac_evolve.STUDY, avalanche_criterion.STUDY, avalanche_curve.STUDY,
    avalanche_lattice.STUDY, avalanche_replica.STUDY)}


def study(name: str) -> Study:
    """The study of the command ``name``."""
    return STUDIES[name]
