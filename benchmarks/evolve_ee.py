"""Benchmark (issue 18): Eq. (15) with e-e collisions in PETSc TS at N ~ 10^4 and 10^5.

For each --grid-step (default 8e-4 and 8e-5: L = 10^4 and 10^5 on the cutoff 8 grid) and each a_ee
in --a-ee (default 200 and the same run with 0, the baseline):
  ephkin evolve --spectrum einstein --lam 1 --units plain --T0 0.2 --T-in 0.22 --t-end 5
                --a-ee A --grid-step S --json
as a whole process (wall, peak RSS of the child; killed and reported if its RSS passes --rss-limit-gb),
steps, kernel_matvecs and kernel_matvecs per step from its JSON; and (--in-process, the default)
the time integration alone, ``ephkin.solvers.evolution.evolve`` on the same KineticModel (no CLI
diagnostics), with the model's kernel product count.  Runs alternate a_ee = 200 / 0 so that load
hits both alike; min / median / max of --runs (>= 3).

Run:  .venv/bin/python benchmarks/evolve_ee.py [--grid-step 8e-4 8e-5] [--a-ee 200 0] [--runs 3]
          [--no-cli] [--t-end 5] [--cli-max-L 20000] [--cli-timeout S] [--no-in-process] [--rss-limit-gb 8]
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kernel_floor import run_child  # noqa: E402

EPHKIN = os.path.join(os.path.dirname(sys.executable), "ephkin")
BASE = ["evolve", "--spectrum", "einstein", "--lam", "1", "--units", "plain", "--T0", "0.2", "--T-in", "0.22",
        "--t-end", "5", "--json"]


def s3(xs, f="{:.3g}"):
    return " / ".join(f.format(v) for v in (min(xs), statistics.median(xs), max(xs))) if xs else "-"


def in_process(step, a_ee, t_end=5.0):
    from ephkin.pde.electron_electron import make_p_ee
    from ephkin.pde.kinetic import KineticModel
    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.evolution import evolve
    from ephkin.solvers.stability import make_problem

    P = make_p_ee("gaussian:0.3") if a_ee > 0 else None
    t = time.perf_counter()
    p = make_problem(parse_spectrum("einstein"), 1.0, 0.2, "plain", "exact", 1, step, None, a_ee=a_ee, p_ee=P)
    model = KineticModel(p, a_ep=1.0, a_ee=a_ee, p_ee=P)
    r = evolve(model, 0.22, t_end, rtol=1e-6, atol=1e-10)
    dt = time.perf_counter() - t
    return dt, {"L": p.grid.L, "steps": r["steps"], "kernel_matvecs": model.kernel_matvecs,
                "T_eff_final": r.get("T_eff_final"), "status": r["status"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid-step", type=float, nargs="+", default=[8e-4, 8e-5])
    ap.add_argument("--a-ee", type=float, nargs="+", default=[200.0, 0.0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--cli-max-L", type=int, default=20000,
                    help="whole CLI processes only up to this L (default 20000: at L = 10^5 the CLI run with "
                         "a_ee = 200 "
                         "took > 5 min and the a_ee = 0 one needs ~20 GB for its diagnostics, docs/benchmarks.md)")
    ap.add_argument("--no-in-process", action="store_true")
    ap.add_argument("--t-end", type=float, default=5.0,
                    help="t_end of the in-process runs (the CLI runs always use 5); a shorter one gives the per-step "
                         "cost at L = 10^5 in reasonable time")
    ap.add_argument("--rss-limit-gb", type=float, default=8.0)
    ap.add_argument("--cli-timeout", type=float, default=None, help="kill a CLI child after this many seconds")
    a = ap.parse_args(argv)
    if a.runs < 3:
        print(f"note: --runs {a.runs} < 3: single figures, not min / median / max")
    print(f"load average before: {os.getloadavg()}", flush=True)
    for step in a.grid_step:
        cli = {A: {"wall": [], "rss": [], "res": None, "fail": None} for A in a.a_ee}
        ip = {A: {"wall": [], "res": None} for A in a.a_ee}
        for _ in range(a.runs):
            for A in a.a_ee:
                c = cli[A]
                if not a.no_cli and c["fail"] is None and round(8.0 / step) <= a.cli_max_L:
                    cmd = [EPHKIN] + BASE + ["--a-ee", f"{A:g}", "--grid-step", f"{step:g}"]
                    dt, rss, out, killed, rc = run_child(cmd, a.rss_limit_gb, a.cli_timeout)
                    if killed or rc:
                        c["fail"] = ((f"killed at RSS {killed:.0f} MB" if killed > 0 else "killed at the --cli-timeout")
                                     if killed else f"exit {rc}") + f" after {dt:.1f} s (peak RSS {rss:.0f} MB)"
                    else:
                        c["wall"].append(dt), c["rss"].append(rss)
                        c["res"] = json.loads(out)
                if not a.no_in_process:
                    dt, res = in_process(step, A, a.t_end)
                    ip[A]["wall"].append(dt)
                    ip[A]["res"] = res
        for A in a.a_ee:
            c, r = cli[A], ip[A]
            if not a.no_cli and (c["res"] or c["fail"]):
                if c["res"]:
                    j = c["res"]
                    print(f"grid-step {step:g} L={j['L']} a_ee={A:g} CLI: wall {s3(c['wall'])} s, peak RSS "
                          f"{s3(c['rss'], '{:.0f}')} MB, steps {j['steps']}, kernel_matvecs {j['kernel_matvecs']} "
                          f"({j['kernel_matvecs_per_step']:.1f}/step), T_eff_final {j.get('T_eff_final')}, "
                          f"{j['status']}" + (f"; later run {c['fail']}" if c["fail"] else ""), flush=True)
                else:
                    print(f"grid-step {step:g} a_ee={A:g} CLI: {c['fail']} (limit {a.rss_limit_gb} GB)", flush=True)
            if r["res"]:
                j = r["res"]
                print(f"grid-step {step:g} L={j['L']} a_ee={A:g} TS only (in process, t_end {a.t_end:g}): "
                      f"wall {s3(r['wall'])} s, steps {j['steps']}, kernel_matvecs {j['kernel_matvecs']} "
                      f"({j['kernel_matvecs'] / j['steps']:.1f}/step),"
                      f" {1e3 * statistics.median(r['wall']) / j['steps']:.1f} ms/step, T_eff_final {j['T_eff_final']}",
                      flush=True)
        if len(a.a_ee) == 2 and ip[a.a_ee[0]]["wall"] and ip[a.a_ee[1]]["wall"]:
            w0, w1 = ip[a.a_ee[0]]["wall"], ip[a.a_ee[1]]["wall"]
            print(f"grid-step {step:g}: TS wall a_ee={a.a_ee[0]:g} / a_ee={a.a_ee[1]:g} per run "
                  f"{s3([x / y for x, y in zip(w0, w1)])}", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
