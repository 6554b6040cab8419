"""``stability``: the gamma spectrum of the linearised problem gamma A phi = M phi (docs/theory.md §3 and §10.4,
Eq. (14)) with SLEPc or one dense LAPACK eigh; the inertia counts (n_negative: the number of unstable modes,
Sylvester); optionally a grid-convergence study or the gamma(lambda) scan of seed 000 Fig. 2."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from ephkin.pde.errors import InputError
from ephkin.pde.syntax import P_EE_HELP

from .. import progress as engine_progress
from ..prefixes import STABILITY
from ..stability.common import DENSE_MAX, RESIDUAL_TOL, SUMMARY_DENSE_MAX
from .base import Array, Params, Progress, Result, Study, out, param, solver_failures
from .common import ENERGY, P_EE_DEFAULT, EnergyGridParams, KernelParams, SpectrumParams
from .convergence import check_levels, convergence
from .petsc import petsc_scope, wants_petsc


@dataclasses.dataclass(frozen=True, kw_only=True)
class StabilityParams(KernelParams, EnergyGridParams, SpectrumParams):
    """Parameters of :func:`run` (``ephkin stability``)."""

    T0: float = param(help="temperature T0", unit=ENERGY, positive=True)
    nev: int = param(6, positive=True, help="number of gamma nearest the target")
    target: float | None = param(
        None,
        unit="1/time",
        help="report the nev gamma nearest this value (any sign; dense: from the whole spectrum, SLEPc: "
        f"shift-and-invert at it, L <= {DENSE_MAX}); default (or 0): the nev nonzero gamma nearest 0",
    )
    solver: str = param(
        "auto",
        choices=("auto", "dense", "slepc"),
        help=f"the gamma spectrum by SLEPc (matrix-free, any L) or one dense LAPACK eigh (L <= {DENSE_MAX}, "
        "M without ladder null modes or e-e collisions); auto (the default): dense up to "
        f"L = {SUMMARY_DENSE_MAX} where it applies, where it costs less than starting PETSc, else SLEPc, and "
        "SLEPc whenever -stab_ options are given",
    )
    poles: int | None = param(
        None,
        nonnegative=True,
        metavar="K",
        help="report the K gamma of largest |gamma| (the pole region of Fig. 2, gamma_poles, and gamma_most_negative): "
        "shift-and-invert at 0 with A_hat^-1 applied by its window split (no L x L matrix); default 4 where that "
        "split is at hand (unstable problems) or free (the dense path), else 0; 0: none",
    )
    a_ee: float = param(
        0.0,
        nonnegative=True,
        help="weight of electron-electron collisions, M = M^ep + a_ee M^ee (Eq. 15, S22-S25), applied "
        "matrix-free by FFT at any L; n_negative (the inertia of A) does not depend on it",
    )
    p_ee: str | None = param(
        None, metavar="P", help=f"transition probability P(omega) of Eq. (S22): {P_EE_HELP} (default {P_EE_DEFAULT})"
    )
    p_ee_width: float | None = param(None, positive=True, help="shorthand for p_ee gaussian:WIDTH")
    converge: int | None = param(
        None,
        const=4,
        metavar="LEVELS",
        help="refine the grid LEVELS times by 2 and print gamma_min_positive and the slowest "
        "negative gamma at each, the observed order and a Richardson estimate "
        "(default 4)",
    )
    lam_scan: tuple[float, float, float] | None = param(
        None,
        metavar=("LMIN", "LMAX", "N"),
        help="also scan lambda over N values and plot gamma(lambda) (Fig. 2) with -o",
    )

    def check_more(self) -> None:
        super().check_more()
        check_levels(self.converge)
        if self.lam_scan is not None:
            lo, hi, n = self.lam_scan
            if not (0 < lo < hi and n >= 2 and n == int(n)):
                raise InputError(
                    f"lam_scan {lo:g} {hi:g} {n:g}: give 0 < LMIN < LMAX and an integer N >= 2", "lam_scan"
                )
        if self.p_ee is not None and self.p_ee_width is not None:
            raise InputError("give p_ee or its shorthand p_ee_width, not both", "p_ee")

    def p_ee_spec(self) -> str:
        """The transition probability spec (p_ee, or gaussian:p_ee_width, or the default)."""
        if self.p_ee is not None:
            return self.p_ee
        return P_EE_DEFAULT if self.p_ee_width is None else f"gaussian:{self.p_ee_width}"


@dataclasses.dataclass(kw_only=True)
class StabilityResult(Result):
    """Result of :func:`run`.  ``status`` is "unstable" when A has a negative eigenvalue (n_negative > 0:
    modes with gamma < 0 grow), else "stable"; with ``converge``, the levels and the observed orders."""

    lam: float | None = out(key="lambda", help="coupling lambda")
    T0: float | None = out(unit=ENERGY, help="temperature")
    kernel: str | None = out(help="kernel of A")
    pv: str | None = out(help="principal-value rule at the kernel's poles")
    a_ee: float | None = out(help="weight of the e-e collisions")
    grid_step: float | None = out(unit=ENERGY, help="energy grid step eps")
    cutoff: float | None = out(unit=ENERGY, help="energy cutoff of the folded grid")
    L: int | None = out(help="grid points")
    gamma: list[float] | None = out(
        unit="1/time", help="the nev gamma nearest the target (nearest 0 without one), nearest first"
    )
    gamma_residual: list[float] | None = out(
        help="relative residual of each gamma (aligned with gamma): the backward error "
        "||M_hat x - gamma A_hat x|| / ((||M_hat|| + |gamma| ||A_hat||) ||x||) of the pencil of Eq. (14) in the "
        "scaled variables x = phi/s, 2-norms, from the returned vector on both paths (solvers/stability/residual.py)"
    )
    gamma_flagged: list[float] | None = out(
        unit="1/time", help=f"the gamma whose residual exceeds {RESIDUAL_TOL:g} (not eigenvalues to solver accuracy)"
    )
    target_in_continuum: bool | None = out(
        help="continuous alpha^2F with a target: the target lies in the continuous spectrum (the gamma nearest it "
        "are samples of the continuum, not modes)"
    )
    gamma_in_continuum: list[bool] | None = out(
        help="continuous alpha^2F with a target: which gamma are samples of the continuous spectrum"
    )
    gamma_min_positive: float | None = out(unit="1/time", help="the slowest decaying mode's gamma")
    gamma_poles: list[float] | None = out(
        unit="1/time",
        help="the gamma of largest |gamma| (mu = 1/gamma nearest 0: the pole region of Fig. 2), largest first",
    )
    gamma_most_negative: float | None = out(
        unit="1/time", help="the most negative of gamma_poles (the unstable pole branch; null when none is negative)"
    )
    gamma_negative: list[float] | None = out(unit="1/time", help="negative gamma (unstable modes)")
    gamma_max_negative: float | None = out(unit="1/time", help="the slowest negative gamma")
    n_negative: int | None = out(help="number of unstable modes (the inertia of A, Sylvester)")
    mu_min_ahat: float | None = out(help="smallest eigenvalue of A_hat (< 0: unstable)")
    eigen_solver: str | None = out(help="dense or slepc")
    E: Array | None = out(array=True, unit=ENERGY, help="energies of the grid")
    eigenvectors: Array | None = out(array=True, help="eigenvectors (columns) for plots")
    eigenvector_gammas: list[float] | None = out(array=True, unit="1/time", help="their gamma")
    zinv: Array | None = out(array=True, help="Z0^-1(E) on the grid")
    scan: list[tuple[float, Array]] | None = out(
        array=True, help="lam_scan: (lambda, gammas) per lambda: the nev gamma nearest 0, then the two poles"
    )


def linear_problem(
    spectrum: Any,
    lam: float | None,
    T0: float,
    units: str = "g",
    kernel: str = "exact",
    refine: int = 1,
    grid_step: float | None = None,
    cutoff: float | None = None,
    a_ee: float = 0.0,
    p_ee: Any = P_EE_DEFAULT,
    pv: str | None = None,
) -> Any:
    """The linearised problem gamma A phi = M phi of Eq. (14) on the folded grid
    (``pde.linearized.LinearizedProblem``: A by FFT, M^ep sparse, + a_ee M^ee of Eq. (S25) by FFT with the
    transition probability ``p_ee``, a ``pde.electron_electron.make_p_ee`` spec or a TransitionProbability)."""
    from ephkin.pde.electron_electron import make_p_ee
    from ephkin.pde.spectra import parse_spectrum

    from ..stability import make_problem

    shape = parse_spectrum(spectrum) if isinstance(spectrum, str) else spectrum
    lam = shape.lam if lam is None else lam
    if not a_ee >= 0:
        raise InputError(f"a_ee must be >= 0 (got {a_ee})", "a_ee")
    P = (make_p_ee(p_ee) if isinstance(p_ee, str) else p_ee) if a_ee > 0 else None
    return make_problem(shape, lam, T0, units, kernel, refine, grid_step, cutoff, a_ee=a_ee, p_ee=P, pv=pv)


@solver_failures
def run(
    params: StabilityParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> StabilityResult:
    """The gamma spectrum of Eq. (14), its inertia counts and the temperature-mode check.

    Parameters
    ----------
    params : StabilityParams
    progress : callable, optional
        One line per level (``converge``) or per lambda (``lam_scan``).
    petsc_options : list of str, optional
        SLEPc/MUMPS options under ``-stab_`` for this run only; any -stab_ option selects SLEPc for
        ``solver="auto"``.

    Returns
    -------
    StabilityResult
    """
    from ephkin.pde.spectra import parse_spectrum

    shape = parse_spectrum(params.spectrum) if isinstance(params.spectrum, str) else params.spectrum
    lam = shape.lam if params.lam is None else params.lam
    grid = dict(
        units=params.units,
        kernel=params.kernel,
        pv=params.pv,
        grid_step=params.grid_step,
        cutoff=params.cutoff,
        a_ee=params.a_ee,
        p_ee=params.p_ee_spec(),
    )
    with petsc_scope(petsc_options, (STABILITY,)):
        if params.converge:
            return _converge(shape, lam, params, grid, progress)
        solver = params.solver
        if solver == "auto" and wants_petsc(petsc_options, (STABILITY,)):
            solver = "slepc"  # -stab_ options tune SLEPc (or -help asks about it): the user wants it
        res = _summary(shape, lam, params, dict(grid, refine=params.refine), solver)
        if params.lam_scan is not None:
            res.scan = _gamma_scan(shape, params, dict(grid, refine=params.refine), progress)
    return res


def _summary(shape: Any, lam: float, params: StabilityParams, grid: dict[str, Any], solver: str) -> StabilityResult:
    from ephkin.pde.linearized import cel_identity

    from ..stability import SUMMARY_DENSE_MAX, dense_refusal, dense_summary, stability_summary

    p = linear_problem(shape, lam, params.T0, **grid)
    if solver == "auto":
        solver = "dense" if p.grid.L <= SUMMARY_DENSE_MAX and dense_refusal(p) is None else "slepc"
    if solver != "dense":
        from ..petsc_env import init_petsc

        init_petsc()  # without PETSc: its one-line error, before any progress line
    engine_progress.report(
        f"stability: L = {p.grid.L}, "
        + ("one dense LAPACK eigh" if solver == "dense" else "SLEPc (matrix-free) and the inertia of A")
    )
    summ = (
        dense_summary(p, params.nev, params.target, poles=params.poles)
        if solver == "dense"
        else stability_summary(p, params.nev, params.target, poles=params.poles)
    )
    res = StabilityResult(
        lam=lam,
        T0=params.T0,
        kernel=p.kernel,
        pv=p.pv,
        a_ee=params.a_ee,
        grid_step=p.grid.eps,
        cutoff=p.grid.cutoff,
        L=p.grid.L,
    )
    res.eigenvectors, res.eigenvector_gammas = summ.pop("eigenvectors"), summ.pop("eigenvector_gammas")
    res.absorb(summ)
    grid_value, cont = p.cel_check(), cel_identity(p.proj, params.T0)
    res.extra["cel_check"] = {"grid": grid_value, "continuum_S14": cont, "difference": grid_value - cont}
    res.stats["kernel_matvecs"] = p.K.matvecs
    res.E, res.zinv = p.E, p.zinv
    n = res.n_negative
    res.status = "unstable" if (n or 0) > 0 or (res.mu_min_ahat is not None and res.mu_min_ahat < 0) else "stable"
    edge = res.extra.get("gamma_continuum_edge")
    if res.status == "unstable":
        res.message = f"{n} unstable mode(s) (A has {n} negative eigenvalues)"
    elif res.gamma_min_positive is None and edge is not None:
        # a continuous alpha^2F whose slowest decay is the continuum's edge (docs/theory.md §3): no discrete mode
        res.message = f"stable: no discrete gamma below the continuum edge {edge:.6g}"
    else:
        res.message = f"stable: slowest gamma {res.gamma_min_positive}"
    if res.target_in_continuum:
        res.message += (
            f"; target {params.target:g} lies in the continuous spectrum: the gamma nearest it are samples of the "
            "continuum, not modes"
        )
    elif res.gamma_in_continuum and any(res.gamma_in_continuum):
        res.message += f"; {sum(res.gamma_in_continuum)} of the gamma nearest the target are samples of the continuum"
    if res.gamma_flagged:
        res.message += (
            f"; residual above {RESIDUAL_TOL:g} for gamma {res.gamma_flagged} (not eigenvalues to solver accuracy)"
        )
    return res


def _converge(
    shape: Any, lam: float, params: StabilityParams, grid: dict[str, Any], progress: Progress | None
) -> StabilityResult:
    """gamma_min_positive and the slowest negative gamma on ``converge`` grids refined by 2, with the observed
    order and a Richardson estimate of each."""
    from ..stability import stability_summary

    levels = int(params.converge or 0)
    rows = []
    for lev in range(levels):
        t = time.perf_counter()
        refine = params.refine * 2**lev
        p = linear_problem(shape, lam, params.T0, refine=refine, **grid)
        s = stability_summary(p, params.nev, counts=False)
        rows.append(
            {
                "refine": refine,
                "L": p.grid.L,
                "grid_step": p.grid.eps,
                "gamma_min_positive": s["gamma_min_positive"],
                "gamma_max_negative": s["gamma_max_negative"],
                "n_zero_gamma": s["n_zero_gamma"],
                "unstable": s["mu_min_ahat"] < 0,
                "seconds": round(time.perf_counter() - t, 3),
            }
        )
        if progress is not None:
            progress(
                f"stability --converge: level {lev + 1}/{levels} refine={refine} L={p.grid.L} "
                f"gamma_min_positive={rows[-1]['gamma_min_positive']}"
            )
    res = StabilityResult(lam=lam, T0=params.T0, status="unstable" if rows[-1]["unstable"] else "stable")
    res.extra["levels"] = rows
    for key in ("gamma_min_positive", "gamma_max_negative"):
        c = convergence([r[key] for r in rows])
        res.absorb({key: rows[-1][key]})
        res.extra.update({f"{key}_{k}": v for k, v in c.items()})
    res.message = f"{levels} levels to L = {rows[-1]['L']}"
    return res


def _gamma_scan(
    shape: Any, params: StabilityParams, grid: dict[str, Any], progress: Progress | None
) -> list[tuple[float, Array]]:
    """gamma(lambda) over lam_scan (seed 000 Fig. 2): the nev gamma nearest 0 and the two largest |gamma| (the
    pole branch that diverges at lambda_c).  The problems come from one ``CouplingFamily`` (the default grid at
    each lambda, the kernel transforms built once).  Up to the dense reference size one LAPACK eigvalsh per
    lambda gives both (the pencil of Eq. (14) in standard form by the banded Cholesky of M_hat, which also
    detects the ladder null modes, gamma = 0, left out here); above it SLEPc, matrix-free."""
    from ephkin.pde.electron_electron import make_p_ee
    from ephkin.pde.linearized import CouplingFamily

    from ..stability import (
        DENSE_MAX,
        discrete_gammas,
        gamma_dense,
        gamma_spectrum,
        nonzero_gammas,
        pole_gammas,
        stability_summary,
    )

    assert params.lam_scan is not None
    lo, hi, n = params.lam_scan
    p_ee = make_p_ee(grid["p_ee"]) if params.a_ee > 0 else None
    fam_grid = {k: grid[k] for k in ("units", "kernel", "pv", "refine", "grid_step", "cutoff")}
    fam = CouplingFamily(shape, params.T0, **fam_grid, a_ee=params.a_ee, p_ee=p_ee)
    table = []
    lams = np.linspace(lo, hi, int(n))
    for i, lam in enumerate(lams):
        p = fam.problem(lam)
        if p.grid.L <= DENSE_MAX and params.target is None:
            g = nonzero_gammas(gamma_dense(p))
            poles = g[np.argsort(np.abs(g))[-2:]]
            g = discrete_gammas(p, g)  # a continuous alpha^2F: the modes, not the continuum's samples
            gam = np.concatenate([g[np.argsort(np.abs(g))[: params.nev]], poles])
        else:
            near = (
                gamma_spectrum(p, params.nev, params.target)[0]
                if params.target is not None
                else np.asarray(stability_summary(p, params.nev, counts=False)["gamma"])
            )
            gam = np.concatenate([near, pole_gammas(p, 2)])
        table.append((float(lam), gam))
        if progress is not None:
            progress(f"gamma scan {i + 1}/{len(lams)}: lambda={lam:.4f}")
    return table


STUDY = Study(
    "stability",
    StabilityParams,
    run,
    "linear stability gamma A phi = M phi (Eq. 14) with SLEPc: gamma nearest 0, inertia counts, temperature-mode check",
    prefixes=(STABILITY,),
    positional=("spectrum", "lam", "T0"),
)

__all__ = ["StabilityParams", "StabilityResult", "run", "linear_problem", "STUDY", "Params"]
