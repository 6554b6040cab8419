"""``avalanche lattice``: the Keldysh steady state of the DC-biased Holstein chain (seed 003; SCBA,
Wannier-Stark reduced; docs/avalanche.md): n_ex, current, bath current, convergence; ``branching``: the replica
branching ratios (SCBA-dressed and Gamma-only, Eq. (10)).  ``solver``: numpy Anderson mixing or PETSc SNES
(options -aval_)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..failures import SOLVER_FAILED
from ..prefixes import AVALANCHE
from .avalanche_common import ENERGY, FIELD, BathParams
from .base import Progress, Result, Study, out, param
from .common import require_memory
from .petsc import petsc_scope

#: Memory per frequency point of the lattice steady state (bytes): measured 1.05 kB (n_omega = 2^18: 335 MB, of
#: which 60 MB the interpreter), with a margin.
LATTICE_BYTES_PER_POINT = 1200


@dataclasses.dataclass(frozen=True, kw_only=True)
class AvalancheLatticeParams(BathParams):
    """Parameters of :func:`run` (``ephkin avalanche lattice``)."""

    g_ep: float = param(unit=ENERGY, nonnegative=True, help="electron-phonon coupling g_ep (>= 0)")
    T: float = param(0.01, unit=ENERGY, nonnegative=True, help="bath temperature")
    delta: float = param(1.0, unit=ENERGY, help="band bottom above the bath Fermi level")
    E: float = param(unit=FIELD, nonnegative=True, help="DC field (potential drop per site)")
    n_omega: int = param(
        2**16,
        positive=True,
        help="frequency points (default 2^16); the step is adjusted to divide E and the adjustment reported",
    )
    solver: str = param(
        "anderson",
        choices=("anderson", "snes"),
        help="Anderson mixing in numpy (default) or PETSc SNES (SNESANDERSON by default; any -aval_snes_type)",
    )
    tol: float = param(1e-8, positive=True, help="residual tolerance")
    branching: bool = param(
        False,
        help="also the replica branching ratios (Perron roots of the lesser generation "
        "map) with the SCBA-dressed propagators (branching_scba, < 1) and with "
        "Gamma-only ones as in the seed's Eq. (10) (branching_bare; > 1 is the "
        "seed's avalanche)",
    )

    def check_more(self) -> None:
        super().check_more()
        # measured: ~1.05 kB per frequency point (n_omega = 2^18: 335 MB, of which 60 MB the interpreter)
        require_memory(
            "n_omega",
            LATTICE_BYTES_PER_POINT * self.n_omega,
            f"the lattice with n_omega = {self.n_omega}",
            "give a smaller n_omega",
        )


@dataclasses.dataclass(kw_only=True)
class AvalancheLatticeResult(Result):
    """Result of :func:`run`: the steady state's observables; status "ok", or "solver_failed" when the
    iteration did not reach ``tol`` (``solver_reason``: SNES's converged reason by name)."""

    gamma: float = out(unit=ENERGY, help="bath dephasing rate")
    g_ep: float = out(unit=ENERGY, help="electron-phonon coupling")
    omega0: float = out(unit=ENERGY, help="phonon energy")
    delta: float = out(unit=ENERGY, help="band bottom above the bath Fermi level")
    E: float = out(unit=FIELD, help="DC field")
    T: float = out(unit=ENERGY, help="bath temperature")
    solver: str = out(help="anderson or snes")
    n_ex: float = out(help="excited density per site")
    current: float = out(help="current through the chain")
    current_left: float = out(help="current from the left bond (equal to current in the steady state)")
    spectral_weight: float = out(help="int A domega / 2 pi (1 for a converged grid)")
    bath_current: float = out(help="net current into the baths (0: n_ex = int f A domega/2pi)")
    converged: bool = out(help="the residual reached tol")
    residual: float = out(help="final residual")
    iterations: int = out(help="iterations of the solver")
    n_omega: int = out(help="frequency points of the grid used")
    d_omega: float = out(unit=ENERGY, help="frequency step (divides E)")
    omega_range: list[float] = out(unit=ENERGY, help="first and last frequency of the grid")
    branching_scba: float | None = out(help="replica branching ratio with SCBA-dressed propagators (branching)")
    branching_bare: float | None = out(help="replica branching ratio with Gamma-only propagators, Eq. (10) (branching)")
    grid_note: str | None = out(help="how the frequency grid was adjusted")
    spectra: Any = out(array=True, help="the spectral functions (omega, A, n, occupation, sigma_r) for plots")


def run(
    params: AvalancheLatticeParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> AvalancheLatticeResult:
    """One steady state of the biased Holstein chain (SCBA, Wannier-Stark reduced)."""
    from ephkin.pde import keldysh

    p = params
    kw = dict(T=p.T, n_omega=p.n_omega)
    with petsc_scope(petsc_options, (AVALANCHE,)):  # anderson reads none: reported unused
        if p.solver == "snes":
            from ..avalanche import snes_solve

            problem = keldysh.lattice_problem(p.gamma, p.g_ep, p.omega0, p.delta, p.E, **kw)
            x, info = snes_solve(problem, np.zeros(2 * problem.grid.n), tol=p.tol)
            r = keldysh.observables(x, problem)
            r.update(info, grid=problem.grid)
        else:
            problem = None
            r = keldysh.solve_lattice(p.gamma, p.g_ep, p.omega0, p.delta, p.E, tol=p.tol, **kw)
    g = r["grid"]
    res = AvalancheLatticeResult(
        gamma=p.gamma,
        g_ep=p.g_ep,
        omega0=p.omega0,
        delta=p.delta,
        E=p.E,
        T=p.T,
        solver=p.solver,
        n_ex=r["n_ex"],
        current=r["current"],
        current_left=r["current_left"],
        spectral_weight=r["weight"],
        bath_current=r["bath_current"],
        converged=bool(r["converged"]),
        residual=r["residual"],
        iterations=r["iterations"],
        n_omega=g.n,
        d_omega=g.d_omega,
        omega_range=[float(g.omega[0]), float(g.omega[-1])],
    )
    if p.branching:
        if problem is None:
            problem = keldysh.lattice_problem(p.gamma, p.g_ep, p.omega0, p.delta, p.E, **kw)
        br = keldysh.branching_ratio(p.gamma, p.g_ep, p.omega0, p.delta, p.E, steady=dict(r, problem=problem))
        res.branching_scba, res.branching_bare = br["rho_scba"], br["rho_bare"]
    if g.note:
        res.grid_note = g.note
    res.status = "ok" if res.converged else SOLVER_FAILED
    if res.converged:
        res.message = f"n_ex = {res.n_ex:.6g}, current = {res.current:.6g}"
    else:
        # SNES: its converged reason by name; Anderson (numpy): it ran out of iterations
        res.solver_reason = r.get("solver_reason") or "DIVERGED_MAX_IT"
        if res.solver_reason.startswith("CONVERGED"):  # SNES stopped on its own test, above our residual test
            res.solver_reason = f"{res.solver_reason} (residual above 10 tol)"
        opt = "-aval_snes_max_it, -aval_snes_type" if p.solver == "snes" else "--solver snes"
        res.message = (
            f"not converged: residual {res.residual:.3g} > tol {p.tol:g} after {res.iterations} iterations; "
            f"try a looser --tol, a finer --n-omega or {opt}"
        )
    res.spectra = r["spectra"]
    return res


STUDY = Study(
    "avalanche lattice",
    AvalancheLatticeParams,
    run,
    "steady state of the biased tight-binding chain with fermion baths and Holstein phonons (SCBA, "
    "Keldysh): n_ex, current, spectra",
    prefixes=(AVALANCHE,),
    positional=("gamma", "g_ep", "omega0", "E", "delta", "T", "n_omega", "solver", "tol", "branching"),
)
