"""Equilibrium Eliashberg toolkit commands (seed 000, seed 002): ``info``, ``spectrum``, ``zinv``,
``cel``, ``two-temp``, ``transport``.  No PETSc here (``info`` reports it).

The computations are studies (``solvers/studies/spectrum.py``, ``zinv.py``, ``two_temperature.py``, ``cel.py``,
``transport.py``): their flags are generated from the studies' ``Params``; the handlers here only run the study
and write the CSV tables and PNG plots of ``-o``."""

from __future__ import annotations

import os

from ..studies import cel as cel_study
from ..studies import spectrum as spectrum_study
from ..studies import transport as transport_study
from ..studies import two_temperature as two_temp_study
from ..studies import zinv as zinv_study
from .common import EPILOG, add_command, finish, output_dir, write_csv
from .generate import add_study, params_from_args, petsc_for

#: PETSc option prefixes read by this family's solvers (none).
PETSC_PREFIXES = ()


def add_commands(sub):
    p = add_command(
        sub, "info", info, "versions of ephkin, PETSc, SLEPc, MPI, numpy, scipy; MUMPS availability", runfile=False
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    add_study(sub, spectrum_study.STUDY, spectrum, epilog=EPILOG, output="summary.json and spectrum.png")
    add_study(sub, zinv_study.STUDY, zinv, epilog=EPILOG, output="summary.json, zinv.csv and zinv.png")
    add_study(sub, two_temp_study.STUDY, two_temp, epilog=EPILOG, output="summary.json and temperature.csv")
    add_study(sub, cel_study.STUDY, cel, epilog=EPILOG, output="summary.json, cel.csv and cel.png")
    add_study(sub, transport_study.STUDY, transport, epilog=EPILOG, output="summary.json")


def info(args):
    """Versions of the numerical stack (and MUMPS availability)."""
    from ..petsc_env import versions

    return versions()


def _run(study, args):
    return study.run(params_from_args(study, args), petsc_options=petsc_for(args))


def spectrum(args):
    """Moments of alpha^2F and the Allen-Dynes / McMillan T_c (``studies/spectrum.py``); -o: spectrum.png."""
    out = output_dir(args.output)
    r = _run(spectrum_study.STUDY, args)
    files = []
    if out:
        from ..plots import plot_spectrum

        files.append(
            plot_spectrum(
                os.path.join(out, "spectrum.png"),
                r.omega,
                r.alpha2f,
                r.peaks,
                r.units,
                title=rf"$\alpha^2F(\omega)$ of {args.spectrum}",
            )
        )
    return finish(args, r.to_dict(), files)


def zinv(args):
    """Z0^-1(E) at T0, Eq. (5), or its strong-coupling limit, Eq. (S38) (``studies/zinv.py``); -o: the table
    zinv.csv and zinv.png."""
    out = output_dir(args.output)
    r = _run(zinv_study.STUDY, args)
    files = []
    if out:
        from ..plots import plot_zinv

        files.append(write_csv(os.path.join(out, "zinv.csv"), ["E", "zinv"], zip(r.E, r.zinv)))
        label = args.spectrum or "strong coupling"
        files.append(
            plot_zinv(
                os.path.join(out, "zinv.png"),
                r.E,
                {f"{label}, $T_0$ = {args.T0:g}": r.zinv},
                r.units,
                r.zeros,
                rf"$Z_0^{{-1}}(E)$ of Eq. (5), {label}"
                + (f", $\\lambda$ = {args.lam:g}" if getattr(args, "lam", None) is not None else "")
                + f", $T_0$ = {args.T0:g}",
            )
        )
    return finish(args, r.to_dict(), files)


def two_temp(args):
    """Eq. (16): relaxation rate at T0 and T(t) from T_in (``studies/two_temperature.py``); -o:
    temperature.csv."""
    out = output_dir(args.output)
    r = _run(two_temp_study.STUDY, args)
    files = []
    if out:
        files.append(write_csv(os.path.join(out, "temperature.csv"), ["t", "T"], zip(r.t, r.T)))
    return finish(args, r.to_dict(), files)


def cel(args):
    """C_el(T)/C_free (Eq. (S14)): T_-, T_+ and lambda_min (``studies/cel.py``); -o: cel.csv and cel.png
    (Fig. 3)."""
    out = output_dir(args.output)
    r = _run(cel_study.STUDY, args)
    files = []
    if out:
        from ..plots import plot_cel

        files.append(
            write_csv(
                os.path.join(out, "cel.csv"),
                ["T", "cel_over_free", "cel", "energy"],
                zip(r.T, r.cel_over_free, r.cel, r.energy),
            )
        )
        files.append(
            plot_cel(
                os.path.join(out, "cel.png"),
                r.T,
                r.cel_over_free,
                r.energy,
                (r.T_minus, r.T_plus),
                r.units,
                title=f"{args.spectrum}"
                + (f", $\\lambda$ = {args.lam:g}" if getattr(args, "lam", None) is not None else "")
                + r": $C_{el} < 0$ for $T_- < T < T_+$",
            )
        )
    return finish(args, r.to_dict(), files)


def transport(args):
    """1/tau_tr(T) (Allen's formula on alpha^2F_tr, or Bloch-Grueneisen) and rho(T) (``studies/transport.py``)."""
    output_dir(args.output)
    return finish(args, _run(transport_study.STUDY, args).to_dict())
