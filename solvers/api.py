"""The Python API: every ephkin computation for notebooks and scripts.

Each function is generated from its study (``solvers/studies``): it takes the study's parameters (the
command's flags, named as in Python: ``T_in``, ``grid_step``; the first few also by position), runs the same
code as the ``ephkin`` command and returns the study's ``Result`` -- a dataclass with ``status``,
``message``, typed scalars whose units ``field_units()`` lists, numpy arrays for plots, solver ``stats``, and
``to_dict()``/``to_json()`` (the command's JSON).  ``help(api.evolve)`` lists every parameter with its
default and unit and every field of the result.  Bad input raises ``ephkin.pde.errors.InputError`` naming the
parameter.  See docs/python-api.md.

    from ephkin.solvers import api
    api.lambda_c("modes:40-60", 0.180).lambda_c                 # 1.13321 (seed 000 Table S1)
    api.stability("modes:40-60", lam=5.0, T0=0.20).n_negative
    r = api.evolve("einstein", 1.0, 0.2, 0.202, 2.0); r.status, r.E, r.f_final

Spectra are spec strings (``einstein``, ``modes:40-60``, ``debye``, ``peaks:W:L,...``, ``lorentz:C:G``,
``file:PATH``) or ``pde.spectra`` shapes; energies are in units of g (g^2 = 2 int omega a2F) with
``units="g"``, or in the spectrum's own unit with ``units="plain"``.  PETSc/SLEPc are imported only by the
computations that solve with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .studies import STUDIES
from .studies.api import api_function
from .studies.base import Result
from .studies.convergence import convergence  # noqa: F401  (re-exported: observed order and Richardson)
from .studies.evolve import (  # noqa: F401  (the evolve study's constants, re-exported)
    DIAGNOSTICS_MAX_L,
    GRID_REL_TOL,
    GRID_T_TOL,
    PREDICTION_MAX_L,
    grid_verdict,
)
from .studies.stability import linear_problem  # noqa: F401  (re-exported: the problem of Eq. (14) itself)
from .studies.zinv import TC_STRONG  # noqa: F401  (T_c of the strong-coupling limit, re-exported)

#: The API name of a study when it is not its command name with "-" and " " -> "_".
NAMES = {"spectrum": "spectrum_moments"}
#: Studies that are commands only (the default job writes figures; it has no parameters to call it with).
COMMAND_ONLY = ("run",)


def api_name(command: str) -> str:
    """The API function of the command ``command`` ("nac sigma" -> "nac_sigma")."""
    return NAMES.get(command, command.replace("-", "_").replace(" ", "_"))


# Written out for readers and static tools; the loop below adds any study without a line here.
spectrum_moments = api_function(STUDIES["spectrum"], "spectrum_moments")
zinv = api_function(STUDIES["zinv"], "zinv")
two_temp = api_function(STUDIES["two-temp"], "two_temp")
cel = api_function(STUDIES["cel"], "cel")
transport = api_function(STUDIES["transport"], "transport")
lambda_c = api_function(STUDIES["lambda-c"], "lambda_c")
stability = api_function(STUDIES["stability"], "stability")
evolve = api_function(STUDIES["evolve"], "evolve")
nac_sigma = api_function(STUDIES["nac sigma"], "nac_sigma")
nac_evolve = api_function(STUDIES["nac evolve"], "nac_evolve")
avalanche_criterion = api_function(STUDIES["avalanche criterion"], "avalanche_criterion")
avalanche_curve = api_function(STUDIES["avalanche curve"], "avalanche_curve")
avalanche_lattice = api_function(STUDIES["avalanche lattice"], "avalanche_lattice")
avalanche_replica = api_function(STUDIES["avalanche replica"], "avalanche_replica")

for _name, _study in STUDIES.items():
    if _name not in COMMAND_ONLY and api_name(_name) not in globals():
        globals()[api_name(_name)] = api_function(_study, api_name(_name))


def lambda_c_convergence(
    spectrum: Any, T0: float, levels: int = 4, refine: int = 1, progress: Callable[[str], None] | None = None, **kw: Any
) -> Result:
    """The linear lambda_c on ``levels`` grids refined by 2 (``lambda_c(..., method="linear", converge=levels)``)."""
    return lambda_c(spectrum, T0, method="linear", converge=levels, refine=refine, progress=progress, **kw)


def stability_convergence(
    spectrum: Any,
    lam: float | None,
    T0: float,
    levels: int = 4,
    refine: int = 1,
    nev: int = 2,
    progress: Callable[[str], None] | None = None,
    **grid: Any,
) -> Result:
    """gamma_min_positive and the slowest negative gamma on ``levels`` refined grids
    (``stability(..., converge=levels)``)."""
    return stability(spectrum, lam, T0, converge=levels, refine=refine, nev=nev, progress=progress, **grid)


__all__ = sorted(
    {api_name(n) for n in STUDIES if n not in COMMAND_ONLY}
    | {"lambda_c_convergence", "stability_convergence", "convergence", "linear_problem", "TC_STRONG"}
)
