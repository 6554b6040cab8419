"""Kinetic-instability commands (docs/theory.md §3, §10.3, §10.4; seed 000 Eqs. (10), (14)): ``lambda-c``
(``studies/lambda_c.py``) and ``stability`` (``studies/stability.py``).  Here only the files of ``-o``."""

from __future__ import annotations

import os

from ephkin.pde.errors import InputError

from ..studies import lambda_c as lc_study
from ..studies import stability as st_study
from .common import EPILOG, finish, output_dir, params_from_args, progress, write_csv
from .generate import add_study, petsc_for

#: PETSc option prefixes read by this family's solvers (SLEPc EPS, MUMPS inertia).
PETSC_PREFIXES = st_study.STUDY.prefixes


def add_commands(sub):
    add_study(sub, lc_study.STUDY, lambda_c, epilog=EPILOG)
    add_study(
        sub,
        st_study.STUDY,
        stability,
        epilog=EPILOG + " PETSc/SLEPc options go under -stab_ (e.g. -stab_eps_nev 10 -stab_eps_type krylovschur).",
    )


def lambda_c(args):
    """``ephkin lambda-c``: with -o lambda_c.csv (and lambda_c.png for several T0)."""
    params = params_from_args(lc_study.STUDY, args)
    out = output_dir(args.output)
    r = lc_study.run(params, progress=progress, petsc_options=petsc_for(args))
    res = dict({"spectrum": args.spectrum, "units": args.units}, **r.to_dict())
    files = []
    if out and r.table is not None:
        rows = r.table
        keys = list(rows[0].keys())
        files.append(write_csv(os.path.join(out, "lambda_c.csv"), keys, ([row.get(k) for k in keys] for row in rows)))
        if len(rows) > 1 and params.method == "zinv":
            from ..plots import plot_lambda_c

            files.append(
                plot_lambda_c(
                    os.path.join(out, "lambda_c.png"),
                    [row["T0"] for row in rows],
                    {
                        "Z0 criterion": [row["lambda_c"] for row in rows],
                        "C_el < 0": [row["lambda_c_cel"] for row in rows],
                    },
                    args.units,
                    title=rf"$\lambda_c(T_0)$ of {args.spectrum}",
                )
            )
    return finish(args, res, files)


def stability(args):
    """``ephkin stability``: with -o gamma.csv, eigenvectors.png (and gamma_scan.csv, gamma_vs_lambda.png)."""
    params = params_from_args(st_study.STUDY, args)
    if params.lam_scan and not args.output:
        raise InputError("--lam-scan writes gamma_scan.csv and gamma_vs_lambda.png: give -o DIR")
    out = output_dir(args.output)
    r = st_study.run(params, progress=progress, petsc_options=petsc_for(args))
    res = dict({"spectrum": args.spectrum, "units": args.units}, **r.to_dict())
    files = []
    # a solver that stopped early (status solver_failed) leaves no gamma, residuals or vectors to write
    if out and params.converge is None and r.gamma_residual is not None and r.eigenvectors is not None:
        from ..plots import _sym, plot_eigenvectors

        lam = res.get("lambda", getattr(args, "lam", None))
        where = (f"$\\lambda$ = {lam:g}, " if isinstance(lam, (int, float)) else "") + (
            f"$T_0$ = {args.T0:g} {_sym(args.units)}"
        )

        # each gamma with its relative residual (the backward error of the pencil, StabilityResult.gamma_residual)
        files.append(write_csv(os.path.join(out, "gamma.csv"), ["gamma", "residual"], zip(r.gamma, r.gamma_residual)))
        files.append(
            plot_eigenvectors(
                os.path.join(out, "eigenvectors.png"),
                r.E,
                r.eigenvectors,
                r.eigenvector_gammas,
                r.zinv,
                args.units,
                title=f"eigenvectors of Eq. (14), {args.spectrum}, {where}",
            )
        )
        if r.scan is not None:
            from ..plots import plot_gamma_scan

            files.append(
                write_csv(
                    os.path.join(out, "gamma_scan.csv"),
                    ["lambda", "gamma"],
                    ([lam, " ".join(f"{g:.12g}" for g in gam)] for lam, gam in r.scan),
                )
            )
            files.append(
                plot_gamma_scan(
                    os.path.join(out, "gamma_vs_lambda.png"),
                    r.scan,
                    args.units,
                    title=rf"eigenvalues $\gamma(\lambda)$ nearest 0, {args.spectrum}, $T_0$ = {args.T0:g} "
                    + _sym(args.units),
                )
            )
    return finish(args, res, files)
