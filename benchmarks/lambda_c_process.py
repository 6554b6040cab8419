"""Benchmark (issue 17): whole processes against the seed authors' dense 101-lambda scan.

Each run times, one after the other (interleaved, so that load on the shared machine hits all alike),
three whole processes at modes:40-60, T0 = 0.20 on the same (default) grid:
  baseline  .venv/bin/python benchmarks/dense_scan.py --json      (101 x scipy eigh(A_hat, M_hat))
  lambda-c  ephkin lambda-c --spectrum modes:40-60 --T0 0.20 --method linear --json
  lam-scan  ephkin stability --spectrum modes:40-60 --T0 0.20 --lam-scan 1 2 101 -o DIR
and reports baseline / candidate per run, min / median / max over --runs (>= 3).
With --profile, one extra cProfile run of each ephkin command (top entries by cumulative time).

Run:  .venv/bin/python benchmarks/lambda_c_process.py [--runs 3] [--profile] [--skip-scan]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
EPHKIN = os.path.join(BIN, "ephkin")


def wall(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr[-2000:]}")
    return dt, out.stdout


def stats(xs):
    return f"{min(xs):.3g} / {statistics.median(xs):.3g} / {max(xs):.3g}"


def profile(cmd, top=15):
    """cProfile of one whole ephkin process: the top entries by cumulative time."""
    with tempfile.TemporaryDirectory() as d:
        prof = os.path.join(d, "p.prof")
        code = ("import sys, cProfile; from ephkin.solvers.cli import main; sys.argv = ['ephkin'] + sys.argv[1:];"
                f"cProfile.run('try:\\n main()\\nexcept SystemExit: pass', {prof!r})")
        subprocess.run([sys.executable, "-c", code] + cmd[1:], capture_output=True, cwd=ROOT, check=True)
        import io
        import pstats
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(top)
        return s.getvalue()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--T0", type=float, default=0.20)
    ap.add_argument("--skip-scan", action="store_true", help="leave out the stability --lam-scan process")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args(argv)
    if a.runs < 3:
        ap.error("--runs must be >= 3")
    T0 = str(a.T0)
    base = [sys.executable, os.path.join(HERE, "dense_scan.py"), "--T0", T0, "--json"]
    lc = [EPHKIN, "lambda-c", "--spectrum", "modes:40-60", "--T0", T0, "--method", "linear", "--json"]
    print(f"load average before: {os.getloadavg()}")
    tb, tl, ts, info = [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(a.runs):
            dt, out = wall(base)
            tb.append(dt)
            info["dense"] = json.loads(out)
            dt, out = wall(lc)
            tl.append(dt)
            info["lambda_c"] = json.loads(out)
            if not a.skip_scan:
                scan = [EPHKIN, "stability", "--spectrum", "modes:40-60", "--T0", T0, "--lam-scan", "1", "2", "101",
                        "-o", os.path.join(tmp, f"scan{k}")]
                dt, _ = wall(scan)
                ts.append(dt)
            print(f"run {k + 1}: dense scan {tb[-1]:.2f} s | lambda-c {tl[-1]:.2f} s ({tb[-1] / tl[-1]:.1f}x)"
                  + (f" | stability --lam-scan {ts[-1]:.2f} s ({tb[-1] / ts[-1]:.2f}x)" if ts else ""), flush=True)
    d, r = info["dense"], info["lambda_c"]
    r = r["results"][0] if "results" in r else r
    print(f"dense scan: L = {d['L']}, lambda_c ~ {d['lambda_c']:.5f} in bracket {d['bracket']}")
    print(f"lambda-c linear: {json.dumps({k: r.get(k) for k in ('L', 'lambda_c', 'evaluations', 'kernel_matvecs')})}")
    print(f"wall (s), min / median / max of {a.runs}: dense scan {stats(tb)} | lambda-c {stats(tl)}"
          + (f" | stability --lam-scan {stats(ts)}" if ts else ""))
    print(f"speed-up vs the dense scan: lambda-c {stats([b / c for b, c in zip(tb, tl)])}x"
          + (f" | stability --lam-scan {stats([b / c for b, c in zip(tb, ts)])}x" if ts else ""))
    print(f"load average after: {os.getloadavg()}")
    if a.profile:
        print("\n== cProfile, ephkin lambda-c (cumulative)\n" + profile(lc))
        if not a.skip_scan:
            with tempfile.TemporaryDirectory() as tmp:
                print("\n== cProfile, ephkin stability --lam-scan (cumulative)\n"
                      + profile([EPHKIN, "stability", "--spectrum", "modes:40-60", "--T0", T0, "--lam-scan", "1", "2",
                                 "101", "-o", tmp]))


if __name__ == "__main__":
    main()
