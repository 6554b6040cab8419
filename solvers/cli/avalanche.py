"""Quantum avalanche of a DC-biased band (seed 003): ``avalanche criterion``, ``curve``, ``lattice``,
``replica``."""

from __future__ import annotations

import os

import numpy as np

from ephkin.pde.errors import InputError

from .. import api
from ..prefixes import AVALANCHE
from .common import add_command, add_family, add_output, checks, finish, finite, output_dir, write_csv

#: Every avalanche command's bath and phonon numbers (_common): signs checked before anything runs.
RATES = ("gamma", "g_ep", "omega0")


def _e_range_ok(args):
    lo, hi, num = args.E_range
    if not 0 < lo < hi or int(num) < 2:
        raise InputError(f"--E-range {lo} {hi} {num}: give 0 < EMIN < EMAX and at least 2 points")

#: PETSc option prefixes read by this family's solvers (the SNES of the lattice steady state).
PETSC_PREFIXES = (AVALANCHE,)


def _common(p, delta=False):
    p.add_argument("--gamma", type=finite, required=True, help="bath dephasing rate Gamma (> 0)")
    p.add_argument("--g-ep", type=finite, required=True, help="electron-phonon coupling g_ep (> 0)")
    p.add_argument("--omega0", type=finite, required=True, help="Einstein phonon energy omega0 (> 0)")
    p.add_argument("--T", type=finite, default=0.0 if not delta else 0.01,
                   help=f"bath temperature (default {0.0 if not delta else 0.01})")
    add_output(p)


def add_commands(sub):
    asub = add_family(sub, "avalanche", "quantum avalanche of a DC-biased band (seed 003): 'avalanche criterion', "
                      "'avalanche curve', 'avalanche lattice'",
                      "Units hbar = e = k_B = 1, t a^2 = hbar^2/2m = 1 (the seed's lattice: m = 1/2).")
    q = add_command(asub, "criterion", criterion, "Eqs. (11)-(16): beta, beta_c, x0, both roots E_av < E_av_upper "
                    "of lambda(E) = 1, Eq. (12), T*",
                    validate=checks(RATES + ("mass",), ("T",)))
    q.add_argument("--mass", type=finite, default=0.5, help="band mass m (default 1/2, the seed's lattice)")
    _common(q)
    q = add_command(asub, "curve", curve, "lambda(E) of Eq. (A6) against lambda' of Eq. (A7) (Fig. 6)",
                    validate=checks(RATES + ("mass",), ("T",), also=_e_range_ok))
    q.add_argument("--mass", type=finite, default=0.5, help="band mass m (default 1/2)")
    q.add_argument("--E-range", type=finite, nargs=3, default=[3e-4, 5e-2, 40], metavar=("EMIN", "EMAX", "N"),
                   help="log grid of fields (default 3e-4 5e-2 40)")
    _common(q)
    q = add_command(asub, "lattice", lattice, "steady state of the biased tight-binding chain with fermion baths "
                    "and Holstein phonons (SCBA, Keldysh): n_ex, current, spectra", PETSC_PREFIXES,
                    validate=checks(("gamma", "omega0", "n_omega", "tol"), ("g_ep", "E", "T")))
    q.add_argument("--delta", type=finite, default=1.0, help="band bottom above the bath Fermi level (default 1)")
    q.add_argument("--E", type=finite, required=True, help="DC field (potential drop per site)")
    q.add_argument("--n-omega", type=int, default=2**16, help="frequency points (default 2^16); the step is "
                   "adjusted to divide E and the adjustment reported")
    q.add_argument("--solver", choices=("anderson", "snes"), default="anderson",
                   help="Anderson mixing in numpy (default) or PETSc SNES (SNESANDERSON by default; any "
                   "-aval_snes_type)")
    q.add_argument("--tol", type=finite, default=1e-8, help="residual tolerance (default 1e-8)")
    q.add_argument("--branching", action="store_true",
                   help="also the replica branching ratios (Perron roots of the lesser generation map) with "
                        "the SCBA-dressed propagators (branching_scba, < 1) and with Gamma-only ones as in the "
                        "seed's Eq. (10) (branching_bare; > 1 is the seed's avalanche)")
    _common(q, delta=True)
    q = add_command(asub, "replica", replica, "lattice avalanche criterion: lambda_lat(E) = 1 for the replica map "
                    "of the chain with Gamma-damped propagators (Eq. (10) on the lattice), beside Eq. (11)",
                    validate=checks(RATES, ("T",), also=_e_range_ok))
    q.add_argument("--delta", type=finite, default=1.0, help="band bottom above the bath Fermi level (default 1)")
    q.add_argument("--E-range", type=finite, nargs=3, default=[1e-4, 0.05, 16], metavar=("EMIN", "EMAX", "N"),
                   help="log scan of fields (default 1e-4 0.05 16)")
    q.add_argument("--generation", choices=("band_edge", "perron"), default="band_edge",
                   help="band_edge: ratio of the first two generations from a band-bottom source (the seed's "
                        "Eq. (A6) construction, default); perron: spectral radius of the replica map")
    _common(q)


def criterion(args):
    """The analytic avalanche criterion, Eqs. (11)-(16)."""
    return finish(args, api.avalanche_criterion(args.g_ep, args.gamma, args.omega0, args.mass, args.T))


def curve(args):
    """lambda(E) (A6) and lambda'(E) (A7) on a log grid in E (Fig. 6), with the roots of lambda = 1."""
    from ephkin.pde import avalanche as av

    out = output_dir(args.output)
    lo, hi, num = args.E_range  # checked by _e_range_ok
    E = np.geomspace(lo, hi, int(num))
    lam = av.lambda_a6(E, args.mass, args.g_ep, args.gamma, args.omega0)
    lam7 = av.lambda_a7(E, args.mass, args.g_ep, args.gamma, args.omega0)
    res = api.avalanche_criterion(args.g_ep, args.gamma, args.omega0, args.mass, args.T)
    window = (E >= res["E_av"]) & (E <= res["E_av_upper"]) if res["E_av"] is not None else np.zeros(E.size, bool)
    res["max_rel_diff_a7_a6_in_window"] = float(np.max(np.abs(lam7 / lam - 1)[window])) if window.any() else None
    res["curve"] = {"E": E.tolist(), "lambda_A6": lam.tolist(), "lambda_A7": lam7.tolist()}
    files = []
    if out:
        from ..plots import plot_avalanche_lambda

        files.append(write_csv(os.path.join(out, "lambda.csv"), ["E", "lambda_A6", "lambda_A7"], zip(E, lam, lam7)))
        files.append(plot_avalanche_lambda(os.path.join(out, "lambda.png"), E, lam, lam7, res))
    return finish(args, res, files)


def lattice(args):
    """One steady state of the biased Holstein chain (SCBA, Wannier-Stark reduced): n_ex, J, spectra."""
    out = output_dir(args.output)
    res = api.avalanche_lattice(args.gamma, args.g_ep, args.omega0, args.E, args.delta, args.T, args.n_omega,
                                args.solver, args.tol, args.branching)
    files = []
    if out:
        from ..plots import plot_avalanche_spectra

        sp = res["_spectra"]
        keep = slice(None, None, max(1, res["n_omega"] // 4096))
        files.append(write_csv(os.path.join(out, "spectra.csv"), ["omega", "A", "n", "occupation", "Re_sigma_R"],
                               zip(sp.omega[keep], sp.A[keep], sp.n[keep], sp.occupation[keep],
                                   np.real(sp.sigma_r[keep]))))
        files.append(plot_avalanche_spectra(os.path.join(out, "spectra.png"), sp, res))
    return finish(args, res, files)


def replica(args):
    """The lattice avalanche criterion: lambda_lat(E) = 1 for the replica map of the biased chain with
    Gamma-damped propagators (the seed's Eq. (10) on the lattice), next to the analytic Eq. (11)."""
    from ephkin.pde import keldysh

    lat = keldysh.lattice_avalanche_field(args.gamma, args.g_ep, args.omega0, args.delta, args.E_range[0],
                                          args.E_range[1], n_scan=int(args.E_range[2]), T=args.T,
                                          generation=args.generation)
    ana = api.avalanche_criterion(args.g_ep, args.gamma, args.omega0, 0.5, args.T)
    res = {"gamma": args.gamma, "g_ep": args.g_ep, "omega0": args.omega0, "delta": args.delta, "T": args.T,
           "generation": args.generation, "E_av_lattice": lat["E_av"], "E_av_upper_lattice": lat["E_av_upper"],
           "E_av_analytic": ana["E_av"], "E_av_upper_analytic": ana["E_av_upper"],
           "ratio_lattice_over_analytic": (lat["E_av"] / ana["E_av"] if lat["E_av"] and ana["E_av"] else None),
           "scan": {"E": np.asarray(lat["E"]).tolist(), "lambda_lat": np.asarray(lat["ratio"]).tolist()}}
    if "reason" in lat:
        res["reason"] = lat["reason"]
    return finish(args, res)
