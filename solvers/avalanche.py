"""Quantum avalanche (seed 003): the ``ephkin avalanche`` commands and the PETSc SNES backend of the
lattice steady state.

* ``avalanche criterion``: Eqs. (11)-(16) (``pde.avalanche.criterion``), JSON keys beta, beta_c, x0,
  E_av, E_av_upper, E_av_asymptotic, T_star (and reason below beta_c).
* ``avalanche curve``: lambda(E) of Eq. (A6) against lambda' of (A7) (Fig. 6) and E_av against one
  parameter (Figs. 3a, 4a, 4b; Fig. 5a's boundary beta = beta_c).
* ``avalanche lattice``: the SCBA steady state of the biased chain (``pde.keldysh``); the fixed point
  Phi(x) = x is solved by Anderson mixing (numpy, default) or by PETSc SNES (``--solver snes``,
  SNESANDERSON), options ``-aval_``.
* ``avalanche replica``: the lattice avalanche criterion lambda_lat(E) = 1 (``pde.keldysh.replica_ratio``)
  beside Eq. (11).
"""

from __future__ import annotations

import os

import numpy as np

from ephkin.pde import avalanche as av
from ephkin.pde import keldysh
from ephkin.pde.errors import InputError

from .bridge import comm, gather, scatter, vec
from .petsc_env import init_petsc

PREFIX = "aval_"

__all__ = ["snes_solve", "criterion", "curve", "lattice", "replica"]


def snes_solve(problem, x0, tol=1e-8, max_it=300):
    """Phi(x) = x by PETSc SNES on F(x) = x - Phi(x): Anderson mixing (SNESANDERSON) by default.

    (``-aval_snes_type newtonls -aval_snes_mf``, Newton-Krylov with a finite-difference Jacobian,
    fails its first line search from the cold start x = 0 at the seed's parameters: Phi has the
    scale split sigma^< << sigma^> that the block-scaled Anderson of pde.keldysh handles.)

    Returns (Phi(x), info) like ``pde.keldysh.anderson``: info's residual is the same
    block-relative norm, so both backends are judged alike."""
    PETSc, _ = init_petsc()
    n = problem.grid.n
    x = vec(np.asarray(x0, dtype=float))
    r = x.duplicate()
    snes = PETSc.SNES().create(comm=comm())
    hist = []

    def F(snes, X, R):
        scatter(-keldysh.residual(gather(X), problem), R)

    try:
        snes.setOptionsPrefix(PREFIX)
        snes.setFunction(F, r)
        snes.setType(PETSc.SNES.Type.ANDERSON)
        snes.setTolerances(rtol=tol, atol=0.0, stol=0.0, max_it=max_it)
        snes.getKSP().setTolerances(max_it=100)
        snes.setMonitor(lambda s, it, norm: hist.append(float(norm)))
        snes.setFromOptions()
        snes.solve(None, x)
        xs = gather(x).copy()
        its = snes.getIterationNumber()
    finally:
        snes.destroy()
        x.destroy()
        r.destroy()
    g = problem.phi(xs)
    res = keldysh.block_norm(g - xs, g, n)
    return g, dict(converged=bool(res <= 10 * tol), iterations=int(its), residual=res, history=hist)


def criterion(args):
    """The analytic avalanche criterion, Eqs. (11)-(16)."""
    from .commands import _finish

    return _finish(args, av.criterion(args.mass, args.g_ep, args.gamma, args.omega0, args.T))


def curve(args):
    """lambda(E) (A6) and lambda'(E) (A7) on a log grid in E (Fig. 6), with the roots of lambda = 1."""
    from .commands import _finish, _outdir, _write_csv

    out = _outdir(args.output)
    lo, hi, num = args.E_range
    if not 0 < lo < hi or int(num) < 2:
        raise InputError(f"--E-range {lo} {hi} {num}: give 0 < EMIN < EMAX and at least 2 points")
    E = np.geomspace(lo, hi, int(num))
    lam = av.lambda_a6(E, args.mass, args.g_ep, args.gamma, args.omega0)
    lam7 = av.lambda_a7(E, args.mass, args.g_ep, args.gamma, args.omega0)
    res = av.criterion(args.mass, args.g_ep, args.gamma, args.omega0, args.T)
    res["max_rel_diff_a7_a6_in_window"] = (
        float(np.max(np.abs(lam7 / lam - 1)[(E >= res["E_av"]) & (E <= res["E_av_upper"])]))
        if res["E_av"] is not None and np.any((E >= res["E_av"]) & (E <= res["E_av_upper"])) else None)
    res["curve"] = {"E": E.tolist(), "lambda_A6": lam.tolist(), "lambda_A7": lam7.tolist()}
    files = []
    if out:
        from .plots import plot_avalanche_lambda

        files.append(_write_csv(os.path.join(out, "lambda.csv"), ["E", "lambda_A6", "lambda_A7"], zip(E, lam, lam7)))
        files.append(plot_avalanche_lambda(os.path.join(out, "lambda.png"), E, lam, lam7, res))
    return _finish(args, res, files)


def lattice(args):
    """One steady state of the biased Holstein chain (SCBA, Wannier-Stark reduced): n_ex, J, spectra."""
    from .commands import _finish, _outdir, _write_csv

    out = _outdir(args.output)
    kw = dict(T=args.T, n_omega=args.n_omega)
    problem = keldysh.lattice_problem(args.gamma, args.g_ep, args.omega0, args.delta, args.E, **kw)
    if args.solver == "snes":
        n = problem.grid.n
        x, info = snes_solve(problem, np.zeros(2 * n), tol=args.tol)
        run = keldysh.observables(x, problem)
        run.update(info, grid=problem.grid)
    else:
        run = keldysh.solve_lattice(args.gamma, args.g_ep, args.omega0, args.delta, args.E, tol=args.tol, **kw)
    g = run["grid"]
    res = {"gamma": args.gamma, "g_ep": args.g_ep, "omega0": args.omega0, "delta": args.delta, "E": args.E,
           "T": args.T, "solver": args.solver, "n_ex": run["n_ex"], "current": run["current"],
           "current_left": run["current_left"], "spectral_weight": run["weight"],
           "bath_current": run["bath_current"],
           "converged": bool(run["converged"]), "residual": run["residual"], "iterations": run["iterations"],
           "n_omega": g.n, "d_omega": g.d_omega, "omega_range": [float(g.omega[0]), float(g.omega[-1])]}
    if args.branching:
        br = keldysh.branching_ratio(args.gamma, args.g_ep, args.omega0, args.delta, args.E,
                                     steady=dict(run, problem=problem))
        res.update(branching_scba=br["rho_scba"], branching_bare=br["rho_bare"])
    if g.note:
        res["grid_note"] = g.note
    files = []
    if out:
        from .plots import plot_avalanche_spectra

        sp = run["spectra"]
        keep = slice(None, None, max(1, g.n // 4096))
        files.append(_write_csv(os.path.join(out, "spectra.csv"), ["omega", "A", "n", "occupation", "Re_sigma_R"],
                                zip(sp.omega[keep], sp.A[keep], sp.n[keep], sp.occupation[keep],
                                    np.real(sp.sigma_r[keep]))))
        files.append(plot_avalanche_spectra(os.path.join(out, "spectra.png"), sp, res))
    return _finish(args, res, files)


def replica(args):
    """The lattice avalanche criterion: lambda_lat(E) = 1 for the replica map of the biased chain with
    Gamma-damped propagators (the seed's Eq. (10) on the lattice), next to the analytic Eq. (11)."""
    from .commands import _finish

    lat = keldysh.lattice_avalanche_field(args.gamma, args.g_ep, args.omega0, args.delta, args.E_range[0],
                                          args.E_range[1], n_scan=int(args.E_range[2]), T=args.T,
                                          generation=args.generation)
    ana = av.criterion(0.5, args.g_ep, args.gamma, args.omega0, args.T)
    res = {"gamma": args.gamma, "g_ep": args.g_ep, "omega0": args.omega0, "delta": args.delta, "T": args.T,
           "generation": args.generation, "E_av_lattice": lat["E_av"], "E_av_upper_lattice": lat["E_av_upper"],
           "E_av_analytic": ana["E_av"], "E_av_upper_analytic": ana["E_av_upper"],
           "ratio_lattice_over_analytic": (lat["E_av"] / ana["E_av"] if lat["E_av"] and ana["E_av"] else None),
           "scan": {"E": np.asarray(lat["E"]).tolist(), "lambda_lat": np.asarray(lat["ratio"]).tolist()}}
    if "reason" in lat:
        res["reason"] = lat["reason"]
    return _finish(args, res)
