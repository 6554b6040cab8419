"""Negative absolute conductivity (seed 001): PETSc TS for Eqs. (2), (3) and the ``ephkin nac`` commands.

The unknowns y = [f(eps_i), zeta] of ``pde.nac.NACModel`` are integrated in the
explicit form dy/dt = G(t, y) with an implicit method (BDF by default: St_in on
the fine grid near mu is stiff) and the assembled sparse Jacobian dG/dy, factorised
by LU (MUMPS on a sub-communicator).  Options under ``-nac_`` (``-nac_ts_type``,
``-nac_ts_rtol``, ``-nac_ksp_type`` ...).  The monitor records sigma/sigma0
(Eq. (9)), zeta, the field E*^2 in spontaneous mode (Fig. 3b), the particle
number and the energy int eps D f + omega_p zeta at every step.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ephkin.pde.dos import make_dos
from ephkin.pde.errors import InputError
from ephkin.pde.nac import NACModel, filling_at

from .bridge import aij, comm, gather, parallel, scatter, set_rows, vec
from .petsc_env import init_petsc

PREFIX = "nac_"

__all__ = ["integrate", "make_model", "sigma", "evolve"]


def integrate(model, y0, t_end, rtol=1e-8, atol=1e-11, snapshots=None, progress=None):
    """y(t_end) of dy/dt = model.rhs(t, y) with PETSc TS (BDF, sparse LU); returns a result dict with
    the final state and the history of sigma, zeta, E*^2, particle number and energy."""
    PETSc, _ = init_petsc()
    import scipy.sparse as sp

    y0 = np.asarray(y0, dtype=float)
    n = y0.size
    # the Jacobian's pattern: the links, the field operator (whatever F is now), the zeta row/column
    pattern = abs(model.jacobian(0.0, y0)) + sp.block_diag([abs(model.A_field), sp.csr_matrix((1, 1))])
    pattern = (pattern + sp.identity(n) + sp.csr_matrix((np.ones(2 * n), (np.r_[np.arange(n), np.full(n, n - 1)],
                                                                         np.r_[np.full(n, n - 1), np.arange(n)])),
                                                        shape=(n, n))).tocsr()
    J = aij(pattern, values=False)
    J.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    x = vec(y0)
    hist = {"t": [], "sigma": [], "zeta": [], "field2": [], "N": [], "energy": []}

    def rhs(ts, t, X, F):
        scatter(model.rhs(t, gather(X)), F)

    def jac(ts, t, X, Jm, Pm):
        set_rows(Pm, model.jacobian(t, gather(X)).tocsr())
        return True

    def monitor(ts, step, t, X):
        y = gather(X)
        f, zeta = y[:-1], y[-1]
        hist["t"].append(t)
        hist["sigma"].append(model.conductivity(f))
        hist["zeta"].append(float(zeta))
        hist["field2"].append(float(model.field_squared(t, y)))
        hist["N"].append(model.particle_number(f))
        hist["energy"].append(model.energy(f, zeta))
        if snapshots is not None:
            snapshots(t, f)
        if progress is not None:
            progress(t, t_end)

    ts = PETSc.TS().create(comm=comm())
    opts, set_here = PETSc.Options(), []
    if not opts.hasName(PREFIX + "ts_bdf_order"):  # order 4: 6x fewer steps than 2 at rtol 1e-8
        opts.setValue(PREFIX + "ts_bdf_order", "4")
        set_here.append(PREFIX + "ts_bdf_order")
    try:
        ts.setOptionsPrefix(PREFIX)
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        ts.setType(PETSc.TS.Type.BDF)
        ts.setRHSFunction(rhs, x.duplicate())
        ts.setRHSJacobian(jac, J, J)
        ts.setTime(0.0)
        ts.setTimeStep(1e-4 * t_end)
        ts.setMaxTime(t_end)
        ts.setMaxSteps(10**6)
        ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
        ts.setTolerances(rtol=rtol, atol=atol)
        ts.setMaxSNESFailures(-1)
        ts.setMonitor(monitor)
        ksp = ts.getSNES().getKSP()
        ksp.setType("preonly")
        ksp.getPC().setType("lu")
        if parallel():
            ksp.getPC().setFactorSolverType("mumps")
        ts.setFromOptions()
        ts.solve(x)
        reason = ts.getConvergedReason()
        if reason < 0:
            raise RuntimeError(f"PETSc TS failed (converged reason {reason}); try -nac_ts_rtol or -nac_ts_type")
        steps = ts.getStepNumber()
        y = gather(x).copy()
    finally:
        for key in set_here:
            opts.delValue(key)
        ts.destroy()
        J.destroy()
        x.destroy()
    N = np.asarray(hist["N"])
    return {"y": y, "steps": int(steps), "t_final": float(hist["t"][-1]),
            "particle_number_drift": float(np.max(np.abs(N - N[0])) / N[0]),
            "history": {k: np.asarray(v) for k, v in hist.items()}}


def make_model(args, **extra):
    """NACModel from the common ``ephkin nac`` options (--dos, --mu | --filling, --T, --omega-p, ...)."""
    band = make_dos(args.dos)
    filling = args.filling
    if args.mu is not None:
        if args.filling is not None:
            raise InputError("give either --mu or --filling, not both")
        filling = filling_at(band, args.mu, args.T)
    return NACModel(band, args.omega_p, T=args.T, filling=0.5 if filling is None else filling,
                    gamma_in=args.gamma_in, field=args.field, delta_omega=args.delta_omega,
                    refine=args.refine, **extra)


def _describe(model):
    return {"dos": model.band.name, "omega_p": model.omega_p, "T": model.T, "mu": model.mu,
            "filling": model.filling, "gamma_in": model.gamma_in, "field": model.field,
            "delta_omega": model.delta_omega, "N": model.N}


def sigma(args):
    """sigma/sigma0 of the nonequilibrium state at fixed zeta: Eq. (8) for zeta = inf, else Eq. (2)
    evolved with PETSc TS from f_T for --t-end (the seed's 10/Gamma_eph; --steady: t -> inf)."""
    from .commands import _finish, _outdir, _progress, _write_csv

    out = _outdir(args.output)
    zeta = args.zeta
    model = make_model(args, hold_zeta=True)
    res = _describe(model)
    res["zeta"] = "inf" if math.isinf(zeta) else zeta
    if math.isinf(zeta):
        if args.gamma_in or args.field or args.delta_omega:
            raise InputError("--zeta inf is Eq. (8): St_in = 0, E = 0, sharp phonons; drop --gamma-in, --field "
                             "and --delta-omega or give a finite --zeta")
        f = model.periodic_limit()
        res.update(method="Eq. (8): periodic zeta -> inf state")
    elif args.steady:
        f = model.steady_state(zeta)
        res.update(method="steady state of Eq. (2) (pseudo-transient Newton)")
    else:
        if not args.t_end > 0:
            raise InputError(f"--t-end must be > 0 (got {args.t_end}); give the evolution time in 1/Gamma_eph")
        run = integrate(model, model.initial(zeta), args.t_end, rtol=args.rtol)
        f = run["y"][:-1]
        res.update(method="Eq. (2) evolved with PETSc TS", t_end=args.t_end, steps=run["steps"],
                   particle_number_drift=run["particle_number_drift"])
        _progress(f"nac sigma: t = {args.t_end} reached in {run['steps']} steps")
    res["sigma_over_sigma0"] = model.conductivity(f)
    if not (math.isinf(zeta) or args.gamma_in or args.field or args.delta_omega):
        # Eq. (8) is the zeta -> inf limit of this state: the distance shrinks like 1/zeta
        res["max_abs_df_vs_eq8"] = float(np.max(np.abs(f - model.periodic_limit())))
    if args.E_star:
        if math.isinf(zeta):
            raise InputError("--E-star needs a finite --zeta (the field acts through Eq. (7) in Eq. (2))")
        F, omega_E, _ = model.zero_conductivity_field(zeta, t_end=None if args.steady else args.t_end)
        res.update(E_star=F, omega_E_over_sigma0=omega_E,
                   E_star_paper_units=(F * math.sqrt(1.0 / args.gamma_in) / model.omega_p
                                       if args.gamma_in > 0 else None))
    files = []
    if out:
        from .plots import plot_nac_distribution

        files.append(plot_nac_distribution(os.path.join(out, "f_eps.png"), model.eps, model.D / model.DF, f,
                                           model.fermi(), res))
        files.append(_write_csv(os.path.join(out, "f_eps.csv"), ["eps", "D_over_DF", "f", "f_T"],
                                zip(model.eps, model.D / model.DF, f, model.fermi())))
    return _finish(args, res, files)


def evolve(args):
    """The transient after a pump (Fig. 3): f(eps, t), zeta(t), sigma(t) and, with --spontaneous, the
    field E*(t) that keeps sigma >= 0 (the sigma < 0 instability)."""
    from .commands import _finish, _outdir, _progress, _write_csv
    from .xdmf import SnapshotWriter

    out = _outdir(args.output)
    if not args.t_end > 0:
        raise InputError(f"--t-end must be > 0 (got {args.t_end}); give the evolution time in 1/Gamma_eph")
    model = make_model(args, pump=args.pump, zeta0=args.zeta0, tau_pulse=args.tau_pulse, tau_ph=args.tau_ph,
                       spontaneous=args.spontaneous, tau_M=args.tau_M)
    writer = SnapshotWriter(out, model.eps) if out else None
    last = {"t": -1.0}

    def progress(t, t_end):
        if t - last["t"] >= 0.1 * t_end or t >= t_end:
            last["t"] = t
            _progress(f"nac evolve: t = {t:.4g} / {t_end:g}")

    try:
        run = integrate(model, model.initial(args.zeta_initial), args.t_end, rtol=args.rtol,
                        snapshots=writer, progress=progress)
    finally:
        if writer is not None:
            writer.close()
    h = run["history"]
    E_star = np.sqrt(np.maximum(h["field2"], 0.0))
    res = _describe(model)
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
        from .plots import plot_nac_distribution, plot_nac_transient

        files.append(_write_csv(os.path.join(out, "transient.csv"), ["t", "sigma_over_sigma0", "zeta", "E_star",
                                                                     "particle_number", "energy"],
                                zip(h["t"], h["sigma"], h["zeta"], E_star, h["N"], h["energy"])))
        files.append(plot_nac_transient(os.path.join(out, "transient.png"), h["t"], h["sigma"],
                                        h["zeta"] / max(args.zeta0, 1e-300), E_star, res))
        files.append(plot_nac_distribution(os.path.join(out, "f_final.png"), model.eps, model.D / model.DF,
                                           run["y"][:-1], model.fermi(), res))
        files += writer.files
    return _finish(args, res, files)
