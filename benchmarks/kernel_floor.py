"""Benchmark (issue 17): the kernel product of seed 000 Eq. (S20) against the FFT floor.

1. Per product, at each L: the floor -- one bare ``scipy.fft.rfft`` + ``irfft`` pair (overwrite_x) at
   n = next_fast_len(2L - 1) -- against ``KernelOperator.matvec`` (one rfft + one irfft,
   Toeplitz and Hankel combined in frequency space) and the product it replaced (four
   numpy FFTs at the power of two >= 3L, ``four_fft_product`` of tests/test_kernel_product.py, the baseline).
2. Whole computations as multiples of (kernel products) x floor:
   - lambda_c, linear method (``solvers.stability.lambda_c_linear``, modes:40-60, T0 = 0.204);
     products counted on every KernelOperator created during the call;
   - ``evolve`` (Einstein lambda = 1, T0 = 0.20, T_in = 0.202, t_end = 20) from
     ``KineticModel.kernel_matvecs`` (Sigma and the Jacobian/mass action, all of length L).
   Ratio = wall time / (products x floor): 1 would mean nothing but the transforms.
3. ``--evolve-cli R ...``: the whole ``ephkin evolve --spectrum einstein --lam 1 --T0 0.20 --T-in 0.202
   --t-end 20 --refine R --json`` process (TS plus the CLI's diagnostics), wall and peak RSS of the
   child, ``kernel_matvecs`` from its JSON, wall / (kernel_matvecs x floor at L).  A child whose
   resident memory passes --rss-limit-gb is killed and reported as such.  ``--profile-cli R``:
   cProfile (cumulative) of one such process.

Every figure is min / median / max over ``--runs`` runs (>= 3) in one process.

Run:  .venv/bin/python benchmarks/kernel_floor.py [--L 30000 100000] [--runs 3]
          [--lambda-c-refine 64 200] [--evolve-refine 32 125] [--skip-whole]
          [--evolve-cli 32] [--profile-cli 32] [--rss-limit-gb 8]
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.fft as sfft  # noqa: E402

from ephkin.pde import linearized  # noqa: E402
from ephkin.pde.linearized import KernelOperator  # noqa: E402
from ephkin.pde.spectra import parse_spectrum  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from test_kernel_product import four_fft_product  # noqa: E402  (the product before issue 17: the baseline)


def interleaved(fns, reps):
    """Per-call wall times of the callables ``fns``, called in turn ``reps`` times (so that a busy
    machine slows them alike); returns the median per callable (s)."""
    times = [[] for _ in fns]
    for _ in range(reps):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def stats(xs):
    return min(xs), statistics.median(xs), max(xs)


def fmt(xs, unit=1e3, digits=3):
    lo, med, hi = stats(xs)
    return f"{lo * unit:.{digits}g} / {med * unit:.{digits}g} / {hi * unit:.{digits}g}"


def _pair(L):
    n = sfft.next_fast_len(2 * L - 1, real=True)
    x = np.random.default_rng(0).standard_normal(n)
    return lambda: sfft.irfft(sfft.rfft(x), n, overwrite_x=True)


def floor_time(L, reps=21):
    """Median time of one bare rfft + irfft pair at next_fast_len(2L - 1) (s)."""
    return interleaved([_pair(L)], reps)[0]


def product_table(Ls, runs):
    print(f"\n== one kernel product vs the floor (ms per product; min / median / max of {runs} runs, each the median of"
          " interleaved calls)")
    print(f"{'L':>8} {'n':>8} | {'floor rfft+irfft':>22} | {'KernelOperator.matvec':>22} | {'old 4-FFT product':>22} |"
          f" {'new/floor':>17} | {'old/new':>17} | {'rel. diff':>9}")
    rng = np.random.default_rng(1)
    for L in Ls:
        r = np.arange(40, 61) * max(1, L // 500)  # modes:40-60 at refine ~ L/500: kernel width ~ L/10
        K = KernelOperator(L, r, rng.random(r.size))
        x = rng.standard_normal(L)
        reps = max(5, min(200, int(4e6 / K.n)))
        fl, new, old = [], [], []
        for _ in range(runs):
            a, b, c = interleaved([_pair(L), lambda: K.matvec(x), lambda: four_fft_product(K, x)], reps)
            fl.append(a), new.append(b), old.append(c)
        y, y0 = K.matvec(x), four_fft_product(K, x)
        diff = np.linalg.norm(y - y0) / np.linalg.norm(y0)
        r1 = [b / a for a, b in zip(fl, new)]
        r2 = [c / b for b, c in zip(new, old)]
        print(f"{L:8d} {K.n:8d} | {fmt(fl):>22} | {fmt(new):>22} | {fmt(old):>22} |"
              f" {fmt(r1, 1):>17} | {fmt(r2, 1):>17} | {diff:9.1e}")


class _Registry:
    """Counts the products of every KernelOperator built while active (instrumentation only)."""

    def __enter__(self):
        self.ops = []
        self._init = KernelOperator.__init__
        reg = self.ops

        def init(op, *a, **k):
            self._init(op, *a, **k)
            reg.append(op)

        KernelOperator.__init__ = init
        return self

    def __exit__(self, *exc):
        KernelOperator.__init__ = self._init

    def by_length(self):
        out = {}
        for op in self.ops:
            out[op.L] = out.get(op.L, 0) + op.total_matvecs
        return out


def whole(label, run, runs):
    """Run ``run`` (returns (result, {L: products})) ``runs`` times; wall time against products x floor."""
    walls, ratios = [], []
    for _ in range(runs):
        t = time.perf_counter()
        res, counts = run()
        wall = time.perf_counter() - t
        fl = sum(c * floor_time(L) for L, c in counts.items())
        walls.append(wall)
        ratios.append(wall / fl)
    nprod = sum(counts.values())
    Ls = ",".join(str(L) for L in sorted(counts))
    print(f"{label:<44} L={Ls:<14} products={nprod:6d} floor x products={fl:7.3f} s | wall {fmt(walls, 1, 4)} s |"
          f" wall/(products x floor) {fmt(ratios, 1, 3)}  [{res}]")


def lambda_c_runs(refines, runs):
    from ephkin.solvers.stability import lambda_c_linear

    shape = parse_spectrum("modes:40-60")
    lambda_c_linear(shape, 0.204)  # warm-up: tables, PETSc/SLEPc initialisation

    for ref in refines:
        def run():
            with _Registry() as reg:
                r = lambda_c_linear(shape, 0.204, refine=ref, solver="slepc")
            return f"lambda_c={r['lambda_c']:.9f}, {r['evaluations']} solves", reg.by_length()

        whole(f"lambda_c linear, modes:40-60, T0=0.204, refine {ref}", run, runs)


def evolve_runs(refines, runs):
    from ephkin.pde.kinetic import KineticModel
    from ephkin.solvers.evolution import evolve
    from ephkin.solvers.stability import make_problem

    shape = parse_spectrum("einstein")
    for ref in refines:
        def run():
            model = KineticModel(make_problem(shape, 1.0, 0.20, refine=ref))
            r = evolve(model, 0.202, 20.0, rtol=1e-6, atol=1e-10)
            counts = {model.L: model.K.matvecs}
            return f"{r['status']}, {r.get('steps', '?')} steps", counts

        whole(f"evolve, Einstein lam=1, T0=0.20, refine {ref}", run, runs)


EVOLVE_CLI = ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.20", "--T-in", "0.202", "--t-end", "20",
              "--json"]


def _ephkin():
    import sys

    return os.path.join(os.path.dirname(sys.executable), "ephkin")


def run_child(cmd, rss_limit_gb, timeout_s=None):
    """Wall (s), peak RSS (MB) and stdout of one child; killed (SIGKILL) once its RSS passes the limit
    (or its wall time passes ``timeout_s``: then the fourth value is the negative wall time)."""
    import subprocess
    import tempfile
    import threading

    with tempfile.TemporaryFile("w+") as out:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        killed = []

        def watch():
            while p.poll() is None:
                try:
                    with open(f"/proc/{p.pid}/status") as fh:
                        rss = next(int(l.split()[1]) for l in fh if l.startswith("VmRSS"))
                except (OSError, StopIteration):
                    rss = 0
                if rss > rss_limit_gb * 2**20:
                    killed.append(rss / 1024)
                    p.kill()
                    return
                if timeout_s is not None and time.perf_counter() - t > timeout_s:
                    killed.append(-(time.perf_counter() - t))
                    p.kill()
                    return
                time.sleep(0.2)

        th = threading.Thread(target=watch, daemon=True)
        th.start()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        dt = time.perf_counter() - t
        th.join()
        out.seek(0)
        return dt, ru.ru_maxrss / 1024, out.read(), (killed[0] if killed else None), p.returncode


def evolve_cli_runs(refines, runs, rss_limit_gb, extra=()):
    import json

    for ref in refines:
        cmd = [_ephkin()] + EVOLVE_CLI + ["--refine", str(ref)] + list(extra)
        walls, rsss, ratios = [], [], []
        for _ in range(runs):
            dt, rss, out, killed, rc = run_child(cmd, rss_limit_gb)
            if killed or rc != 0:
                print(f"ephkin evolve --refine {ref}: {f'killed at RSS {killed:.0f} MB' if killed else f'exit {rc:d}'}"
                      f" after {dt:.1f} s (limit {rss_limit_gb} GB)", flush=True)
                break
            r = json.loads(out)
            fl = r["kernel_matvecs"] * floor_time(r["L"])
            walls.append(dt), rsss.append(rss), ratios.append(dt / fl)
        if walls:
            print(f"ephkin evolve {' '.join(extra)} (whole process) refine {ref}: L={r['L']} steps={r['steps']} "
                  f"kernel_matvecs={r['kernel_matvecs']} ({r['kernel_matvecs_per_step']:.1f}/step) "
                  f"floor x products={fl:.3f} s | "
                  f"wall {fmt(walls, 1, 4)} s | peak RSS {fmt(rsss, 1, 4)} MB | wall/(products x floor) "
                  f"{fmt(ratios, 1, 3)}  [{r['status']}, elapsed_s {r['elapsed_s']}]", flush=True)


def profile_cli(ref, top=25):
    import io
    import pstats
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        prof = os.path.join(d, "p.prof")
        code = ("import sys, cProfile; from ephkin.solvers.cli import main; sys.argv = ['ephkin'] + sys.argv[1:];"
                f"cProfile.run('try:\\n main()\\nexcept SystemExit: pass', {prof!r})")
        subprocess.run([sys.executable, "-c", code] + EVOLVE_CLI + ["--refine", str(ref)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(top)
        print(f"\n== cProfile of ephkin evolve --refine {ref} (cumulative)\n" + s.getvalue())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--L", type=int, nargs="+", default=[1000, 5000, 30000, 100000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lambda-c-refine", type=int, nargs="*", default=[64, 200])
    ap.add_argument("--evolve-refine", type=int, nargs="*", default=[8, 32])
    ap.add_argument("--skip-whole", action="store_true", help="only the per-product table")
    ap.add_argument("--evolve-cli", type=int, nargs="*", default=[], help="refine of whole ephkin evolve processes")
    ap.add_argument("--profile-cli", type=int, nargs="*", default=[], help="refine of cProfiled ephkin evolve runs")
    ap.add_argument("--rss-limit-gb", type=float, default=8.0)
    ap.add_argument("--cli-args", default="",
                    help="extra ephkin evolve arguments for --evolve-cli, e.g. '--no-diagnostics'")
    a = ap.parse_args(argv)
    if a.runs < 3:
        ap.error("--runs must be >= 3")
    print(f"scipy {__import__('scipy').__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"OMP/OPENBLAS threads {os.environ.get('OMP_NUM_THREADS')}/{os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"load average before: {os.getloadavg()}")
    product_table(a.L, a.runs)
    if a.skip_whole:
        return
    print(f"\n== whole computations as multiples of (kernel products) x floor (min / median / max of {a.runs} runs)")
    lambda_c_runs(a.lambda_c_refine, a.runs)
    evolve_runs(a.evolve_refine, a.runs)
    evolve_cli_runs(a.evolve_cli, a.runs, a.rss_limit_gb, a.cli_args.split())
    for ref in a.profile_cli:
        profile_cli(ref)
    print(f"load average after: {os.getloadavg()}")
    assert linearized.KernelOperator.__init__ is KernelOperator.__init__


if __name__ == "__main__":
    main()
