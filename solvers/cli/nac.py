"""Negative absolute conductivity of photoexcited metals (seed 001): ``nac sigma``, ``nac evolve``."""

from __future__ import annotations

import os

import numpy as np

from ephkin.pde.errors import InputError

from .. import api
from ..prefixes import NAC
from .common import RunningSummary, add_command, add_family, add_flush_every, add_output, checks, finish, finite, \
    nonnegative_or_inf, output_dir, progress, write_csv

#: The band and bath numbers of both actions (_common): signs checked before anything runs.
BAND_POSITIVE, BAND_NONNEGATIVE = ("omega_p", "T", "refine", "rtol"), ("gamma_in", "delta_omega")


def _band_ok(args):
    if args.filling is not None and not 0 < args.filling < 1:
        raise InputError(f"filling must lie in (0, 1) (got {args.filling}); e.g. 0.5 for half filling", "filling")
    if args.filling is not None and args.mu is not None:
        raise InputError("give either mu or filling, not both", "mu")

#: PETSc option prefixes read by this family's solvers (the TS of Eqs. (2)-(3)).
PETSC_PREFIXES = (NAC,)


def _common(p):
    p.add_argument("--dos", default="semicircle", metavar="DOS",
                   help="semicircle[:W=1] | cosine[:tau=const|dos,eta=0.05] | cubic[:nk=32] | file:PATH (default "
                        "semicircle, the trial DoS)")
    p.add_argument("--mu", type=finite, default=None, help="chemical potential in units of W (or --filling)")
    p.add_argument("--filling", type=finite, default=None, help="band filling in (0, 1) (default 0.5)")
    p.add_argument("--T", type=finite, default=0.003, help="bath and initial temperature T/W (default 0.003)")
    p.add_argument("--omega-p", type=finite, required=True, help="phonon energy omega_p/W")
    p.add_argument("--gamma-in", type=finite, default=0.0, help="inelastic rate Gamma_in/Gamma_eph, Eq. (6) (0)")
    p.add_argument("--field", type=finite, default=0.0,
                   help="DC field F = eEv_F sqrt(tau_tr/Gamma_eph)/W, Eq. (7) (0)")
    p.add_argument("--delta-omega", type=finite, default=0.0, help="dispersive phonon width, Eq. (52) (0)")
    p.add_argument("--refine", type=finite, default=1.0, help="energy-grid density factor (default 1)")
    p.add_argument("--rtol", type=finite, default=1e-8, help="TS relative tolerance (default 1e-8)")
    add_output(p)


def add_commands(sub):
    nsub = add_family(sub, "nac", "negative absolute conductivity of photoexcited metals (seed 001): "
                      "'nac sigma', 'nac evolve'", "Energies in units of the bandwidth W, times in 1/Gamma_eph.")
    q = add_command(nsub, "sigma", sigma, "sigma/sigma0 at fixed zeta: Eq. (8) (--zeta inf) or Eq. (2) evolved "
                    "for --t-end with PETSc TS; --E-star: the field with sigma(E*) = 0 (Fig. 2e)", PETSC_PREFIXES,
                    validate=checks(BAND_POSITIVE + ("t_end",), BAND_NONNEGATIVE, ("dos",), _band_ok))
    _common(q)
    q.add_argument("--zeta", type=nonnegative_or_inf, required=True, help="phonon population zeta (a number or inf)")
    q.add_argument("--t-end", type=finite, default=10.0, help="evolution time Gamma_eph t (default 10, the seed's)")
    q.add_argument("--steady", action="store_true", help="the t -> inf steady state instead of t = --t-end")
    q.add_argument("--E-star", action="store_true", help="also E* with sigma(E*) = 0 and omega_E (Fig. 2e, 3b)")
    q = add_command(nsub, "evolve", evolve, "transient after a pump pulse (Fig. 3): sigma(t), zeta(t), f(eps, t), "
                    "with --spontaneous the field E*(t) of the sigma < 0 instability", PETSC_PREFIXES,
                    validate=checks(BAND_POSITIVE + ("t_end", "tau_pulse", "tau_M", "flush_every"),
                                    BAND_NONNEGATIVE + ("zeta0", "zeta_initial"), ("dos",), _band_ok))
    _common(q)
    q.add_argument("--pump", choices=("pulse", "steady", "none"), default="pulse", help="I_p(t) (default pulse)")
    q.add_argument("--zeta0", type=finite, default=10.0, help="pump strength zeta0 (default 10)")
    q.add_argument("--zeta-initial", type=finite, default=0.0, help="zeta at t = 0 (default 0)")
    q.add_argument("--tau-pulse", type=finite, default=0.3, help="pulse width Gamma_eph tau_pulse (default 0.3)")
    q.add_argument("--tau-ph", type=nonnegative_or_inf, default=5.0,
                   help="anharmonic decay time Gamma_eph tau_ph (default 5)")
    q.add_argument("--spontaneous", action="store_true", help="self-tuned field E*(t) keeping sigma >= 0 (Fig. 3b)")
    q.add_argument("--tau-M", type=finite, default=1e-3, help="field response time (default 1e-3 / Gamma_eph)")
    q.add_argument("--t-end", type=finite, default=15.0, help="final time Gamma_eph t (default 15)")
    add_flush_every(q)


def _band(args):
    return dict(dos=args.dos, mu=args.mu, filling=args.filling, T=args.T, gamma_in=args.gamma_in, field=args.field,
                delta_omega=args.delta_omega, refine=args.refine)


def sigma(args):
    """sigma/sigma0 of the nonequilibrium state at fixed zeta (Eq. (8), or Eq. (2) evolved)."""
    out = output_dir(args.output)
    res = api.nac_sigma(args.omega_p, args.zeta, t_end=args.t_end, steady=args.steady, E_star=args.E_star,
                        rtol=args.rtol, progress=progress, **_band(args))
    files = []
    if out:
        from ..plots import plot_nac_distribution

        files.append(plot_nac_distribution(os.path.join(out, "f_eps.png"), res["_eps"], res["_dos"], res["_f"],
                                           res["_f_T"], res))
        files.append(write_csv(os.path.join(out, "f_eps.csv"), ["eps", "D_over_DF", "f", "f_T"],
                               zip(res["_eps"], res["_dos"], res["_f"], res["_f_T"])))
    return finish(args, res, files)


def evolve(args):
    """The transient after a pump (Fig. 3): f(eps, t), zeta(t), sigma(t) and, with --spontaneous, the
    field E*(t) that keeps sigma >= 0 (the sigma < 0 instability)."""
    from contextlib import nullcontext

    from ..nac import describe, integrate, make_model
    from ..xdmf import HistoryCSV, SnapshotWriter

    out = output_dir(args.output)
    band = _band(args)
    model = make_model(band.pop("dos"), args.omega_p, pump=args.pump, zeta0=args.zeta0, tau_pulse=args.tau_pulse,
                       tau_ph=args.tau_ph, spontaneous=args.spontaneous, tau_M=args.tau_M, **band)
    writer = SnapshotWriter(out, model.eps, chunk_s=args.flush_every) if out else None
    last = {"t": -1.0}

    def report(t, t_end):
        if t - last["t"] >= 0.1 * t_end or t >= t_end:
            last["t"] = t
            progress(f"nac evolve: t = {t:.4g} / {t_end:g}")

    history = running = None
    if out:  # written as the run goes: the transient row by row, the summary with the time reached
        history = HistoryCSV(os.path.join(out, "transient.csv"), ["t", "sigma_over_sigma0", "zeta", "E_star",
                                                                 "particle_number", "energy"],
                             lambda t, v: (t, v["sigma"], v["zeta"], np.sqrt(max(v["field2"], 0.0)), v["N"],
                                           v["energy"]))
        running = RunningSummary(args, out, args.t_end, args.flush_every)

    def on_step(t, values):
        history(t, values)
        running.step(t)

    try:
        with running or nullcontext():
            run = integrate(model, model.initial(args.zeta_initial), args.t_end, rtol=args.rtol,
                            snapshots=writer, progress=report, on_step=on_step if out else None)
    finally:
        if writer is not None:
            writer.close()
            history.close()
    h = run["history"]
    E_star = np.sqrt(np.maximum(h["field2"], 0.0))
    res = describe(model)
    neg = h["sigma"] < 0
    res.update(pump=args.pump, zeta0=args.zeta0, tau_pulse=args.tau_pulse, tau_ph=args.tau_ph,
               spontaneous=args.spontaneous, t_end=args.t_end, steps=run["steps"],
               particle_number_drift=run["particle_number_drift"],
               sigma_min=float(h["sigma"].min()), t_sigma_min=float(h["t"][np.argmin(h["sigma"])]),
               sigma_negative_interval=[float(h["t"][neg][0]), float(h["t"][neg][-1])] if neg.any() else None,
               zeta_max=float(h["zeta"].max()), E_star_max=float(E_star.max()),
               E_star_on_interval=([float(h["t"][E_star > 0][0]), float(h["t"][E_star > 0][-1])]
                                   if (E_star > 0).any() else None),
               sigma_final=float(h["sigma"][-1]))
    files = []
    if out:
        from ..plots import plot_nac_distribution, plot_nac_transient

        res["run_status"] = "finished"
        files.append(history.path)
        files.append(plot_nac_transient(os.path.join(out, "transient.png"), h["t"], h["sigma"],
                                        h["zeta"] / max(args.zeta0, 1e-300), E_star, res))
        files.append(plot_nac_distribution(os.path.join(out, "f_final.png"), model.eps, model.D / model.DF,
                                           run["y"][:-1], model.fermi(), res))
        files += writer.files
    return finish(args, res, files)
