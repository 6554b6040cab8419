"""Benchmark (issue 29): continuous and tabulated spectra at 10^5 points, and the Einstein verdict.

One run, every row a separate ``ephkin`` process (wall time and peak RSS of the child), in order:

1. The Einstein point of Fig. 1(b): ``ephkin evolve --spectrum einstein --lam 1 --T0 0.2 --T-in 0.202
   --t-end 20 --refine R --no-diagnostics --json`` for R in --einstein (default 128 256 512 1024 1280):
   status, t_instability, min 1 - Sigma', whether the loss is at the grid scale (``mass_loss``), steps,
   kernel products per step, wall, peak RSS, and wall / (kernel products x FFT floor at L).
2. The Pb model (docs/examples/pb_model.a2f, T0 = 0.2) at R in --pb (default 1 2 4 8 16 32 64):
   ``stability --nev 4`` (gamma_min, the continuum edge, the number of discrete modes, wall, RSS) and
   ``evolve --T-in 0.202 --t-end 20`` (status, min 1 - Sigma', decay rate, steps, wall, RSS).

The FFT floor is one bare ``scipy.fft.rfft`` + ``irfft`` pair at n = next_fast_len(2L - 1), the minimum of 20
warm repetitions, measured in this process after each row.  The load average is printed before and after.  Prints
Markdown tables for docs/benchmarks.md.

Run:  .venv/bin/python benchmarks/real_materials.py [--einstein 128 256] [--pb 1 4 16 64]
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.fft as sfft  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPHKIN = os.path.join(os.path.dirname(sys.executable), "ephkin")
PB = "file:" + os.path.join(ROOT, "docs", "examples", "pb_model.a2f")


def floor(L, reps=20):
    """Wall time of one rfft + irfft pair at the kernel product's length (s): the minimum of ``reps`` warm
    repetitions (the products inside a run reuse warm buffers; the first calls pay page faults)."""
    n = sfft.next_fast_len(2 * L - 1, real=True)
    x = np.random.default_rng(0).standard_normal(n)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        sfft.irfft(sfft.rfft(x), n, overwrite_x=True)
        ts.append(time.perf_counter() - t)
    return min(ts)


def run(args):
    """One ephkin process under /usr/bin/time: (JSON result, wall s, peak RSS MB of that process).  (The
    rusage of a child of this process would include the pages of this process it was forked from.)"""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "RSS_KB %M", EPHKIN, *args, "--json"], capture_output=True, text=True,
                       cwd=ROOT)
    wall = time.perf_counter() - t
    lines = p.stderr.strip().splitlines()
    rss = next((int(x.split()[1]) / 1024 for x in reversed(lines) if x.startswith("RSS_KB ")), None)
    if p.returncode != 0:
        msg = [x for x in lines if not x.startswith("RSS_KB ")]
        return {"error": msg[-1] if msg else f"exit {p.returncode}"}, wall, None
    return json.loads(p.stdout), wall, rss


def fmt(x, spec=".4g"):
    return "—" if x is None else format(x, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--einstein", type=int, nargs="*", default=[128, 256, 512, 1024, 1280])
    ap.add_argument("--pb", type=int, nargs="*", default=[1, 2, 4, 8, 16, 32, 64])
    a = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print("\n| refine | N | status | t_instability | min 1 − Σ′ | grid-scale loss | steps | products/step "
          "| Krylov/Newton | wall (s) | peak RSS (MB) | kB/point | wall / (products × floor) |\n|" + "---|" * 13)
    for R in a.einstein:
        d, wall, rss = run(["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202",
                            "--t-end", "20", "--refine", str(R), "--no-diagnostics"])
        if "error" in d:
            print(f"| {R} | | {d['error']} |")
            continue
        L = d["L"]
        ml = d.get("mass_loss") or {}
        ratio = wall / (d["kernel_matvecs"] * floor(L))
        print(f"| {R} | {L} | {d['status']} | {fmt(d.get('t_instability'))} | {d['min_mass_diagonal']:.4f} | "
              f"{ml.get('grid_scale', '—')} | {d['steps']} | {d['kernel_matvecs_per_step']:.1f} | "
              f"{d['krylov_iterations'] / max(d['newton_iterations'], 1):.1f} | {wall:.1f} | "
              f"{fmt(rss, '.0f')} | {fmt(rss and rss * 1024 / L, '.2f')} | {ratio:.2f} |", flush=True)
    print("\n| refine | L | stability: γ_min | continuum edge γ_c | discrete modes | wall (s) | RSS (MB) "
          "| SLEPc restarts | evolve: status | min 1 − Σ′ | decay rate | steps | Krylov/Newton | wall (s) | RSS (MB) "
          "|\n|" + "---|" * 15)
    for R in a.pb:
        s, ws, rs = run(["stability", "--spectrum", PB, "--T0", "0.2", "--refine", str(R), "--nev", "4", "--solver",
                         "slepc"])
        e, we, re_ = run(["evolve", "--spectrum", PB, "--T0", "0.2", "--T-in", "0.202", "--t-end", "20",
                          "--refine", str(R), "--no-diagnostics"])
        if "error" in s or "error" in e:
            print(f"| {R} | | {s.get('error', '')} {e.get('error', '')} |")
            continue
        print(f"| {R} | {s['L']} | {s['gamma_min_positive']:.10f} | {fmt(s.get('gamma_continuum_edge'), '.8f')} | "
              f"{s.get('n_discrete_positive', '—')} | {ws:.1f} | {fmt(rs, '.0f')} | "
              f"{(s.get('slepc_iterations') or {}).get('positive', '— (dense)')} | {e['status']} | "
              f"{e['min_mass_diagonal']:.6f} | {fmt(e.get('decay_rate'), '.6f')} | {e['steps']} | "
              f"{e['krylov_iterations'] / max(e['newton_iterations'], 1):.2f} | {we:.1f} | {fmt(re_, '.0f')} |",
              flush=True)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
