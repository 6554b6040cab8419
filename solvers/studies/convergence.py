"""Observed order of convergence and Richardson extrapolation, for every study's grid refinement."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: Most refinement levels of a convergence study: each doubles the grid, so level 12 has 2^11 times the first
#: one's points (modes:40-60: L = 1.6e6) -- beyond, the finest grid would not fit any machine.
MAX_LEVELS = 12


def check_levels(levels: int | None) -> None:
    """A grid-convergence study's number of levels (``converge``): at least 3 (an observed order needs three
    levels) and at most :data:`MAX_LEVELS`.  Raises InputError naming ``converge``."""
    from ephkin.pde.errors import InputError

    if levels is not None and levels < 3:
        raise InputError(f"converge must be >= 3 levels for an observed order (got {levels})", "converge")
    if levels is not None and levels > MAX_LEVELS:
        raise InputError(
            f"converge = {levels} levels refine the grid {2 ** (levels - 1)} times; at most {MAX_LEVELS} (each "
            "level doubles the grid: the last one alone would not fit)",
            "converge",
        )


def convergence(values: Sequence[float | None], factor: float = 2.0) -> dict[str, Any]:
    """Observed order p = log_f((x1-x2)/(x2-x3)) of the last three levels and the Richardson estimate
    x_n + (x_n - x_{n-1})/(f^p - 1) with its error bar |estimate - x_n| (all None when the last three values
    do not converge monotonically)."""
    v = [x for x in values if x is not None]
    if len(v) < 3 or v[-1] == v[-2] or (v[-3] - v[-2]) / (v[-2] - v[-1]) <= 0:
        return {"observed_order": None, "richardson": None, "error_bar": None}
    p = math.log(abs((v[-3] - v[-2]) / (v[-2] - v[-1]))) / math.log(factor)
    est = v[-1] + (v[-1] - v[-2]) / (factor**p - 1.0)
    return {"observed_order": p, "richardson": est, "error_bar": abs(est - v[-1])}
