"""Kinetic-instability commands (seed 000 Eqs. (10), (14), (S16)-(S21)): ``lambda-c`` (Z0 criterion or the
linear analysis) and ``stability`` (the gamma spectrum of gamma A phi = M phi with SLEPc)."""

from __future__ import annotations

import os

import numpy as np

from ephkin.pde.errors import InputError
from ephkin.pde.spectra import parse_spectrum

from ephkin.pde.electron_electron import P_EE_HELP

from .. import api
from ..prefixes import STABILITY
from .common import (EPILOG, add_command, add_grid, add_spectrum, checks, finish, finite, output_dir, progress,
                     spectrum_ok, write_csv)

#: The folded energy grid's numbers (add_grid): > 0 when given.
GRID_POSITIVE = ("refine", "grid_step", "cutoff")

#: PETSc option prefixes read by this family's solvers (SLEPc EPS, MUMPS inertia).
PETSC_PREFIXES = (STABILITY,)


def add_commands(sub):
    p = add_command(sub, "lambda-c", lambda_c, "critical coupling lambda_c(T0) of the kinetic instability",
                    PETSC_PREFIXES, epilog=EPILOG, validate=checks(("T0", "lam_max", "h_min") + GRID_POSITIVE,
                                                                   files=("spectrum",), also=_lambda_c_ok))
    add_spectrum(p, lam=False)
    p.add_argument("--T0", type=finite, nargs="+", required=True, help="one or more temperatures T0")
    p.add_argument("--method", choices=("zinv", "linear"), default="zinv",
                   help="zinv: min_E Z0^-1(E) = 0, Eq. (10)/(S21) (default); linear: A of Eq. (14) "
                        "acquires a negative eigenvalue (Sylvester: the first gamma < 0)")
    p.add_argument("--lam-max", type=finite, default=1e4, help="largest lambda searched (default 1e4)")
    add_grid(p)
    p.add_argument("--grid", choices=("uniform", "graded"), default="uniform",
                   help="linear: uniform folded grid (default), or graded nodes (fine near E = 0 and the zeros "
                        "of Z0^-1) with hat functions, integrated on the uniform grid (Rayleigh-Ritz)")
    p.add_argument("--h-min", type=finite, default=None,
                   help="graded grid: smallest node spacing (default max(T0/8, 3 grid steps))")
    p.add_argument("--solver", choices=("auto", "dense", "slepc", "inertia"), default="auto",
                   help="linear: smallest eigenvalue of A_hat by dense LAPACK or matrix-free SLEPc (auto, the "
                        "default: LAPACK up to L = 600, where it costs less than starting PETSc, SLEPc beyond), "
                        "or bisection on the LDL^T inertia (L <= 3000)")
    p.add_argument("--converge", type=int, nargs="?", const=4, default=None, metavar="LEVELS",
                   help="linear: refine the grid LEVELS times by 2 and print each lambda_c, the observed "
                        "order and a Richardson estimate (default 4 levels)")

    p = add_command(sub, "stability", stability, "linear stability gamma A phi = M phi (Eq. 14) with SLEPc: "
                    "gamma nearest 0, inertia counts, temperature-mode check", PETSC_PREFIXES,
                    epilog=EPILOG + " PETSc/SLEPc options go under -stab_ (e.g. -stab_eps_nev 10 "
                    "-stab_eps_type krylovschur).",
                    validate=checks(("T0", "lam", "nev", "p_ee_width") + GRID_POSITIVE, ("a_ee",), ("spectrum",),
                                    _stability_ok))
    add_spectrum(p, t0="temperature T0")
    p.add_argument("--nev", type=int, default=6, help="number of gamma nearest the target (default 6)")
    p.add_argument("--target", type=finite, default=None, help="shift-and-invert target for gamma (default 0-)")
    p.add_argument("--solver", choices=("auto", "dense", "slepc"), default="auto",
                   help="the gamma spectrum by SLEPc (matrix-free, any L) or one dense LAPACK eigh (L <= 3000, M "
                        "without ladder null modes or e-e collisions); auto (the default): dense up to L = 1200 "
                        "where it applies, where it costs less than starting PETSc, else SLEPc, and SLEPc "
                        "whenever -stab_ options are given")
    add_grid(p)
    p.add_argument("--a-ee", type=finite, default=0.0,
                   help="weight of electron-electron collisions, M = M^ep + a_ee M^ee (Eq. 15, S22-S25), applied "
                        "matrix-free by FFT at any L; n_negative (the inertia of A) does not depend on it (default 0)")
    p.add_argument("--p-ee", default=None, metavar="P",
                   help=f"transition probability P(omega) of Eq. (S22): {P_EE_HELP} (default gaussian:0.3)")
    p.add_argument("--p-ee-width", type=finite, default=None,
                   help="shorthand for --p-ee gaussian:WIDTH")
    p.add_argument("--converge", type=int, nargs="?", const=4, default=None, metavar="LEVELS",
                   help="refine the grid LEVELS times by 2 and print gamma_min_positive and the slowest "
                        "negative gamma at each, the observed order and a Richardson estimate (default 4)")
    p.add_argument("--lam-scan", type=finite, nargs=3, default=None, metavar=("LMIN", "LMAX", "N"),
                   help="also scan lambda over N values and plot gamma(lambda) (Fig. 2) with -o")


def _lambda_c_ok(args):
    if args.converge is not None and args.converge < 3:
        raise InputError(f"--converge must be >= 3 levels for an observed order (got {args.converge})")
    spectrum_ok(args)


def _stability_ok(args):
    if args.lam_scan is not None:
        lo, hi, n = args.lam_scan
        if not (0 < lo < hi and n >= 2):
            raise InputError(f"--lam-scan {lo:g} {hi:g} {n:g}: give 0 < LMIN < LMAX and N >= 2")
    spectrum_ok(args)


def _grid(args):
    return dict(units=args.units, kernel=args.kernel, pv=args.pv, refine=args.refine, grid_step=args.grid_step,
                cutoff=args.cutoff)


def lambda_c(args):
    """lambda_c(T0): Z0 criterion (Eq. (10)/(S21)) and C_el bound, or the linear analysis (Eq. (14))."""
    out = output_dir(args.output)
    shape = parse_spectrum(args.spectrum)
    head = {"spectrum": args.spectrum, "units": args.units, "method": args.method}
    linear = dict(_grid(args), solver=args.solver, grid=args.grid, h_min=args.h_min, lam_max=args.lam_max)
    if args.method == "linear" and args.converge:
        if len(args.T0) != 1:
            raise InputError("--converge takes a single --T0")
        linear.pop("refine")
        res = dict(head, **api.lambda_c_convergence(shape, args.T0[0], args.converge, args.refine, progress,
                                                    **linear))
        return finish(args, res, [])
    rows = []
    for i, T0 in enumerate(args.T0):
        rows.append(api.lambda_c(shape, T0, method="linear", **linear) if args.method == "linear"
                    else api.lambda_c(shape, T0, units=args.units, lam_max=args.lam_max))
        if len(args.T0) > 1:
            progress(f"lambda-c: {i + 1}/{len(args.T0)} T0={T0:g} lambda_c={rows[-1]['lambda_c']}")
    if args.method == "zinv":
        head.update(criterion="min_E Z0^-1(E) = 0 (Eq. 10/S21)",
                    omega_ref_definition="omega_log of the spectrum at lambda_c")
    else:
        head.update(criterion="smallest eigenvalue of A_hat = 0 (Eq. 14, Sylvester)", kernel=args.kernel)
    res = dict(head, **rows[0]) if len(rows) == 1 else dict(head, rows=rows)
    files = []
    if out:
        keys = list(rows[0].keys())
        files.append(write_csv(os.path.join(out, "lambda_c.csv"), keys, ([r.get(k) for k in keys] for r in rows)))
        if len(rows) > 1 and args.method == "zinv":
            from ..plots import plot_lambda_c

            files.append(plot_lambda_c(os.path.join(out, "lambda_c.png"), [r["T0"] for r in rows],
                                       {"Z0 criterion": [r["lambda_c"] for r in rows],
                                        "C_el < 0": [r["lambda_c_cel"] for r in rows]}, args.units))
    return finish(args, res, files)


def stability(args):
    """gamma spectrum of Eq. (14) with SLEPc, inertia counts and the temperature-mode check."""
    if args.lam_scan and not args.output:
        raise InputError("--lam-scan writes gamma_scan.csv and gamma_vs_lambda.png: give -o DIR")
    if args.lam_scan and not (args.lam_scan[2] >= 2 and args.lam_scan[2] == int(args.lam_scan[2])):
        raise InputError(f"--lam-scan: N must be an integer >= 2 (got {args.lam_scan[2]:g})")
    out = output_dir(args.output)
    res = {"spectrum": args.spectrum, "units": args.units}
    if args.p_ee and args.p_ee_width is not None:
        raise InputError("give --p-ee or its shorthand --p-ee-width, not both")
    ee = dict(a_ee=args.a_ee, p_ee=args.p_ee or f"gaussian:{0.3 if args.p_ee_width is None else args.p_ee_width}")
    if args.converge:
        grid = _grid(args)
        grid.pop("refine")
        res.update(api.stability_convergence(args.spectrum, args.lam, args.T0, args.converge, args.refine,
                                             args.nev, progress, **grid, **ee))
        return finish(args, res, [])
    solver = args.solver
    if solver == "auto" and any(o.startswith("-" + STABILITY) for o in args.petsc_options):
        solver = "slepc"  # -stab_ options tune SLEPc: the user wants it
    res.update(api.stability(args.spectrum, args.lam, args.T0, args.nev, args.target, solver, **ee, **_grid(args)))
    files = []
    if out:
        from ..plots import plot_eigenvectors

        files.append(write_csv(os.path.join(out, "gamma.csv"), ["gamma"], ([g] for g in res["gamma"])))
        files.append(plot_eigenvectors(os.path.join(out, "eigenvectors.png"), res["_E"], res["_eigenvectors"],
                                       res["_eigenvector_gammas"], res["_zinv"], args.units))
        if args.lam_scan:
            files.append(_gamma_scan(args, out, ee))
    return finish(args, res, files)


def _gamma_scan(args, out, ee):
    """gamma(lambda) over --lam-scan LMIN LMAX N (seed 000 Fig. 2): the nev gamma nearest 0 and the
    two largest |gamma| (the pole branch that diverges at lambda_c).  The problems come from one
    ``CouplingFamily`` (the default grid at each lambda, the kernel transforms built once).  Up to the
    dense reference size one LAPACK eigvalsh per lambda gives both (``gamma_dense``: the pencil of
    Eq. (14) in standard form by the banded Cholesky of M_hat, which also detects the ladder null modes,
    gamma = 0, left out here); above it SLEPc, matrix-free.  ``ee``: a_ee and p_ee, as for the main result."""
    from ephkin.pde.electron_electron import make_p_ee
    from ephkin.pde.linearized import CouplingFamily

    from ..plots import plot_gamma_scan
    from ..stability import (DENSE_MAX, discrete_gammas, gamma_dense, gamma_spectrum, nonzero_gammas, pole_gammas,
                             stability_summary)

    lo, hi, n = args.lam_scan
    lams = np.linspace(lo, hi, int(n))
    table = []
    p_ee = make_p_ee(ee["p_ee"]) if ee["a_ee"] > 0 else None
    fam = CouplingFamily(parse_spectrum(args.spectrum), args.T0, **_grid(args), a_ee=ee["a_ee"], p_ee=p_ee)
    for i, lam in enumerate(lams):
        p = fam.problem(lam)
        if p.grid.L <= DENSE_MAX and args.target is None:
            g = nonzero_gammas(gamma_dense(p))
            poles = g[np.argsort(np.abs(g))[-2:]]
            g = discrete_gammas(p, g)  # a continuous alpha^2F: the modes, not the continuum's samples
            gam = np.concatenate([g[np.argsort(np.abs(g))[: args.nev]], poles])
        else:
            near = (gamma_spectrum(p, args.nev, args.target)[0] if args.target is not None
                    else np.asarray(stability_summary(p, args.nev, counts=False)["gamma"]))
            gam = np.concatenate([near, pole_gammas(p, 2)])
        table.append((lam, gam))
        progress(f"gamma scan {i + 1}/{len(lams)}: lambda={lam:.4f}")
    write_csv(os.path.join(out, "gamma_scan.csv"), ["lambda", "gamma"],
              ([lam, " ".join(f"{g:.12g}" for g in gam)] for lam, gam in table))
    return plot_gamma_scan(os.path.join(out, "gamma_vs_lambda.png"), table, args.units)
