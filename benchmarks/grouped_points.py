"""Benchmark (issue 28): one point on one rank against the same point on a group of ranks.

Two points, each run as a whole process (``ephkin ... --json``) and under ``mpirun -n K`` (the command solved
by the K ranks as one group: distributed PETSc objects, the FFT kernel products shared by row blocks):

  evolve     ephkin evolve --spectrum einstein --lam 1 --T0 0.2 --T-in 0.202 --t-end 20 --refine 128
             --no-diagnostics                                   (N = 102 400)
  stability  ephkin stability --spectrum modes:40-60 --lam 1.0 --T0 0.20 --refine 64 --nev 4
                                                                (L = 27 021)

The runs alternate (1 rank, K ranks, 1 rank, ...) so that a change of the machine's load hits both; the
1-minute load average (``os.getloadavg``) is recorded before each run.  Reported per point and rank count:
wall time min / median / max of --runs runs, the command's own ``elapsed_s``, the solver counts (steps and
Krylov iterations, or SLEPc iterations and kernel products: they must be the same on 1 and K ranks), the
result (decay rate or gamma_min,+) and the speed-up t_1/t_K and efficiency t_1/(K t_K) of the medians.

Run:  .venv/bin/python benchmarks/grouped_points.py [--ranks 2] [--runs 3] [--points evolve stability] [--json]
(as root, mpirun needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1, which this script sets).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

EPHKIN = os.path.join(os.path.dirname(sys.executable), "ephkin")

POINTS = {
    "evolve": ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202", "--t-end", "20",
               "--refine", "128", "--no-diagnostics"],
    "stability": ["stability", "--spectrum", "modes:40-60", "--lam", "1.0", "--T0", "0.20", "--refine", "64",
                  "--nev", "4"],
}
#: what must not depend on the number of ranks, and the number that says the result is the same
COUNTS = {"evolve": ("steps", "krylov_iterations"), "stability": ("slepc_iterations", "kernel_matvecs")}
VALUE = {"evolve": "decay_rate", "stability": "gamma_min_positive"}


def run_once(point, ranks):
    """(wall s, load before, the command's JSON) of one run of ``point`` on ``ranks`` ranks."""
    cmd = [EPHKIN] + POINTS[point] + ["--json", "--quiet"]
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks), "--oversubscribe"] + cmd
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    load = os.getloadavg()[0]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-400:]}")
    return wall, load, json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--points", nargs="+", default=list(POINTS), choices=list(POINTS))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rows = []
    for point in a.points:
        runs = {1: [], a.ranks: []}
        for _ in range(a.runs):
            for k in runs:
                runs[k].append(run_once(point, k))
        for k, got in runs.items():
            walls = sorted(w for w, _, _ in got)
            res = got[0][2]
            rows.append({
                "point": point, "ranks": k, "ranks_reported": res.get("ranks"),
                "L": res.get("L"), "wall_s": [walls[0], statistics.median(walls), walls[-1]],
                "elapsed_s": statistics.median(r["elapsed_s"] for _, _, r in got),
                "load": [round(ld, 2) for _, ld, _ in got],
                "counts": {c: res.get(c) for c in COUNTS[point]}, VALUE[point]: res.get(VALUE[point]),
            })
        one, many = rows[-2]["wall_s"][1], rows[-1]["wall_s"][1]
        rows[-1]["speedup"], rows[-1]["efficiency"] = one / many, one / (a.ranks * many)
    if a.json:
        print(json.dumps(rows, indent=1))
        return
    print("| point | L | ranks | wall (s) min / median / max | elapsed_s (median) | solver counts | result | "
          "speed-up | efficiency | load (1 min) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        w = " / ".join(f"{x:.2f}" for x in r["wall_s"])
        counts = ", ".join(f"{k} {v}" for k, v in r["counts"].items())
        sp = f"{r['speedup']:.2f}" if "speedup" in r else "—"
        ef = f"{r['efficiency']:.2f}" if "efficiency" in r else "—"
        value = r[VALUE[r["point"]]]
        print(f"| {r['point']} | {r['L']} | {r['ranks']} | {w} | {r['elapsed_s']:.2f} | {counts} | "
              f"{VALUE[r['point']]} {value:.10g} | {sp} | {ef} | {', '.join(map(str, r['load']))} |")


if __name__ == "__main__":
    main()
