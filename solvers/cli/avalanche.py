"""Quantum avalanche of a DC-biased band (seed 003): ``avalanche criterion``, ``curve``, ``lattice``,
``replica``.  The computations are the studies ``studies/avalanche_*.py``; here only the files of -o."""

from __future__ import annotations

import os

import numpy as np

from ..prefixes import AVALANCHE
from ..studies import avalanche_criterion, avalanche_curve, avalanche_lattice, avalanche_replica
from .common import add_family, finish, output_dir, write_csv
from .generate import add_study, params_from_args, petsc_for

#: PETSc option prefixes read by this family's solvers (the SNES of the lattice steady state).
PETSC_PREFIXES = (AVALANCHE,)


def add_commands(sub):
    asub = add_family(
        sub,
        "avalanche",
        "quantum avalanche of a DC-biased band (seed 003): 'avalanche criterion', "
        "'avalanche curve', 'avalanche lattice'",
        "Units hbar = e = k_B = 1, t a^2 = hbar^2/2m = 1 (the seed's lattice: m = 1/2).",
    )
    for study, handler in (
        (avalanche_criterion, criterion),
        (avalanche_curve, curve),
        (avalanche_lattice, lattice),
        (avalanche_replica, replica),
    ):
        add_study(asub, study.STUDY, handler)


def _run(module, args):
    return module.run(params_from_args(module.STUDY, args), petsc_options=petsc_for(args))


def criterion(args):
    """The analytic avalanche criterion, Eqs. (11)-(16)."""
    return finish(args, _run(avalanche_criterion, args).to_dict())


def curve(args):
    """lambda(E) (A6) and lambda'(E) (A7) on a log grid in E (Fig. 6), with the roots of lambda = 1."""
    out = output_dir(args.output)
    r = _run(avalanche_curve, args)
    res = r.to_dict()
    files = []
    if out:
        from ..plots import plot_avalanche_lambda

        files.append(
            write_csv(
                os.path.join(out, "lambda.csv"), ["E", "lambda_A6", "lambda_A7"], zip(r.E, r.lambda_A6, r.lambda_A7)
            )
        )
        files.append(plot_avalanche_lambda(os.path.join(out, "lambda.png"), r.E, r.lambda_A6, r.lambda_A7, res))
    return finish(args, res, files)


def lattice(args):
    """One steady state of the biased Holstein chain (SCBA, Wannier-Stark reduced): n_ex, J, spectra."""
    out = output_dir(args.output)
    r = _run(avalanche_lattice, args)
    res = r.to_dict()
    files = []
    if out:
        from ..plots import plot_avalanche_spectra

        sp = r.spectra
        keep = slice(None, None, max(1, r.n_omega // 4096))
        files.append(
            write_csv(
                os.path.join(out, "spectra.csv"),
                ["omega", "A", "n", "occupation", "Re_sigma_R"],
                zip(sp.omega[keep], sp.A[keep], sp.n[keep], sp.occupation[keep], np.real(sp.sigma_r[keep])),
            )
        )
        files.append(plot_avalanche_spectra(os.path.join(out, "spectra.png"), sp, res))
    return finish(args, res, files)


def replica(args):
    """The lattice avalanche criterion beside the analytic Eq. (11)."""
    return finish(args, _run(avalanche_replica, args).to_dict())
