"""Equilibrium Eliashberg toolkit commands (seed 000, seed 002): ``info``, ``spectrum``, ``zinv``,
``cel``, ``two-temp``, ``transport``.  No PETSc here (``info`` reports it)."""

from __future__ import annotations

import os

import numpy as np

from ephkin.pde import eliashberg as eq
from ephkin.pde import phonons
from ephkin.pde.errors import InputError
from ephkin.pde.instability import cel_analysis
from ephkin.pde.spectra import make_spectrum

from .. import api
from .common import (EPILOG, add_command, add_output, add_spectrum, checks, finish, finite, output_dir,
                     spectrum_ok, write_csv)

#: PETSc option prefixes read by this family's solvers (none).
PETSC_PREFIXES = ()


def add_commands(sub):
    p = add_command(sub, "info", info, "versions of ephkin, PETSc, SLEPc, MPI, numpy, scipy; MUMPS availability",
                    runfile=False)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    p = add_command(sub, "spectrum", spectrum, "moments of alpha^2F (lambda, g, omega_log, <omega^2>) and T_c",
                    epilog=EPILOG, validate=checks(("lam",), ("mu_star",), ("spectrum",), spectrum_ok))
    add_spectrum(p)
    p.add_argument("--mu-star", type=finite, default=0.10, help="Coulomb pseudopotential (default 0.10)")

    p = add_command(sub, "zinv", zinv, "Z0^-1(E) (Eq. 5 / S38): minimum, zeros, interval where Z0^-1 < 0",
                    epilog=EPILOG, validate=checks(("T0", "lam", "E_max"), files=("spectrum",), also=_zinv_ok))
    p.add_argument("--strong-coupling", action="store_true",
                   help="use the lambda -> infinity limit, Eq. (S38) (no --spectrum needed; units of g)")
    p.add_argument("--spectrum", metavar="ALPHA2F", help="alpha^2F spec (see 'ephkin lambda-c --help')")
    p.add_argument("--lam", type=finite, default=None, metavar="LAMBDA", help="coupling lambda")
    p.add_argument("--T0", type=finite, required=True, help="temperature T0")
    p.add_argument("--units", choices=("g", "plain"), default="g", help="energy units (default g)")
    p.add_argument("--E-max", type=finite, default=None, help="largest energy of the table/plot")
    p.add_argument("--points", type=int, default=801, help="points of the Z0^-1(E) table (default 801)")
    add_output(p, "summary.json, zinv.csv and zinv.png")

    p = add_command(sub, "two-temp", two_temp, "two-temperature equation (Eq. 16): T(t) from T_in with C_el(T); "
                    "runs away to T_-/T_+ where C_el < 0 (Fig. 3)", epilog=EPILOG,
                    validate=checks(("T0", "T_in", "t_end", "lam"), files=("spectrum",), also=spectrum_ok))
    add_spectrum(p, t0="phonon (bath) temperature T0")
    p.add_argument("--T-in", type=finite, required=True, help="initial electron temperature")
    p.add_argument("--t-end", type=finite, default=1000.0, help="final time (rescaled, default 1000)")

    p = add_command(sub, "cel", cel, "electronic specific heat C_el(T) (S11-S14): window where C_el < 0",
                    epilog=EPILOG, validate=checks(("lam", "T_range"), files=("spectrum",), also=_cel_ok))
    add_spectrum(p)
    p.add_argument("--T-range", type=finite, nargs=2, default=None, metavar=("TLO", "THI"),
                   help="temperature range scanned (default 0.01..5 omega_log)")

    p = add_command(sub, "transport", transport, "transport rate 1/tau_tr(T) and resistivity from alpha^2F_tr "
                    "(Allen; Bloch-Grueneisen)", epilog=EPILOG,
                    validate=checks(("T", "lam", "bloch_gruneisen", "plasma_eV"), files=("spectrum",)))
    p.add_argument("--spectrum", metavar="ALPHA2F", help="transport spectrum alpha^2F_tr (same syntax as alpha^2F)")
    p.add_argument("--lam", type=finite, default=None, metavar="LAMBDA_TR", help="lambda_tr")
    p.add_argument("--bloch-gruneisen", type=finite, default=None, metavar="THETA",
                   help="use the Bloch-Grueneisen closed form with Debye temperature THETA instead of --spectrum")
    p.add_argument("--T", type=finite, nargs="+", required=True, help="temperatures")
    p.add_argument("--plasma-eV", type=finite, default=None, help="hbar*omega_p in eV, for rho in uOhm cm")
    p.add_argument("--energy-unit", choices=("meV", "eV", "K"), default="meV",
                   help="unit of the spectrum's energies when converting to rho (default meV)")
    p.add_argument("--units", choices=("g", "plain"), default="g",
                   help="energy units of --spectrum and --T (default g; rho needs plain, the spectrum's own unit)")
    add_output(p, "summary.json")


def _zinv_ok(args):
    if args.points < 3:
        raise InputError(f"--points must be >= 3 (got {args.points})")
    spectrum_ok(args)


def _cel_ok(args):
    if args.T_range is not None and not args.T_range[0] < args.T_range[1]:
        raise InputError(f"--T-range {args.T_range[0]:g} {args.T_range[1]:g}: give T_lo < T_hi")
    spectrum_ok(args)


def info(args):
    """Versions of the numerical stack (and MUMPS availability)."""
    from ..petsc_env import versions

    return versions()


def spectrum(args):
    """Moments of alpha^2F and the Allen-Dynes / McMillan T_c."""
    out = output_dir(args.output)
    res = {"spectrum": args.spectrum, "units": args.units}
    res.update(api.spectrum_moments(args.spectrum, args.lam, args.units, args.mu_star))
    files = []
    if out:
        from ..plots import plot_spectrum

        s = make_spectrum(args.spectrum, args.lam, args.units)
        grid = np.linspace(0.0, 1.1 * s.omega_max, 600)
        cont = s.alpha2f(grid) if s.density is not None else None
        peaks = (s.omega, 2.0 * s.weight / s.omega) if s.omega.size else None
        files.append(plot_spectrum(os.path.join(out, "spectrum.png"), grid, cont, peaks, args.units))
    return finish(args, res, files)


def zinv(args):
    """Z0^-1(E) at T0 (Eq. (5)) or in the strong-coupling limit (Eq. (S38))."""
    out = output_dir(args.output)
    r = api.zinv(args.T0, args.spectrum, args.lam, args.units, args.strong_coupling)
    res = r if args.strong_coupling else dict({"spectrum": args.spectrum, "units": args.units}, **r)
    files = []
    if out:
        from ..plots import plot_zinv

        E = np.linspace(0.0, args.E_max or r["_E_max"], args.points)
        z = r["_curve"](E)
        files.append(write_csv(os.path.join(out, "zinv.csv"), ["E", "zinv"], zip(E, z)))
        label = args.spectrum or "strong coupling"
        files.append(plot_zinv(os.path.join(out, "zinv.png"), E, {f"{label}, T0={args.T0:g}": z},
                               res["units"], res.get("zeros", ()), r"$Z_0^{-1}(E)$"))
    return finish(args, res, files)


def two_temp(args):
    """Eq. (16): relaxation rate at T0 and T(t) from T_in (runaway to T_-/T_+ where C_el < 0)."""
    from ephkin.pde.two_temperature import evolve_temperature, relaxation_rate

    out = output_dir(args.output)
    s = make_spectrum(args.spectrum, args.lam, args.units)
    sol = evolve_temperature(s, args.T0, args.T_in, args.t_end)
    res = {"spectrum": args.spectrum, "units": args.units}
    res.update({"lambda": s.lam, "T0": args.T0, "T_in": args.T_in, "relaxation_rate": relaxation_rate(s, args.T0),
                "cel_over_free_T0": float(eq.cel_ratio(s, np.array([args.T0]))[0]),
                "T_final": float(sol.y[0, -1]), "t_final": float(sol.t[-1])})
    if sol.status == 1:
        res["status"] = "runaway"
        res["reason"] = "C_el < 0: T ran to where C_el = 0 (T_- or T_+, Fig. 3)"
    else:
        res["status"] = "relaxes" if res["relaxation_rate"] > 0 else "runaway"
    files = []
    if out:
        files.append(write_csv(os.path.join(out, "temperature.csv"), ["t", "T"], zip(sol.t, sol.y[0])))
    return finish(args, res, files)


def cel(args):
    """C_el(T)/C_free (Eq. (S14)) at fixed frequencies: T_-, T_+ and lambda_min; epsilon(T) (Fig. 3)."""
    out = output_dir(args.output)
    s = make_spectrum(args.spectrum, args.lam, args.units)
    wl = s.omega_log
    lo, hi = args.T_range or (0.01 * wl, 5.0 * wl)
    res = {"spectrum": args.spectrum, "units": args.units}
    res.update({"lambda": s.lam, "omega_ref": wl, "omega_ref_definition": "omega_log"})
    res.update(cel_analysis(s, lo, hi))
    for k in ("T_minus", "T_plus"):
        res[k + "_over_omega"] = None if res[k] is None else res[k] / wl
    files = []
    if out:
        from ..plots import plot_cel

        T = np.linspace(lo, hi, 400)
        ratio, energy, c = eq.cel_ratio(s, T), eq.electronic_energy(s, T), eq.cel(s, T)
        files.append(write_csv(os.path.join(out, "cel.csv"), ["T", "cel_over_free", "cel", "energy"],
                               zip(T, ratio, c, energy)))
        files.append(plot_cel(os.path.join(out, "cel.png"), T, ratio, energy,
                              (res["T_minus"], res["T_plus"]), args.units))
    return finish(args, res, files)


def transport(args):
    """1/tau_tr(T) (Allen's formula on alpha^2F_tr, or Bloch-Grueneisen) and rho(T)."""
    output_dir(args.output)
    T = np.asarray(args.T, dtype=float)
    if args.bloch_gruneisen is not None:
        if args.spectrum:
            raise InputError("give either --spectrum or --bloch-gruneisen THETA, not both")
        lam_tr = 1.0 if args.lam is None else args.lam
        rate = phonons.bloch_gruneisen_rate(lam_tr, args.bloch_gruneisen, T)
        res = {"model": "Bloch-Grueneisen", "theta": args.bloch_gruneisen, "lambda_tr": lam_tr}
    else:
        if not args.spectrum:
            raise InputError("--spectrum (alpha^2F_tr) or --bloch-gruneisen THETA is required")
        s = make_spectrum(args.spectrum, args.lam, args.units)
        rate = phonons.transport_rate(*s.nodes(), T)
        res = {"model": "Allen (alpha^2F_tr)", "spectrum": args.spectrum, "lambda_tr": s.lam}
    if args.bloch_gruneisen is None:
        res["units"] = args.units
    res.update({"T": T.tolist(), "rate": np.atleast_1d(rate).tolist()})
    if args.plasma_eV is not None:
        if args.units != "plain" and args.bloch_gruneisen is None:
            raise InputError("--plasma-eV: rho needs the rate in the spectrum's own energy unit (--energy-unit); "
                             "add --units plain")
        rho = phonons.resistivity(rate, args.plasma_eV, args.energy_unit)
        res.update({"rho_uOhm_cm": np.atleast_1d(rho).tolist(), "energy_unit": args.energy_unit})
    return finish(args, res)
