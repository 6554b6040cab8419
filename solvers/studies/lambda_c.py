"""``lambda-c``: the critical coupling lambda_c(T0) of the kinetic instability (seed 000).

method "zinv": min_E Z0^-1(E) = 0 (docs/theory.md §10.3, Eq. (10)/(S21)), with lambda_c_cel, the coupling where
C_el(T0) turns negative (an upper bound by the seed's theorem); method "linear": the smallest eigenvalue of A
(Eq. (14)) crosses 0 (Sylvester: the first gamma < 0), on a uniform or graded grid.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from ephkin.pde.errors import InputError

from ..prefixes import STABILITY
from ..stability.common import DENSE_MAX, LC_DENSE_MAX
from .base import Progress, Result, Study, out, param, solver_failures
from .common import ENERGY, EnergyGridParams, KernelParams, SpectrumShapeParams
from .convergence import check_levels, convergence
from .petsc import petsc_scope, wants_petsc


@dataclasses.dataclass(frozen=True, kw_only=True)
class LambdaCParams(KernelParams, EnergyGridParams, SpectrumShapeParams):
    """Parameters of :func:`run` (``ephkin lambda-c``)."""

    T0: tuple[float, ...] = param(help="one or more temperatures T0", unit=ENERGY, positive=True)
    method: str = param(
        "zinv",
        choices=("zinv", "linear"),
        help="zinv: min_E Z0^-1(E) = 0, Eq. (10)/(S21) (default); linear: A of Eq. (14) acquires a "
        "negative eigenvalue (Sylvester: the first gamma < 0)",
    )
    lam_max: float = param(1e4, positive=True, help="largest lambda searched")
    grid: str = param(
        "uniform",
        choices=("uniform", "graded"),
        help="linear: uniform folded grid (default), or graded nodes (fine near E = 0 and the zeros of "
        "Z0^-1) with hat functions, integrated on the uniform grid (Rayleigh-Ritz)",
    )
    h_min: float | None = param(
        None, unit=ENERGY, positive=True, help="graded grid: smallest node spacing (default max(T0/8, 3 grid steps))"
    )
    solver: str = param(
        "auto",
        choices=("auto", "dense", "slepc", "inertia"),
        help="linear: smallest eigenvalue of A_hat by dense LAPACK or matrix-free SLEPc (auto, the "
        f"default: LAPACK up to L = {LC_DENSE_MAX}, where it costs less than starting PETSc, SLEPc beyond), "
        f"or bisection on the LDL^T inertia (L <= {DENSE_MAX})",
    )
    converge: int | None = param(
        None,
        const=4,
        metavar="LEVELS",
        help="linear: refine the grid LEVELS times by 2 and print each lambda_c, the "
        "observed order and a Richardson estimate (default 4 levels)",
    )

    def check_more(self) -> None:
        super().check_more()
        check_levels(self.converge)
        if self.converge and self.method == "linear" and len(self.T0) != 1:
            raise InputError("converge takes a single T0", "T0")


@dataclasses.dataclass(kw_only=True)
class LambdaCResult(Result):
    """Result of :func:`run`: for one T0 its row's entries; for several, ``rows``."""

    method: str | None = out(help="zinv or linear")
    criterion: str | None = out(help="what defines lambda_c")
    kernel: str | None = out(help="kernel of A (linear)")
    omega_ref_definition: str | None = out(help="what omega_ref is (zinv)")
    T0: float | None = out(unit=ENERGY, help="temperature (one T0)")
    lambda_c: float | None = out(help="critical coupling (None: none below lam_max, see reason)")
    rows: list[dict[str, Any]] | None = out(help="one row per T0 (several T0)")
    table: list[dict[str, Any]] | None = out(array=True, help="one row per T0 (always; the CSV of -o)")


def lambda_c_row(shape: Any, T0: float, params: LambdaCParams, refine: int | None = None) -> dict[str, Any]:
    """lambda_c at one T0: the Z0 criterion and the C_el bound, or the linear analysis."""
    from ephkin.pde.instability import lambda_c_cel, lambda_c_zinv

    t = time.perf_counter()
    if params.method == "zinv":
        r = lambda_c_zinv(shape, T0, units=params.units, lam_max=params.lam_max)
        row: dict[str, Any] = {"T0": T0, "lambda_c": r["lambda_c"], "E_min": r["E_min"]}
        if r["lambda_c"] is not None:
            row.update(E_min_over_omega=r["E_min"] / r["omega_log"], omega_ref=r["omega_log"])
        else:
            row["reason"] = r["reason"]
        row["lambda_c_cel"] = lambda_c_cel(shape, T0, units=params.units, lam_max=params.lam_max)
    else:
        from ..stability import lambda_c_graded, lambda_c_linear

        refine = params.refine if refine is None else refine
        if params.grid == "graded":
            row = lambda_c_graded(
                shape,
                T0,
                units=params.units,
                kernel=params.kernel,
                refine=refine,
                cutoff=params.cutoff,
                h_min=params.h_min,
                lam_max=params.lam_max,
                pv=params.pv,
            )
        else:
            row = lambda_c_linear(
                shape,
                T0,
                units=params.units,
                kernel=params.kernel,
                refine=refine,
                grid_step=params.grid_step,
                cutoff=params.cutoff,
                solver=params.solver,
                lam_max=params.lam_max,
                pv=params.pv,
            )
    row["seconds"] = round(time.perf_counter() - t, 4)
    return row


@solver_failures
def run(
    params: LambdaCParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> LambdaCResult:
    """lambda_c(T0) for every T0, or (``converge``) the linear lambda_c on refined grids with the observed order.

    Parameters
    ----------
    params : LambdaCParams
    progress : callable, optional
        One line per T0 (several) or per level (``converge``).
    petsc_options : list of str, optional
        SLEPc/MUMPS options under ``-stab_`` for this run only.

    Returns
    -------
    LambdaCResult
    """
    from ephkin.pde.spectra import parse_spectrum

    shape = parse_spectrum(params.spectrum) if isinstance(params.spectrum, str) else params.spectrum
    res = LambdaCResult(method=params.method)
    if params.method == "linear" and params.solver == "auto" and wants_petsc(petsc_options, (STABILITY,)):
        params = params.replace(solver="slepc")  # -stab_ options tune SLEPc (or -help asks about it)
    with petsc_scope(petsc_options, (STABILITY,)):
        if params.method == "linear" and params.converge:
            rows = []
            for lev in range(params.converge):
                rows.append(lambda_c_row(shape, params.T0[0], params, refine=params.refine * 2**lev))
                if progress is not None:
                    progress(
                        f"lambda-c --converge: level {lev + 1}/{params.converge} "
                        f"refine={params.refine * 2**lev} L={rows[-1]['L']} lambda_c={rows[-1]['lambda_c']}"
                    )
            res.absorb({"T0": params.T0[0], "kernel": params.kernel, "levels": rows})
            res.absorb(convergence([r["lambda_c"] for r in rows]))
            res.lambda_c = rows[-1]["lambda_c"]
            res.message = f"{params.converge} levels to L = {rows[-1]['L']}"
            return res
        rows = []
        for i, T0 in enumerate(params.T0):
            rows.append(lambda_c_row(shape, T0, params))
            if len(params.T0) > 1 and progress is not None:
                progress(f"lambda-c: {i + 1}/{len(params.T0)} T0={T0:g} lambda_c={rows[-1]['lambda_c']}")
    if params.method == "zinv":
        res.criterion = "min_E Z0^-1(E) = 0 (Eq. 10/S21)"
        res.omega_ref_definition = "omega_log of the spectrum at lambda_c"
    else:
        res.criterion, res.kernel = "smallest eigenvalue of A_hat = 0 (Eq. 14, Sylvester)", params.kernel
    res.table = rows
    if len(rows) == 1:
        res.absorb(rows[0])
    else:
        res.rows = rows
    found = [r["lambda_c"] for r in rows if r["lambda_c"] is not None]
    res.message = (
        f"lambda_c = {found[0]:.6g}"
        if len(rows) == 1 and found
        else f"lambda_c found at {len(found)} of {len(rows)} temperatures"
    )
    return res


STUDY = Study(
    "lambda-c",
    LambdaCParams,
    run,
    "critical coupling lambda_c(T0) of the kinetic instability",
    prefixes=(STABILITY,),
    positional=("spectrum", "T0"),
)
