"""Implementations of the ``ephkin`` subcommands: each takes the parsed
arguments and returns a result dict (printed as JSON or text by :mod:`.cli`),
writing files when ``-o DIR`` is given."""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time

import numpy as np

from ephkin.pde import __version__
from ephkin.pde import phonons
from ephkin.pde import eliashberg as eq
from ephkin.pde.errors import InputError
from ephkin.pde.instability import (
    cel_analysis,
    lambda_c_zinv,
    lambda_c_cel,
    strong_coupling_analysis,
    strong_coupling_T0_max,
    zinv_analysis,
)
from ephkin.pde.spectra import make_spectrum, parse_spectrum

from .provenance import provenance, write_json

#: T_c of the strong-coupling limit in units of g (seed 000 main text, [20]).
TC_STRONG = 0.1827


def version():
    return __version__


def _progress(msg):
    """Progress on stderr (rank 0 only, read from the launcher's environment), never on stdout."""
    if _launcher_rank() != 0:
        return
    print(msg, file=sys.stderr, flush=True)


def _launcher_rank():
    for var in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def _outdir(path):
    if not path:
        return None
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise InputError(f"-o {path}: cannot create the output directory ({exc.strerror}); "
                         "choose a writable path") from None
    return path


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _finish(args, result, files=()):
    """Add the files list and write summary.json (with provenance) when -o is given."""
    out = getattr(args, "output", None)
    if out:
        params = {k: v for k, v in vars(args).items() if k not in ("func", "json", "output")}
        summary = dict(result)
        summary["files"] = [os.path.basename(f) for f in files]
        summary["provenance"] = provenance(params)
        write_json(os.path.join(out, "summary.json"), summary)
        result["output"] = out
    return result


def _spectrum_label(spec, units):
    return {"spectrum": spec, "units": units}


# ------------------------------------------------------------------------ info
def info(args):
    """Versions of the numerical stack (and MUMPS availability)."""
    from .petsc_env import versions

    return versions()


# -------------------------------------------------------------------- spectrum
def spectrum(args):
    """Moments of alpha^2F and the Allen-Dynes / McMillan T_c."""
    out = _outdir(args.output)
    s = make_spectrum(args.spectrum, args.lam, args.units)
    om, w = s.nodes()
    res = _spectrum_label(args.spectrum, args.units)
    res.update(s.moments())
    if args.mu_star < 0:
        raise InputError(f"--mu-star must be >= 0 (got {args.mu_star}); typical values are 0.08-0.15")
    res["mu_star"] = args.mu_star
    res["Tc_allen_dynes"] = phonons.allen_dynes_tc(om, w, args.mu_star)
    res["Tc_mcmillan"] = phonons.mcmillan_tc(om, w, args.mu_star)
    files = []
    if out:
        from .plots import plot_spectrum

        grid = np.linspace(0.0, 1.1 * s.omega_max, 600)
        cont = s.alpha2f(grid) if s.density is not None else None
        peaks = (s.omega, 2.0 * s.weight / s.omega) if s.omega.size else None
        files.append(plot_spectrum(os.path.join(out, "spectrum.png"), grid, cont, peaks, args.units))
    return _finish(args, res, files)


# ------------------------------------------------------------------------ zinv
def zinv(args):
    """Z0^-1(E) at T0 (Eq. (5)) or in the strong-coupling limit (Eq. (S38))."""
    out = _outdir(args.output)
    if args.points < 3:
        raise InputError(f"--points must be >= 3 (got {args.points})")
    if args.strong_coupling:
        if args.spectrum:
            raise InputError("--strong-coupling does not take --spectrum (the limit is spectrum-independent)")
        if args.units != "g":
            raise InputError("--strong-coupling works in units of g; drop --units plain")
        res = {"model": "strong-coupling (Eq. S38)", "units": "g", "T0": args.T0}
        res.update(strong_coupling_analysis(args.T0))
        res["T0_over_Tc"] = args.T0 / TC_STRONG
        t_max = strong_coupling_T0_max()
        res["T0_max_negative"] = t_max
        res["T0_max_negative_over_Tc"] = t_max / TC_STRONG
        E_max = args.E_max or 3.0
        curve = lambda E: eq.zinv_strong(E, args.T0)  # noqa: E731
    else:
        if not args.spectrum:
            raise InputError("--spectrum is required (or use --strong-coupling)")
        s = make_spectrum(args.spectrum, args.lam, args.units)
        res = _spectrum_label(args.spectrum, args.units)
        res.update({"lambda": s.lam, "T0": args.T0, "omega_log": s.omega_log})
        res.update(zinv_analysis(s, args.T0))
        res["E_min_over_omega"] = res["E_min"] / s.omega_log
        E_max = args.E_max or (2.5 * s.omega_max + 10 * args.T0)
        curve = lambda E: eq.zinv(s, E, args.T0)  # noqa: E731
    files = []
    if out:
        from .plots import plot_zinv

        E = np.linspace(0.0, E_max, args.points)
        z = curve(E)
        files.append(_write_csv(os.path.join(out, "zinv.csv"), ["E", "zinv"], zip(E, z)))
        label = args.spectrum or "strong coupling"
        files.append(plot_zinv(os.path.join(out, "zinv.png"), E, {f"{label}, T0={args.T0:g}": z},
                               res["units"], res.get("zeros", ()), r"$Z_0^{-1}(E)$"))
    return _finish(args, res, files)


# -------------------------------------------------------------------- lambda-c
def _lambda_c_row(shape, T0, units, lam_max):
    t = time.perf_counter()
    r = lambda_c_zinv(shape, T0, units=units, lam_max=lam_max)
    row = {"T0": T0, "lambda_c": r["lambda_c"], "E_min": r["E_min"]}
    if r["lambda_c"] is not None:
        row["E_min_over_omega"] = r["E_min"] / r["omega_log"]
        row["omega_ref"] = r["omega_log"]
    else:
        row["reason"] = r["reason"]
    row["lambda_c_cel"] = lambda_c_cel(shape, T0, units=units, lam_max=lam_max)
    row["seconds"] = round(time.perf_counter() - t, 4)
    return row


def _linear_row(shape, T0, args, refine=None):
    from .stability import lambda_c_graded, lambda_c_linear

    t = time.perf_counter()
    if args.grid == "graded":
        r = lambda_c_graded(shape, T0, units=args.units, kernel=args.kernel, refine=refine or args.refine,
                            cutoff=args.cutoff, h_min=args.h_min, lam_max=args.lam_max, pv=args.pv)
        r["seconds"] = round(time.perf_counter() - t, 4)
        return r
    r = lambda_c_linear(shape, T0, units=args.units, kernel=args.kernel, refine=refine or args.refine,
                        grid_step=args.grid_step, cutoff=args.cutoff, solver=args.solver, lam_max=args.lam_max,
                        pv=args.pv)
    r["seconds"] = round(time.perf_counter() - t, 4)
    return r


def convergence(values, factor=2.0):
    """Observed order p = log_f((x1-x2)/(x2-x3)) of the last three levels and the Richardson
    estimate x_n + (x_n - x_{n-1})/(f^p - 1) with its error bar |estimate - x_n|."""
    v = [x for x in values if x is not None]
    if len(v) < 3 or v[-1] == v[-2] or (v[-3] - v[-2]) / (v[-2] - v[-1]) <= 0:
        return {"observed_order": None, "richardson": None, "error_bar": None}
    p = math.log(abs((v[-3] - v[-2]) / (v[-2] - v[-1]))) / math.log(factor)
    est = v[-1] + (v[-1] - v[-2]) / (factor**p - 1.0)
    return {"observed_order": p, "richardson": est, "error_bar": abs(est - v[-1])}


def lambda_c(args):
    """lambda_c(T0): Z0 criterion (Eq. (10)/(S21)) and C_el bound, or the linear analysis (Eq. (14))."""
    out = _outdir(args.output)
    shape = parse_spectrum(args.spectrum)
    head = {"spectrum": args.spectrum, "units": args.units, "method": args.method}
    rows = []
    if args.method == "linear" and args.converge:
        if len(args.T0) != 1:
            raise InputError("--converge takes a single --T0")
        if args.converge < 3:
            raise InputError(f"--converge needs >= 3 levels for an observed order (got {args.converge})")
        for lev in range(args.converge):
            refine = args.refine * 2**lev
            rows.append(_linear_row(shape, args.T0[0], args, refine))
            _progress(f"lambda-c --converge: level {lev + 1}/{args.converge} refine={refine} L={rows[-1]['L']} "
                      f"lambda_c={rows[-1]['lambda_c']}")
        res = dict(head, T0=args.T0[0], kernel=args.kernel, levels=rows)
        res.update(convergence([r["lambda_c"] for r in rows]))
        res["lambda_c"] = rows[-1]["lambda_c"]
        return _finish(args, res, [])
    for i, T0 in enumerate(args.T0):
        rows.append(_linear_row(shape, T0, args) if args.method == "linear"
                    else _lambda_c_row(shape, T0, args.units, args.lam_max))
        if len(args.T0) > 1:
            _progress(f"lambda-c: {i + 1}/{len(args.T0)} T0={T0:g} lambda_c={rows[-1]['lambda_c']}")
    if args.method == "zinv":
        head.update(criterion="min_E Z0^-1(E) = 0 (Eq. 10/S21)",
                    omega_ref_definition="omega_log of the spectrum at lambda_c")
    else:
        head.update(criterion="smallest eigenvalue of A_hat = 0 (Eq. 14, Sylvester)", kernel=args.kernel)
    res = dict(head, **rows[0]) if len(rows) == 1 else dict(head, rows=rows)
    files = []
    if out:
        keys = list(rows[0].keys())
        files.append(_write_csv(os.path.join(out, "lambda_c.csv"), keys, ([r.get(k) for k in keys] for r in rows)))
        if len(rows) > 1 and args.method == "zinv":
            from .plots import plot_lambda_c

            files.append(plot_lambda_c(os.path.join(out, "lambda_c.png"), [r["T0"] for r in rows],
                                       {"Z0 criterion": [r["lambda_c"] for r in rows],
                                        "C_el < 0": [r["lambda_c_cel"] for r in rows]}, args.units))
    return _finish(args, res, files)


# ------------------------------------------------------------------- stability
def stability(args):
    """gamma spectrum of Eq. (14) with SLEPc, inertia counts and the temperature-mode check."""
    from ephkin.pde.linearized import cel_identity

    from .stability import make_problem, stability_summary

    out = _outdir(args.output)
    if args.nev < 1:
        raise InputError(f"--nev must be >= 1 (got {args.nev})")
    from ephkin.pde.electron_electron import gaussian_p

    shape = parse_spectrum(args.spectrum)
    lam = shape.lam if args.lam is None else args.lam
    if args.a_ee < 0:
        raise InputError(f"--a-ee must be >= 0 (got {args.a_ee})")
    p_ee = gaussian_p(args.p_ee_width) if args.a_ee > 0 else None
    p = make_problem(shape, lam, args.T0, args.units, args.kernel, args.refine, args.grid_step, args.cutoff,
                     a_ee=args.a_ee, p_ee=p_ee, pv=args.pv)
    if args.a_ee > 0 and p.grid.L > 3000:
        raise InputError(f"--a-ee: M^ee is assembled densely (O(L^2)); L = {p.grid.L} is too large, use a coarser grid")
    summ = stability_summary(p, args.nev, args.target)
    vecs = summ.pop("eigenvectors")
    vec_gammas = summ.pop("eigenvector_gammas")
    res = {"spectrum": args.spectrum, "units": args.units, "lambda": lam, "T0": args.T0, "kernel": args.kernel,
           "pv": p.pv, "a_ee": args.a_ee, "grid_step": p.grid.eps, "cutoff": p.grid.cutoff, "L": p.grid.L}
    res.update(summ)
    cont = cel_identity(p.proj, args.T0)
    res["cel_check"] = {"grid": p.cel_check(), "continuum_S14": cont, "difference": p.cel_check() - cont}
    files = []
    if out:
        from .plots import plot_eigenvectors

        files.append(_write_csv(os.path.join(out, "gamma.csv"), ["gamma"], ([g] for g in summ["gamma"])))
        files.append(plot_eigenvectors(os.path.join(out, "eigenvectors.png"), p.E, vecs, vec_gammas,
                                       eq.zinv(p.proj, p.E, args.T0), args.units))
        if args.lam_scan:
            files.append(_gamma_scan(args, shape, out))
    return _finish(args, res, files)


def _gamma_scan(args, shape, out):
    """gamma(lambda) over --lam-scan LMIN LMAX N (seed 000 Fig. 2): the nev gamma nearest 0 and the
    two largest |gamma| (the pole branch that diverges at lambda_c)."""
    from .plots import plot_gamma_scan
    from .stability import gamma_spectrum, make_problem, pole_gammas

    lo, hi, n = args.lam_scan
    lams = np.linspace(lo, hi, int(n))
    table = []
    for i, lam in enumerate(lams):
        p = make_problem(shape, lam, args.T0, args.units, args.kernel, args.refine, args.grid_step, args.cutoff,
                         pv=args.pv)
        gam, _ = gamma_spectrum(p, args.nev, args.target)
        table.append((lam, np.concatenate([gam, pole_gammas(p, 2)])))
        _progress(f"gamma scan {i + 1}/{len(lams)}: lambda={lam:.4f}")
    _write_csv(os.path.join(out, "gamma_scan.csv"), ["lambda", "gamma"],
               ([lam, " ".join(f"{g:.12g}" for g in gam)] for lam, gam in table))
    return plot_gamma_scan(os.path.join(out, "gamma_vs_lambda.png"), table, args.units)


# ---------------------------------------------------------------------- evolve
def evolve(args):
    """The kinetic equation (S26)-(S31) with PETSc TS: relaxation (decay rate vs the slowest linear
    gamma, deviation vs the linear modal prediction) or the instability (time, energies, rate)."""
    from ephkin.pde.kinetic import KineticModel

    from .evolution import evolve as run_ts, evolve_scipy, linear_prediction
    from .stability import make_problem, stability_summary
    from .xdmf import SnapshotWriter

    out = _outdir(args.output)
    for name, val in (("--T-in", args.T_in), ("--t-end", args.t_end)):
        if not val > 0:
            raise InputError(f"{name} must be > 0 (got {val})")
    shape = parse_spectrum(args.spectrum)
    lam = shape.lam if args.lam is None else args.lam
    p = make_problem(shape, lam, args.T0, args.units, "exact", args.refine, args.grid_step, args.cutoff)
    model = KineticModel(p)
    writer = SnapshotWriter(out, p.E) if out else None
    last = {"t": -1.0}

    def progress(t, t_end):
        if t - last["t"] >= 0.1 * t_end:
            last["t"] = t
            _progress(f"evolve: t = {t:.4g} / {t_end:g}")

    try:
        r = run_ts(model, args.T_in, args.t_end, rtol=args.rtol, atol=args.atol, growth_limit=args.growth_limit,
                   snapshots=writer, progress=progress)
    finally:
        if writer:
            writer.close()
    f_final = r.pop("f_final")
    hist = r.pop("history")
    res = {"spectrum": args.spectrum, "units": args.units, "lambda": lam, "T0": args.T0, "T_in": args.T_in,
           "t_end": args.t_end, "grid_step": p.grid.eps, "L": p.grid.L, "cutoff": p.grid.cutoff}
    res.update(r)
    if p.grid.L <= 3000:
        summ = stability_summary(p, nev=2)
        if r["status"] == "stable":
            res["gamma_min_positive"] = summ["gamma_min_positive"]
            if r.get("decay_rate") and summ["gamma_min_positive"]:
                res["decay_rate_vs_gamma"] = r["decay_rate"] / summ["gamma_min_positive"] - 1.0
            pred = linear_prediction(model, model.initial(args.T_in), r["t_final"])
            res["max_deviation_linear_prediction"] = float(np.max(np.abs(pred)))
        else:
            res["linear_gamma_negative"] = summ["gamma_negative"]
            res["linear_n_negative"] = summ["n_negative"]
    if args.reference:
        if p.grid.L > 3000:
            raise InputError("--reference integrates densely; use a grid with L <= 3000")
        sol = evolve_scipy(model, args.T_in, r["t_final"], rtol=args.rtol, atol=args.atol)
        res["reference_max_difference"] = float(np.max(np.abs(sol.y[:, -1] - f_final)))
    files = []
    if out:
        from .plots import plot_distribution

        files.append(_write_csv(os.path.join(out, "history.csv"), ["t", "max_deviation"],
                                zip(hist["t"], hist["max_deviation"])))
        files.append(plot_distribution(os.path.join(out, "f_E_t.png"), p.E, writer.samples, model.f_eq,
                                       eq.zinv(p.proj, p.E, args.T0), res.get("zinv_zeros", []), args.units))
        files += writer.files
    return _finish(args, res, files)


# -------------------------------------------------------------------- two-temp
def two_temp(args):
    """Eq. (16): relaxation rate at T0 and T(t) from T_in (runaway to T_-/T_+ where C_el < 0)."""
    from ephkin.pde.two_temperature import evolve_temperature, relaxation_rate

    out = _outdir(args.output)
    s = make_spectrum(args.spectrum, args.lam, args.units)
    sol = evolve_temperature(s, args.T0, args.T_in, args.t_end)
    res = _spectrum_label(args.spectrum, args.units)
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
        files.append(_write_csv(os.path.join(out, "temperature.csv"), ["t", "T"], zip(sol.t, sol.y[0])))
    return _finish(args, res, files)


# ------------------------------------------------------------------------- cel
def cel(args):
    """C_el(T)/C_free (Eq. (S14)) at fixed frequencies: T_-, T_+ and lambda_min; epsilon(T) (Fig. 3)."""
    out = _outdir(args.output)
    s = make_spectrum(args.spectrum, args.lam, args.units)
    wl = s.omega_log
    lo, hi = args.T_range or (0.01 * wl, 5.0 * wl)
    res = _spectrum_label(args.spectrum, args.units)
    res.update({"lambda": s.lam, "omega_ref": wl, "omega_ref_definition": "omega_log"})
    res.update(cel_analysis(s, lo, hi))
    for k in ("T_minus", "T_plus"):
        res[k + "_over_omega"] = None if res[k] is None else res[k] / wl
    files = []
    if out:
        from .plots import plot_cel

        T = np.linspace(lo, hi, 400)
        ratio, energy, c = eq.cel_ratio(s, T), eq.electronic_energy(s, T), eq.cel(s, T)
        files.append(_write_csv(os.path.join(out, "cel.csv"), ["T", "cel_over_free", "cel", "energy"],
                                zip(T, ratio, c, energy)))
        files.append(plot_cel(os.path.join(out, "cel.png"), T, ratio, energy,
                              (res["T_minus"], res["T_plus"]), args.units))
    return _finish(args, res, files)


# ------------------------------------------------------------------- transport
def transport(args):
    """1/tau_tr(T) (Allen's formula on alpha^2F_tr, or Bloch-Grueneisen) and rho(T)."""
    _outdir(args.output)
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
    res.update({"units": args.units, "T": T.tolist(), "rate": np.atleast_1d(rate).tolist()})
    if args.plasma_eV is not None:
        rho = phonons.resistivity(rate, args.plasma_eV, args.energy_unit)
        res.update({"rho_uOhm_cm": np.atleast_1d(rho).tolist(), "energy_unit": args.energy_unit})
    return _finish(args, res)


# ------------------------------------------------------------- the default job
#: Seed 000 Table S1 column 2 (linear analysis, suppressed "paper" kernel) -- comparison only.
TABLE_S1_LINEAR = {0.180: 1.1335, 0.192: 1.3262, 0.204: 1.5644, 0.217: 1.8991, 0.229: 2.3096,
                   0.241: 2.8822, 0.253: 3.7427, 0.266: 5.3639, 0.278: 8.6508}
#: Seed 000 Table S1 column 3 (Z0 criterion) -- for the comparison column only.
TABLE_S1_ZINV = {0.180: 1.1333, 0.192: 1.3253, 0.204: 1.5644, 0.217: 1.8980, 0.229: 2.3094,
                 0.241: 2.8820, 0.253: 3.7416, 0.266: 5.3642, 0.278: 8.6517}


def _point_solver(spec, path, fields_dir=None, single=False):
    """Validate every point (parsed as a command line) before computing; return solve(i, point).

    With ``fields_dir``, point i writes its own outputs into fields_dir/NNNNN/ (``single``: into
    fields_dir itself)."""
    from .cli import model_options, parse_point
    from .runfile import points_argv

    known = model_options(spec["model"])
    for key in spec["points"][0]:
        if "--" + key.replace("_", "-") not in known:
            names = sorted(o[2:] for o in known if o.startswith("--") and o not in ("--help", "--json", "--output"))
            raise InputError(f"run file {path}: unknown parameter {key!r} for model {spec['model']} "
                             f"(known: {', '.join(names)})")
    parsed = []
    for i, point in enumerate(spec["points"]):
        try:
            a = parse_point(points_argv(spec["model"], point) + ["--json"])
        except InputError as exc:
            raise InputError(f"run file {path}: point {i} ({_short(point)}): {exc}") from None
        a.output = None
        parsed.append(a)

    def solve(i, point):
        if fields_dir is not None:
            parsed[i].output = fields_dir if single else os.path.join(fields_dir, f"{i:05d}")
        return parsed[i].func(parsed[i])

    return solve


def _short(point):
    return ", ".join(f"{k}={v}" for k, v in list(point.items())[:4])


def _push_runfile_petsc(spec):
    if spec["petsc"]:
        from .options import push_options

        PETSc, _ = __import__("ephkin.solvers.petsc_env", fromlist=["init_petsc"]).init_petsc(["ephkin"])
        push_options(PETSc, spec["petsc"])


def run(args):
    """One job from a run file, or the built-in default job when no FILE is given."""
    if args.file is None:
        return run_default(args)
    from .runfile import load_runfile

    spec = load_runfile(args.file, args.set)
    if len(spec["points"]) != 1:
        raise InputError(f"run file {args.file}: {len(spec['points'])} points; use 'ephkin sweep {args.file}'")
    out = args.output
    solve = _point_solver(spec, args.file, out, single=True)
    _push_runfile_petsc(spec)
    out = _outdir(out)
    res = {"model": spec["model"], "parameters": spec["points"][0]}
    res.update(solve(0, spec["points"][0]))
    if out:
        path = os.path.join(out, "summary.json")  # the point's own summary (its files) + the run file
        prev = json.load(open(path, encoding="utf-8")) if os.path.exists(path) else {}
        write_json(path, dict(prev, **res, provenance=provenance(
            {"runfile": os.path.abspath(args.file), "set": args.set, "point": spec["points"][0]})))
        res["output"] = out
    return res


def converge(args):
    """Refine one parameter of a one-point run file by --factor per level; observed order + Richardson."""
    from .runfile import load_runfile

    spec = load_runfile(args.file, args.set)
    if len(spec["points"]) != 1:
        raise InputError(f"run file {args.file}: converge needs one point (it has {len(spec['points'])})")
    if args.levels < 3:
        raise InputError(f"--levels must be >= 3 for an observed order (got {args.levels})")
    if not args.factor > 1:
        raise InputError(f"--factor must be > 1 (got {args.factor})")
    base = dict(spec["points"][0])
    key = args.param
    if key == "refine":
        start, step = int(base.get("refine", 1)), lambda v, k: int(round(v * args.factor**k))  # noqa: E731
    elif key in base:
        start, step = float(base[key]), lambda v, k: v / args.factor**k  # noqa: E731
    else:
        raise InputError(f"--param {key}: give its starting value in the run file's [parameters] "
                         "(or use --param refine)")
    levels, values = [], []
    for k in range(args.levels):
        point = dict(base, **{key: step(start, k)})
        res = _point_solver(dict(spec, points=[point]), args.file)(0, point)
        if args.key not in res:
            raise InputError(f"--key {args.key}: the {spec['model']} result has no such entry "
                             f"(it has {', '.join(sorted(res)[:12])} ...)")
        values.append(res[args.key])
        levels.append({key: point[key], args.key: res[args.key], "L": res.get("L")})
        _progress(f"converge: level {k + 1}/{args.levels} {key}={point[key]} {args.key}={res[args.key]}")
    out = {"model": spec["model"], "param": key, "factor": args.factor, "key": args.key, "levels": levels}
    out.update(convergence(values, args.factor))
    return _finish(args, out)


def _point_range(text, n):
    if text is None:
        return list(range(n))
    a, sep, b = text.partition(":")
    try:
        lo, hi = int(a or 0), int(b) if b else n
    except ValueError:
        raise InputError(f"--points {text!r}: use START:STOP with integers (e.g. 0:8)") from None
    if not sep or not 0 <= lo < hi:
        raise InputError(f"--points {text!r}: use START:STOP with 0 <= START < STOP (the run file has {n} points)")
    return list(range(lo, min(hi, n)))


def sweep(args):
    """All points of a run file over the MPI ranks (see solvers/sweep.py)."""
    from .runfile import load_runfile
    from .sweep import run_sweep

    if args.group_size < 1:
        raise InputError(f"--group-size must be >= 1 (got {args.group_size}); give the ranks per point")
    spec = load_runfile(args.file, args.set)
    fields = os.path.join(args.output, "fields") if args.fields else None
    solve = _point_solver(spec, args.file, fields)  # every point validated before anything runs
    _push_runfile_petsc(spec)
    _outdir(args.output)
    # PETSc first: it must be initialised (and finalised) around mpi4py's MPI, not the other way round
    from .petsc_env import init_petsc

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    if comm.Get_size() == 1:
        comm = None
    t0 = time.perf_counter()

    done = {"n": 0}

    def progress(rank, i, n, rec):
        done["n"] += 1
        el = time.perf_counter() - t0
        size = comm.Get_size() // args.group_size if comm is not None else 1
        eta = el / done["n"] * max(len(todo) / size - done["n"], 0.0)
        if rank == 0:
            print(f"sweep: point {i + 1}/{n} {rec['status']} ({rec['seconds']:.2f} s; rank 0 has done "
                  f"{done['n']}, elapsed {el:.1f} s, ETA {eta:.0f} s)", file=sys.stderr, flush=True)

    todo = _point_range(args.points, len(spec["points"]))
    summ = run_sweep(spec, args.output, solve, resume=args.resume, comm=comm, progress=progress,
                     runfile=os.path.abspath(args.file), only=todo if args.points else None,
                     group_size=args.group_size)
    res = {k: v for k, v in summ.items() if k != "provenance"}
    res["output"] = args.output
    return res


def run_default(args):
    """Built-in default job: Table S1 (Z0 criterion and C_el bound), Fig. 1 insets,
    strong-coupling Z0^-1, Fig. 3 (Einstein lambda = 4.5)."""
    from .plots import plot_cel, plot_lambda_c, plot_zinv

    out = _outdir(args.output)
    files, res = [], {"job": "default: seed 000 equilibrium toolkit"}
    shape = parse_spectrum("modes:40-60")
    rows = []
    for i, (T0, ref) in enumerate(TABLE_S1_ZINV.items()):
        row = _lambda_c_row(shape, T0, "g", 1e4)
        row["table_s1"] = ref
        row["rel_diff"] = row["lambda_c"] / ref - 1.0
        rows.append(row)
        _progress(f"[{i + 1}/9] Table S1 T0={T0:.3f}: lambda_c={row['lambda_c']:.6f} (seed {ref}), "
                  f"C_el<0 above lambda={row['lambda_c_cel']}")
    from .stability import lambda_c_linear, make_problem, stability_summary

    for row in rows:
        for kernel in ("exact", "paper"):
            row[f"lambda_c_linear_{kernel}"] = lambda_c_linear(shape, row["T0"], kernel=kernel)["lambda_c"]
        row["table_s1_col2"] = TABLE_S1_LINEAR[row["T0"]]
        _progress(f"Table S1 T0={row['T0']:.3f}: linear lambda_c exact kernel {row['lambda_c_linear_exact']:.5f}, "
                  f"paper kernel {row['lambda_c_linear_paper']:.5f} (seed {row['table_s1_col2']})")
    res["table_s1"] = rows
    keys = list(rows[0].keys())
    files.append(_write_csv(os.path.join(out, "table_s1.csv"), keys, ([r[k] for k in keys] for r in rows)))
    files.append(plot_lambda_c(os.path.join(out, "lambda_c.png"), [r["T0"] for r in rows],
                               {"Z0 criterion (Eq. S21)": [r["lambda_c"] for r in rows],
                                "linear, exact kernel": [r["lambda_c_linear_exact"] for r in rows],
                                "linear, paper kernel (Table S1 col. 2)": [r["lambda_c_linear_paper"] for r in rows],
                                "C_el < 0 (Eq. S14)": [r["lambda_c_cel"] for r in rows]}, "g"))
    # Fig. S1: eigenvectors at lambda = 5, T0 = 0.20 (exact kernel)
    p = make_problem(shape, 5.0, 0.20)
    summ = stability_summary(p, nev=6)
    from .plots import plot_eigenvectors

    files.append(plot_eigenvectors(os.path.join(out, "eigenvectors.png"), p.E, summ.pop("eigenvectors"),
                                   summ.pop("eigenvector_gammas"), eq.zinv(p.proj, p.E, 0.20), "g"))
    res["stability_modes_lambda_5_T0_0.20"] = summ
    _progress(f"Fig. S1: lambda=5, T0=0.20: {summ['n_negative']} unstable modes, slowest stable gamma "
              f"{summ['gamma_min_positive']:.5f}")
    # Fig. 1 insets: Einstein, T0 = 0.20, lambda = 2.169 (unstable) and 1.0 (stable)
    E = np.linspace(0.0, 2.5, 801)
    curves, zeros = {}, []
    for lam in (1.0, 2.169):
        s = make_spectrum("einstein", lam, "g")
        a = zinv_analysis(s, 0.20)
        curves[f"Einstein lambda={lam}"] = eq.zinv(s, E, 0.20)
        res[f"einstein_lambda_{lam}_T0_0.20"] = a
        zeros += a["zeros"]
    curves["strong coupling, T0=Tc"] = eq.zinv_strong(E, TC_STRONG)
    res["strong_coupling_T0_Tc"] = strong_coupling_analysis(TC_STRONG)
    files.append(plot_zinv(os.path.join(out, "zinv.png"), E, curves, "g", zeros, r"$T_0 = 0.20g$ (Fig. 1 insets)"))
    _progress("Fig. 1 insets: Z0^-1(E) for Einstein lambda = 1.0, 2.169 and the strong-coupling limit")
    # Fig. 3: Einstein lambda = 4.5, temperatures in units of Omega
    s = make_spectrum("einstein", 4.5, "plain")
    ca = cel_analysis(s, 0.01, 5.0)
    res["einstein_lambda_4.5_cel"] = ca
    T = np.linspace(0.01, 1.5, 300)
    files.append(plot_cel(os.path.join(out, "cel.png"), T, eq.cel_ratio(s, T), eq.electronic_energy(s, T),
                          (ca["T_minus"], ca["T_plus"]), "Omega"))
    _progress(f"Fig. 3: C_el < 0 for {ca['T_minus']:.4f} < T/Omega < {ca['T_plus']:.4f}")
    _progress(f"results in {out}/")
    return _finish(args, res, files)

