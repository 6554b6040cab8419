"""Benchmark (issue 26): work against precision, ephkin's PETSc TS against SUNDIALS IDA.

For each case and each rtol in 1e-3 .. 1e-9 (atol = 1e-4 rtol, the ratio of the CLI defaults 1e-6 / 1e-10):
- the error of the final f, max_E |f(E, t_end) - f_ref(E, t_end)|, against a tight reference: IDA at rtol 1e-12
  (max order 5), checked against IDA at 1e-11 (the difference is printed);
- warm, in this process: ``solvers.evolution.evolve`` on a prebuilt model (PETSc started by an untimed run) and
  IDA (scikit-sundae, dense difference-quotient Jacobian, max order ``--ida-max-order``, default IDA's own 5)
  on the same residual G(fdot, f) = M(f) fdot - I(f) (``KineticModel.residual``), timed in turn, min / median /
  max of ``--repeat`` (>= 3);
- whole process (``--process``): ``ephkin evolve ... --rtol R --atol A --no-diagnostics --json`` against a bare
  Python script that imports numpy, ephkin.pde and sksundae, builds the same model and runs IDA (no PETSc),
  both as subprocesses timed from start to exit, imports included, in turn.  Their errors are those of the warm
  runs: the same code on the same input (the subprocesses' step counts are printed to show it).
Then the time of each at matched error 1e-6 and 1e-8, interpolated log-log between the rtols that bracket it,
and the ratios IDA / TS.  Where TS's loosest run is already more accurate than the target, its time is that
run's (an upper bound: "<="), so the ratio is a lower bound.

BLAS runs on one thread (as in the ``ephkin`` command line) unless *_NUM_THREADS says otherwise.  ``uptime``
is printed before and after: the machine may be shared.  Needs scikit-sundae (``make bench`` installs it).

Run:  .venv/bin/python benchmarks/work_precision.py [--case fig1b modes] [--repeat 3] [--process]
          [--exponents 3 4 5 6 7 8 9] [--profile]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

#: The cases: Fig. 1(b) (default grid, L = 800) and the modes:40-60 example of the README (L = 423).
CASES = {
    "fig1b": {"spectrum": "einstein", "lam": 1.0, "T0": 0.2, "T_in": 0.202, "t_end": 20.0},
    "modes": {"spectrum": "modes:40-60", "lam": 1.0, "T0": 0.2, "T_in": 0.202, "t_end": 400.0},
    "hot": {"spectrum": "einstein", "lam": 1.0, "T0": 0.2, "T_in": 0.3, "t_end": 20.0},
}
TARGETS = (1e-6, 1e-8)
#: The children's environment: with Python's bytecode cache, as an installed ephkin runs (benchmarks/startup.py).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

#: The bare IDA script of the whole-process comparison (argv: spectrum lam T0 T_in t_end rtol atol max_order).
IDA_SCRIPT = """
import os, sys
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")
import numpy as np
from sksundae.ida import IDA
from ephkin.pde.grids import default_grid
from ephkin.pde.kinetic import KineticModel
from ephkin.pde.linearized import LinearizedProblem
from ephkin.pde.spectra import parse_spectrum
spectrum, lam, T0, T_in, t_end, rtol, atol, order = sys.argv[1:9]
spec = parse_spectrum(spectrum).with_lambda(float(lam), "g")
model = KineticModel(LinearizedProblem(spec, float(T0), default_grid(spec, float(T0), 1, None, None, None), "exact",
                                       0.0, None, None))
f = model.initial(float(T_in))
fdot = np.linalg.solve(model.mass_dense(f), model.collisions(f))
def res(t, y, yp, r):
    r[:] = model.residual(yp, y)
sol = IDA(res, rtol=float(rtol), atol=float(atol), linsolver="dense", max_order=int(order)).solve(
    np.array([0.0, float(t_end)]), f, fdot)
print(len(sol.t) - 1, float(np.sum(sol.y[-1])))
"""


def s3(xs, fmt="{:.3f}"):
    return " / ".join(fmt.format(v) for v in (min(xs), statistics.median(xs), max(xs)))


def load():
    return os.getloadavg()


def make_model(case):
    from ephkin.pde.kinetic import KineticModel
    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.stability import make_problem

    c = CASES[case]
    return KineticModel(make_problem(parse_spectrum(c["spectrum"]), c["lam"], c["T0"]))


def ida_solve(model, c, rtol, atol, max_order):
    from sksundae.ida import IDA

    f = model.initial(c["T_in"])
    fdot = np.linalg.solve(model.mass_dense(f), model.collisions(f))

    def res(t, y, yp, r):
        r[:] = model.residual(yp, y)

    sol = IDA(res, rtol=rtol, atol=atol, linsolver="dense", max_order=max_order).solve(
        np.array([0.0, c["t_end"]]), f, fdot)
    if not sol.success:
        raise RuntimeError(f"IDA failed at rtol {rtol:g}: {sol.message}")
    return sol.y[-1].copy(), len(sol.t) - 1


def at_error(errs, times, target):
    """(time, bound) at error ``target``: log-log interpolation between the two runs (in rtol order) whose
    errors bracket it; bound "<=" when even the loosest run is below the target (the time of the fastest run
    that reaches it), None if the tightest run does not reach it."""
    if errs[0] <= target:
        return min(t for e, t in zip(errs, times) if e <= target), "<="
    for k in range(1, len(errs)):
        if errs[k] <= target < errs[k - 1]:
            w = math.log(target / errs[k - 1]) / math.log(errs[k] / errs[k - 1])
            return math.exp((1 - w) * math.log(times[k - 1]) + w * math.log(times[k])), "="
    return None, None


def evolve_args(c, rtol=1e-6, atol=1e-10):
    """``ephkin evolve`` arguments for case ``c`` (no linear comparison: the IDA script makes none)."""
    return ["evolve", "--spectrum", c["spectrum"], "--lam", str(c["lam"]), "--T0", str(c["T0"]), "--T-in",
            str(c["T_in"]), "--t-end", str(c["t_end"]), "--rtol", repr(rtol), "--atol", repr(atol),
            "--no-diagnostics", "--quiet", "--json"]


def process_times(c, rtol, atol, repeat, max_order):
    """Whole-process wall times of ``ephkin evolve`` and of the bare IDA script, in turn; their step counts."""
    ts_cmd = [os.path.join(os.path.dirname(sys.executable), "ephkin")] + evolve_args(c, rtol, atol)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(IDA_SCRIPT)
        script = fh.name
    ida_cmd = [sys.executable, script, c["spectrum"], str(c["lam"]), str(c["T0"]), str(c["T_in"]),
               str(c["t_end"]), repr(rtol), repr(atol), str(max_order)]
    t_ts, t_ida, steps = [], [], {}
    try:
        for cmd in (ts_cmd, ida_cmd):  # one untimed run of each: bytecode cache written, files in the page cache
            subprocess.run(cmd, capture_output=True, check=True, env=ENV)
        for _ in range(repeat):
            t = time.perf_counter()
            p = subprocess.run(ts_cmd, capture_output=True, text=True, check=True, env=ENV)
            t_ts.append(time.perf_counter() - t)
            steps["ts"] = json.loads(p.stdout)["steps"]
            t = time.perf_counter()
            p = subprocess.run(ida_cmd, capture_output=True, text=True, check=True, env=ENV)
            t_ida.append(time.perf_counter() - t)
            steps["ida"] = int(p.stdout.split()[0])
    finally:
        os.unlink(script)
    return t_ts, t_ida, steps


def run_case(case, a):
    from ephkin.solvers.evolution import evolve

    c = CASES[case]
    model = make_model(case)
    print(f"\n== {case}: {c['spectrum']}, lambda = {c['lam']}, T0 = {c['T0']}, T_in = {c['T_in']}, "
          f"t_end = {c['t_end']}, L = {model.L}; load {load()}")
    t = time.perf_counter()
    ref, n_ref = ida_solve(model, c, 1e-12, 1e-16, 5)
    chk, _ = ida_solve(model, c, 1e-11, 1e-15, 5)
    print(f"reference: IDA rtol 1e-12 / atol 1e-16, max order 5, {n_ref} steps ({time.perf_counter() - t:.1f} s "
          f"with the check); max|f_ref - f(IDA 1e-11)| = {np.max(np.abs(ref - chk)):.1e}")
    evolve(model, c["T_in"], c["t_end"], rtol=1e-6, atol=1e-10)  # PETSc's start-up, untimed
    rows = []
    for e in a.exponents:
        rtol = 10.0 ** -e
        atol = 1e-4 * rtol
        t_ts, t_ida = [], []
        for _ in range(a.repeat):
            k0 = model.kernel_matvecs
            t = time.perf_counter()
            r = evolve(model, c["T_in"], c["t_end"], rtol=rtol, atol=atol)
            t_ts.append(time.perf_counter() - t)
            products = model.kernel_matvecs - k0
            t = time.perf_counter()
            f_ida, n_ida = ida_solve(model, c, rtol, atol, a.ida_max_order)
            t_ida.append(time.perf_counter() - t)
        if r["status"] != "stable":
            raise RuntimeError(f"TS at rtol {rtol:g}: {r['status']} ({r.get('reason')})")
        row = {"rtol": rtol, "ts_err": float(np.max(np.abs(r["f_final"] - ref))),
               "ida_err": float(np.max(np.abs(f_ida - ref))), "ts": t_ts, "ida": t_ida, "ts_steps": r["steps"],
               "ts_products": products, "ida_steps": n_ida}
        if a.process:
            row["ts_proc"], row["ida_proc"], row["proc_steps"] = process_times(c, rtol, atol, a.repeat,
                                                                             a.ida_max_order)
        rows.append(row)
        print(f"rtol {rtol:.0e}: TS err {row['ts_err']:.2e} ({row['ts_err'] / rtol:.3f} rtol), {r['steps']} steps, "
              f"{products} products, warm {s3(t_ts)} s | IDA err {row['ida_err']:.2e} ({row['ida_err'] / rtol:.4f} "
              f"rtol), {n_ida} steps, warm {s3(t_ida)} s"
              + (f" | process TS {s3(row['ts_proc'])} s, IDA {s3(row['ida_proc'])} s (steps {row['proc_steps']})"
                 if a.process else ""), flush=True)
    print(f"\n{case} (min / median / max of {a.repeat}; errors max_E |f - f_ref| at t_end):")
    print("| rtol | TS error | TS / rtol | TS steps | TS warm (s) | IDA error | IDA / rtol | IDA steps | IDA warm (s) |"
          + (" TS process (s) | IDA process (s) |" if a.process else ""))
    print("|---|---|---|---|---|---|---|---|---|" + ("---|---|" if a.process else ""))
    for w in rows:
        print(f"| {w['rtol']:.0e} | {w['ts_err']:.2e} | {w['ts_err'] / w['rtol']:.3f} | {w['ts_steps']} | "
              f"{s3(w['ts'])} | {w['ida_err']:.2e} | {w['ida_err'] / w['rtol']:.4f} | {w['ida_steps']} | "
              f"{s3(w['ida'])} |"
              + (f" {s3(w['ts_proc'])} | {s3(w['ida_proc'])} |" if a.process else ""))
    kinds = [("warm", "ts", "ida")] + ([("whole process", "ts_proc", "ida_proc")] if a.process else [])
    out = {}
    for label, kt, ki in kinds:
        for target in TARGETS:
            ratios = []
            for stat in (min, statistics.median, max):
                tt, bt = at_error([w["ts_err"] for w in rows], [stat(w[kt]) for w in rows], target)
                ti, bi = at_error([w["ida_err"] for w in rows], [stat(w[ki]) for w in rows], target)
                ratios.append((tt, bt, ti, bi))
            if any(r[0] is None or r[2] is None for r in ratios):
                print(f"{label}, error {target:.0e}: not bracketed by the rtols run")
                continue
            tt, bt, ti, bi = ratios[1]
            sign = ">=" if bt == "<=" else "="
            print(f"{label}, matched error {target:.0e}: TS {bt} {tt:.3f} s, IDA {ti:.3f} s (medians); IDA / TS "
                  f"{sign} {ti / tt:.1f}x (from the minima {ratios[0][2] / ratios[0][0]:.1f}x, maxima "
                  f"{ratios[2][2] / ratios[2][0]:.1f}x)")
            out[(label, target)] = ti / tt
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", nargs="+", default=["fig1b"], choices=sorted(CASES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--exponents", type=int, nargs="+", default=[3, 4, 5, 6, 7, 8, 9],
                    help="rtol = 10^-e for each e, loosest first")
    ap.add_argument("--ida-max-order", type=int, default=5)
    ap.add_argument("--process", action="store_true", help="also time whole processes (ephkin evolve vs a script)")
    ap.add_argument("--profile", action="store_true",
                    help="then cProfile one whole `ephkin evolve` of the first case at rtol 1e-6 (top entries)")
    a = ap.parse_args(argv)
    try:
        import sksundae  # noqa: F401
    except ImportError:
        print("scikit-sundae is not installed: `make bench` installs it (pip, numpy pinned)")
        return None
    print(f"load before: {load()}")
    out = {case: run_case(case, a) for case in a.case}
    print(f"\nload after: {load()}")
    if a.profile:
        c = CASES[a.case[0]]
        cmd = [sys.executable, "-m", "cProfile", "-s", "cumulative", "-m", "ephkin.solvers.cli"] + evolve_args(c)
        p = subprocess.run(cmd, capture_output=True, text=True, check=True, env=ENV)
        print("\n".join(p.stdout.splitlines()[1:40]))
    return out


if __name__ == "__main__":
    main()
