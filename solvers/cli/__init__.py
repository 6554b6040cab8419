"""The ``ephkin`` command line.

Every subcommand has ``--help``; ``--json`` prints exactly one JSON object on
stdout and nothing else there; ``-o DIR`` writes ``summary.json`` (results and
provenance), CSV tables and PNG plots into DIR.  Bad input ends with a
one-line message naming the parameter and exit status 2, never a traceback
(set EPHKIN_DEBUG=1 to see one for internal errors).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time


from ephkin.pde.errors import InputError

from .. import avalanche, commands, nac
from ..options import pop_options, push_options, report_unused, split_petsc_options
from ..petsc_env import init_petsc
from ..provenance import to_jsonable

EPILOG = "Energies and temperatures are in units of g (g^2 = 2 int omega a2F) unless --units plain."


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) instead of usage dumps; raises InputError
    instead while run-file points are being parsed (``RAISE[0]``)."""

    def error(self, message):
        if RAISE[0]:
            raise InputError(message)
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


RAISE = [False]
_PARSER = []  # built once: a sweep parses every point


def model_options(model):
    """The option strings (``--T0``, ...) of a subcommand (nested ones as "nac sigma")."""
    p = build_parser()
    for word in model.split():
        sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        p = sub.choices[word]
    return {o for act in p._actions for o in act.option_strings}


def parse_point(argv):
    """Parse one run-file point as a command line; InputError (not exit) on bad keys or values."""
    RAISE[0] = True
    try:
        if not _PARSER:
            _PARSER.append(build_parser())
        return _PARSER[0].parse_args(argv)
    finally:
        RAISE[0] = False


def _finite(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be finite: {text!r}")
    return v


def _add_common(p, spectrum=True, lam=True, units="g", t0=None):
    if spectrum:
        p.add_argument("--spectrum", required=True, metavar="SPEC",
                       help="alpha^2F: einstein | modes:RMIN-RMAX | peaks:W:L[,W:L] | debye[:WD] | "
                            "lorentz:C:G[,C:G] | file:PATH[:COL]")
    if lam:
        p.add_argument("--lam", type=_finite, default=None, metavar="LAMBDA",
                       help="electron-phonon coupling lambda (default: the spectrum's own, 1 for built-in shapes)")
    p.add_argument("--units", choices=("g", "plain"), default=units,
                   help=f"energy units: g (g = 1, frequencies scale with lambda) or plain (the spectrum's "
                        f"own frequency unit) (default: {units})")
    if t0:
        p.add_argument("--T0", type=_finite, required=True, help=t0)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument("-o", "--output", metavar="DIR", help="write summary.json, CSV tables and PNG plots here")


def _add_grid(p):
    p.add_argument("--kernel", choices=("exact", "paper"), default="exact",
                   help="kernel of A: exact (grid units, SPEC section 1) or paper (suppressed by eps^2, "
                        "reproduces seed 000 Table S1 column 2) (default exact)")
    p.add_argument("--pv", choices=("subtracted", "dropped"), default=None,
                   help="principal value at the kernel's poles: subtracted (pole subtracted analytically, "
                        "third order; default for --kernel exact) or dropped (the seed's rule, first order; "
                        "default for --kernel paper)")
    p.add_argument("--refine", type=int, default=1, help="divide the default grid step by this integer (default 1)")
    p.add_argument("--grid-step", type=_finite, default=None, help="energy grid step eps (overrides the default)")
    p.add_argument("--cutoff", type=_finite, default=None,
                   help="energy cutoff Lambda of the folded grid (default max(2 omega_max + 30 T0, 6 g))")


def build_parser():
    ap = _Parser(prog="ephkin", description="Electron-phonon kinetics of metals: Eliashberg toolkit and "
                 "kinetic instability (seed papers in ../shared/seeds).", epilog=EPILOG)
    ap.add_argument("--version", action="version", version=f"ephkin {commands.version()}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("info", help="versions of ephkin, PETSc, SLEPc, MPI, numpy, scipy; MUMPS availability")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=commands.info)

    p = sub.add_parser("spectrum", help="moments of alpha^2F (lambda, g, omega_log, <omega^2>) and T_c",
                       epilog=EPILOG)
    _add_common(p)
    p.add_argument("--mu-star", type=_finite, default=0.10, help="Coulomb pseudopotential (default 0.10)")
    p.set_defaults(func=commands.spectrum)

    p = sub.add_parser("zinv", help="Z0^-1(E) (Eq. 5 / S38): minimum, zeros, interval where Z0^-1 < 0",
                       epilog=EPILOG)
    p.add_argument("--strong-coupling", action="store_true",
                   help="use the lambda -> infinity limit, Eq. (S38) (no --spectrum needed; units of g)")
    p.add_argument("--spectrum", metavar="SPEC", help="alpha^2F spec (see 'ephkin lambda-c --help')")
    p.add_argument("--lam", type=_finite, default=None, metavar="LAMBDA", help="coupling lambda")
    p.add_argument("--T0", type=_finite, required=True, help="temperature T0")
    p.add_argument("--units", choices=("g", "plain"), default="g", help="energy units (default g)")
    p.add_argument("--E-max", type=_finite, default=None, help="largest energy of the table/plot")
    p.add_argument("--points", type=int, default=801, help="points of the Z0^-1(E) table (default 801)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument("-o", "--output", metavar="DIR", help="write summary.json, zinv.csv and zinv.png here")
    p.set_defaults(func=commands.zinv)

    p = sub.add_parser("lambda-c", help="critical coupling lambda_c(T0) of the kinetic instability",
                       epilog=EPILOG)
    _add_common(p, lam=False)
    p.add_argument("--T0", type=_finite, nargs="+", required=True, help="one or more temperatures T0")
    p.add_argument("--method", choices=("zinv", "linear"), default="zinv",
                   help="zinv: min_E Z0^-1(E) = 0, Eq. (10)/(S21) (default); linear: A of Eq. (14) "
                        "acquires a negative eigenvalue (Sylvester: the first gamma < 0)")
    p.add_argument("--lam-max", type=_finite, default=1e4, help="largest lambda searched (default 1e4)")
    _add_grid(p)
    p.add_argument("--grid", choices=("uniform", "graded"), default="uniform",
                   help="linear: uniform folded grid (default), or graded nodes (fine near E = 0 and the zeros "
                        "of Z0^-1) with hat functions, integrated on the uniform grid (Rayleigh-Ritz)")
    p.add_argument("--h-min", type=_finite, default=None, help="graded grid: smallest node spacing (default max(T0/8, 3 grid steps))")
    p.add_argument("--solver", choices=("auto", "dense", "slepc", "inertia"), default="auto",
                   help="linear: matrix-free SLEPc (auto, the default) or dense LAPACK smallest eigenvalue of "
                        "A_hat, or bisection on the MUMPS inertia")
    p.add_argument("--converge", type=int, nargs="?", const=4, default=None, metavar="LEVELS",
                   help="linear: refine the grid LEVELS times by 2 and print each lambda_c, the observed "
                        "order and a Richardson estimate (default 4 levels)")
    p.set_defaults(func=commands.lambda_c, accepts_petsc=True)

    p = sub.add_parser("stability", help="linear stability gamma A phi = M phi (Eq. 14) with SLEPc: gamma "
                       "nearest 0, inertia counts, temperature-mode check", epilog=EPILOG + " PETSc/SLEPc "
                       "options go under -stab_ (e.g. -stab_eps_nev 10 -stab_eps_type krylovschur).")
    _add_common(p, t0="temperature T0")
    p.add_argument("--nev", type=int, default=6, help="number of gamma nearest the target (default 6)")
    p.add_argument("--target", type=_finite, default=None, help="shift-and-invert target for gamma (default 0-)")
    _add_grid(p)
    p.add_argument("--a-ee", type=_finite, default=0.0,
                   help="weight of electron-electron collisions, M = M^ep + a_ee M^ee (Eq. 15, S22-S25); "
                        "dense, small grids only (default 0)")
    p.add_argument("--p-ee-width", type=_finite, default=0.3,
                   help="width w of the transition probability P(omega) = exp(-omega^2/2w^2) (default 0.3)")
    p.add_argument("--lam-scan", type=_finite, nargs=3, default=None, metavar=("LMIN", "LMAX", "N"),
                   help="also scan lambda over N values and plot gamma(lambda) (Fig. 2) with -o")
    p.set_defaults(func=commands.stability, accepts_petsc=True)

    p = sub.add_parser("evolve", help="the full kinetic equation (Eq. 1/S26) with PETSc TS from f0(T_in): "
                       "relaxation or instability", epilog=EPILOG + " PETSc options go under -kin_ "
                       "(e.g. -kin_ts_type arkimex -kin_ts_monitor).")
    _add_common(p, t0="phonon (bath) temperature T0")
    p.add_argument("--T-in", type=_finite, required=True, help="initial electron temperature T_in (Eq. S29)")
    p.add_argument("--t-end", type=_finite, required=True, help="final time (rescaled, pi t -> t)")
    p.add_argument("--rtol", type=_finite, default=1e-6, help="TS relative tolerance (default 1e-6)")
    p.add_argument("--atol", type=_finite, default=1e-10, help="TS absolute tolerance (default 1e-10)")
    p.add_argument("--refine", type=int, default=1, help="divide the default grid step by this integer")
    p.add_argument("--grid-step", type=_finite, default=None, help="energy grid step (overrides the default)")
    p.add_argument("--cutoff", type=_finite, default=None, help="energy cutoff Lambda (default as lambda-c)")
    p.add_argument("--growth-limit", type=_finite, default=100.0,
                   help="report 'unstable' when max|f - f0| exceeds this factor times its initial value")
    p.add_argument("--reference", action="store_true",
                   help="also integrate with SciPy's BDF (dense, small N) and report the difference")
    p.set_defaults(func=commands.evolve, accepts_petsc=True)

    p = sub.add_parser("two-temp", help="two-temperature equation (Eq. 16): T(t) from T_in with C_el(T); runs "
                       "away to T_-/T_+ where C_el < 0 (Fig. 3)",
                       epilog="Temperatures in the spectrum's own units by default (Einstein: units of Omega).")
    _add_common(p, units="plain", t0="phonon (bath) temperature T0")
    p.add_argument("--T-in", type=_finite, required=True, help="initial electron temperature")
    p.add_argument("--t-end", type=_finite, default=1000.0, help="final time (rescaled, default 1000)")
    p.set_defaults(func=commands.two_temp)

    p = sub.add_parser("cel", help="electronic specific heat C_el(T) (S11-S14): window where C_el < 0",
                       epilog="Temperatures in the spectrum's own units by default (Einstein: units of Omega).")
    _add_common(p, units="plain")
    p.add_argument("--T-range", type=_finite, nargs=2, default=None, metavar=("TLO", "THI"),
                   help="temperature range scanned (default 0.01..5 omega_log)")
    p.set_defaults(func=commands.cel)

    p = sub.add_parser("transport", help="transport rate 1/tau_tr(T) and resistivity from alpha^2F_tr "
                       "(Allen; Bloch-Grueneisen)", epilog=EPILOG)
    p.add_argument("--spectrum", metavar="SPEC", help="transport spectrum alpha^2F_tr (same syntax as alpha^2F)")
    p.add_argument("--lam", type=_finite, default=None, metavar="LAMBDA_TR", help="lambda_tr")
    p.add_argument("--bloch-gruneisen", type=_finite, default=None, metavar="THETA",
                   help="use the Bloch-Grueneisen closed form with Debye temperature THETA instead of --spectrum")
    p.add_argument("--T", type=_finite, nargs="+", required=True, help="temperatures")
    p.add_argument("--plasma-eV", type=_finite, default=None, help="hbar*omega_p in eV, for rho in uOhm cm")
    p.add_argument("--energy-unit", choices=("meV", "eV", "K"), default="meV",
                   help="unit of the spectrum's energies when converting to rho (default meV)")
    p.add_argument("--units", choices=("plain", "g"), default="plain", help="energy units (default plain)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument("-o", "--output", metavar="DIR", help="write summary.json here")
    p.set_defaults(func=commands.transport)

    _add_nac(sub)
    _add_avalanche(sub)

    p = sub.add_parser("run", help="one job from a run file (TOML), or without FILE the built-in default job "
                       "(Table S1, Fig. 1 insets, Fig. 3, Fig. S1/S2): results and PNGs in -o DIR")
    p.add_argument("file", nargs="?", metavar="FILE", help="run file (see runs/README.md); omit for the default job")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("-o", "--output", metavar="DIR", default="out", help="output directory (default out)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    p.set_defaults(func=commands.run, accepts_petsc=True)

    p = sub.add_parser("converge", help="refine one numerical parameter of a run file: each level's result, "
                       "the observed order and a Richardson estimate with its error bar")
    p.add_argument("file", metavar="FILE", help="run file with one point")
    p.add_argument("--param", required=True, help="parameter to refine: grid_step (divided) or refine (multiplied)")
    p.add_argument("--factor", type=_finite, default=2.0, help="refinement factor per level (default 2)")
    p.add_argument("--levels", type=int, default=4, help="number of levels (>= 3, default 4)")
    p.add_argument("--key", default="lambda_c", help="result to follow (default lambda_c)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument("-o", "--output", metavar="DIR", help="write summary.json here")
    p.set_defaults(func=commands.converge, accepts_petsc=True)

    p = sub.add_parser("sweep", help="all points of a run file, distributed over MPI ranks (mpirun -n N "
                       "ephkin sweep FILE), resumable", epilog="Each finished point is written at once "
                       "(points/NNNNN.json); --resume recomputes none of them.")
    p.add_argument("file", metavar="FILE", help="run file with a [sweep] table (see runs/README.md)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("-o", "--output", metavar="DIR", default="out/sweep", help="output directory")
    p.add_argument("--resume", action="store_true", help="keep finished points and compute only the others")
    p.add_argument("--group-size", type=int, default=1, help="ranks per point: groups of K ranks solve each point with PETSc on their sub-communicator (1)")
    p.add_argument("--fields", action="store_true",
                   help="also write each point's own outputs (f(E,t) XDMF time series, PNG plots, summary.json) "
                        "into DIR/fields/NNNNN/")
    p.add_argument("--points", default=None, metavar="START:STOP",
                   help="only these point indices (array jobs of a batch scheduler: give each job a range and "
                        "the same -o DIR; every job's final merge includes all points finished so far)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    p.set_defaults(func=commands.sweep, accepts_petsc=True)
    return ap


def _zeta(text):
    if text.strip().lower() in ("inf", "infinity"):
        return math.inf
    v = _finite(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 or inf: {text!r}")
    return v


def _nac_common(p):
    p.add_argument("--dos", default="semicircle", metavar="DOS",
                   help="semicircle[:W=1] | cosine[:tau=const|dos,eta=0.05] | cubic[:nk=32] | file:PATH (default "
                        "semicircle, the trial DoS)")
    p.add_argument("--mu", type=_finite, default=None, help="chemical potential in units of W (or --filling)")
    p.add_argument("--filling", type=_finite, default=None, help="band filling in (0, 1) (default 0.5)")
    p.add_argument("--T", type=_finite, default=0.003, help="bath and initial temperature T/W (default 0.003)")
    p.add_argument("--omega-p", type=_finite, required=True, help="phonon energy omega_p/W")
    p.add_argument("--gamma-in", type=_finite, default=0.0, help="inelastic rate Gamma_in/Gamma_eph, Eq. (6) (0)")
    p.add_argument("--field", type=_finite, default=0.0,
                   help="DC field F = eEv_F sqrt(tau_tr/Gamma_eph)/W, Eq. (7) (0)")
    p.add_argument("--delta-omega", type=_finite, default=0.0, help="dispersive phonon width, Eq. (52) (0)")
    p.add_argument("--refine", type=_finite, default=1.0, help="energy-grid density factor (default 1)")
    p.add_argument("--rtol", type=_finite, default=1e-8, help="TS relative tolerance (default 1e-8)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument("-o", "--output", metavar="DIR", help="write summary.json, CSV tables and PNG plots here")


def _nested(sub, name, help, epilog):
    """A command with actions ("ephkin nac sigma"): returns the actions' subparsers."""
    p = sub.add_parser(name, help=help, epilog=epilog)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    return actions


def _add_nac(sub):
    nsub = _nested(sub, "nac", "negative absolute conductivity of photoexcited metals (seed 001): 'nac sigma', "
                   "'nac evolve'", "Energies in units of the bandwidth W, times in 1/Gamma_eph.")
    q = nsub.add_parser("sigma", help="sigma/sigma0 at fixed zeta: Eq. (8) (--zeta inf) or Eq. (2) evolved for "
                        "--t-end with PETSc TS; --E-star: the field with sigma(E*) = 0 (Fig. 2e)")
    _nac_common(q)
    q.add_argument("--zeta", type=_zeta, required=True, help="phonon population zeta (a number or inf)")
    q.add_argument("--t-end", type=_finite, default=10.0, help="evolution time Gamma_eph t (default 10, the seed's)")
    q.add_argument("--steady", action="store_true", help="the t -> inf steady state instead of t = --t-end")
    q.add_argument("--E-star", action="store_true", help="also E* with sigma(E*) = 0 and omega_E (Fig. 2e, 3b)")
    q.set_defaults(func=nac.sigma, accepts_petsc=True)
    q = nsub.add_parser("evolve", help="transient after a pump pulse (Fig. 3): sigma(t), zeta(t), f(eps, t), "
                        "with --spontaneous the field E*(t) of the sigma < 0 instability")
    _nac_common(q)
    q.add_argument("--pump", choices=("pulse", "steady", "none"), default="pulse", help="I_p(t) (default pulse)")
    q.add_argument("--zeta0", type=_finite, default=10.0, help="pump strength zeta0 (default 10)")
    q.add_argument("--zeta-initial", type=_finite, default=0.0, help="zeta at t = 0 (default 0)")
    q.add_argument("--tau-pulse", type=_finite, default=0.3, help="pulse width Gamma_eph tau_pulse (default 0.3)")
    q.add_argument("--tau-ph", type=_zeta, default=5.0, help="anharmonic decay time Gamma_eph tau_ph (default 5)")
    q.add_argument("--spontaneous", action="store_true", help="self-tuned field E*(t) keeping sigma >= 0 (Fig. 3b)")
    q.add_argument("--tau-M", type=_finite, default=1e-3, help="field response time (default 1e-3 / Gamma_eph)")
    q.add_argument("--t-end", type=_finite, default=15.0, help="final time Gamma_eph t (default 15)")
    q.set_defaults(func=nac.evolve, accepts_petsc=True)


def _avalanche_common(p, delta=False):
    p.add_argument("--gamma", type=_finite, required=True, help="bath dephasing rate Gamma (> 0)")
    p.add_argument("--g-ep", type=_finite, required=True, help="electron-phonon coupling g_ep (> 0)")
    p.add_argument("--omega0", type=_finite, required=True, help="Einstein phonon energy omega0 (> 0)")
    p.add_argument("--T", type=_finite, default=0.0 if not delta else 0.01,
                   help=f"bath temperature (default {0.0 if not delta else 0.01})")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument("-o", "--output", metavar="DIR", help="write summary.json, CSV tables and PNG plots here")


def _add_avalanche(sub):
    asub = _nested(sub, "avalanche", "quantum avalanche of a DC-biased band (seed 003): 'avalanche criterion', "
                   "'avalanche curve', 'avalanche lattice'",
                   "Units hbar = e = k_B = 1, t a^2 = hbar^2/2m = 1 (the seed's lattice: m = 1/2).")
    q = asub.add_parser("criterion", help="Eqs. (11)-(16): beta, beta_c, x0, both roots E_av < E_av_upper of "
                        "lambda(E) = 1, Eq. (12), T*")
    q.add_argument("--mass", type=_finite, default=0.5, help="band mass m (default 1/2, the seed's lattice)")
    _avalanche_common(q)
    q.set_defaults(func=avalanche.criterion)
    q = asub.add_parser("curve", help="lambda(E) of Eq. (A6) against lambda' of Eq. (A7) (Fig. 6)")
    q.add_argument("--mass", type=_finite, default=0.5, help="band mass m (default 1/2)")
    q.add_argument("--E-range", type=_finite, nargs=3, default=[3e-4, 5e-2, 40], metavar=("EMIN", "EMAX", "N"),
                   help="log grid of fields (default 3e-4 5e-2 40)")
    _avalanche_common(q)
    q.set_defaults(func=avalanche.curve)
    q = asub.add_parser("lattice", help="steady state of the biased tight-binding chain with fermion baths and "
                        "Holstein phonons (SCBA, Keldysh): n_ex, current, spectra")
    q.add_argument("--delta", type=_finite, default=1.0, help="band bottom above the bath Fermi level (default 1)")
    q.add_argument("--E", type=_finite, required=True, help="DC field (potential drop per site)")
    q.add_argument("--n-omega", type=int, default=2**16, help="frequency points (default 2^16); the step is "
                   "adjusted to divide E and the adjustment reported")
    q.add_argument("--solver", choices=("anderson", "snes"), default="anderson",
                   help="Anderson mixing in numpy (default) or PETSc SNES (SNESANDERSON by default; any "
                   "-aval_snes_type)")
    q.add_argument("--tol", type=_finite, default=1e-8, help="residual tolerance (default 1e-8)")
    q.add_argument("--branching", action="store_true",
                   help="also the replica branching ratios (Perron roots of the lesser generation map) with "
                        "the SCBA-dressed propagators (branching_scba, < 1) and with Gamma-only ones as in the "
                        "seed's Eq. (10) (branching_bare; > 1 is the seed's avalanche)")
    _avalanche_common(q, delta=True)
    q.set_defaults(func=avalanche.lattice, accepts_petsc=True)
    q = asub.add_parser("replica", help="lattice avalanche criterion: lambda_lat(E) = 1 for the replica map of "
                        "the chain with Gamma-damped propagators (Eq. (10) on the lattice), beside Eq. (11)")
    q.add_argument("--delta", type=_finite, default=1.0, help="band bottom above the bath Fermi level (default 1)")
    q.add_argument("--E-range", type=_finite, nargs=3, default=[1e-4, 0.05, 16], metavar=("EMIN", "EMAX", "N"),
                   help="log scan of fields (default 1e-4 0.05 16)")
    q.add_argument("--generation", choices=("band_edge", "perron"), default="band_edge",
                   help="band_edge: ratio of the first two generations from a band-bottom source (the seed's "
                        "Eq. (A6) construction, default); perron: spectral radius of the replica map")
    _avalanche_common(q)
    q.set_defaults(func=avalanche.replica)


def _print_human(result, stream=sys.stdout):
    for k, v in result.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            print(f"{k}:", file=stream)
            keys = list(v[0].keys())
            print("  " + "  ".join(f"{c:>14s}" for c in keys), file=stream)
            for row in v:
                print("  " + "  ".join(f"{_fmt(row.get(c)):>14s}" for c in keys), file=stream)
        elif isinstance(v, dict):
            print(f"{k}: " + json.dumps(to_jsonable(v)), file=stream)
        else:
            print(f"{k}: {_fmt(v)}", file=stream)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.10g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _terminate(signum, frame):
    """SIGTERM (kill, batch-system time limits) -> KeyboardInterrupt: cleanup and output files still run."""
    raise KeyboardInterrupt


def main(argv=None):
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    ours, petsc_opts = split_petsc_options(argv)
    args = parser.parse_args(ours)
    args.petsc_options = petsc_opts
    if petsc_opts and not getattr(args, "accepts_petsc", False):
        parser.error(f"{args.command} takes no PETSc options (got {' '.join(petsc_opts)})")
    t0 = time.perf_counter()
    PETSc = None
    try:
        if petsc_opts:
            PETSc, _ = init_petsc(["ephkin"])
            push_options(PETSc, petsc_opts)
        result = args.func(args)
        if petsc_opts:
            report_unused(petsc_opts, ["stab_", "kin_", "nac_", "aval_"])
            pop_options(PETSc, petsc_opts)
    except InputError as exc:
        print(f"ephkin {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ephkin {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, not a traceback; EPHKIN_DEBUG=1 shows it
        if os.environ.get("EPHKIN_DEBUG"):
            raise
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [""]
        msg = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
        print(f"ephkin {args.command}: internal error: {type(exc).__name__}: {msg} "
              "(rerun with EPHKIN_DEBUG=1 for a traceback, and please report it)", file=sys.stderr)
        return 1
    result = dict(result)
    result.setdefault("elapsed_s", round(time.perf_counter() - t0, 4))
    if commands._launcher_rank() != 0:
        return 0  # under mpirun only rank 0 prints
    try:
        if getattr(args, "json", False):
            json.dump(to_jsonable(result), sys.stdout)
            sys.stdout.write("\n")
        else:
            _print_human(result)
        sys.stdout.flush()
    except BrokenPipeError:  # `ephkin ... | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
