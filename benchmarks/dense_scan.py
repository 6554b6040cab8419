"""Baseline (issue 17): the seed authors' workflow for lambda_c, as a plain SciPy script.

At each of 101 lambda in [1, 2] (modes:40-60 by default, T0 = 0.20, the default grid of
``ephkin lambda-c`` / ``ephkin stability``, i.e. the same L), build A_hat and M_hat with the dense
reference of ``ephkin.pde``'s LinearizedProblem (``ahat_dense()``, ``m_sparse(scaled=True)``),
compute the whole generalized spectrum ``scipy.linalg.eigh(A_hat, M_hat)`` and read lambda_c off
the first sign change of the smallest eigenvalue mu_min (linear interpolation between the two
lambda around it).  LAPACK runs with the BLAS threads the environment gives it (the authors'
script would not pin them).

Used as the same-run baseline of ``ephkin lambda-c --method linear`` and
``ephkin stability --lam-scan 1 2 101`` in benchmarks/lambda_c_process.py.

Run:  .venv/bin/python benchmarks/dense_scan.py [--spectrum modes:40-60] [--T0 0.20]
          [--lam 1 2 101] [--json]
"""

import argparse
import json
import time

import numpy as np
import scipy.linalg as sla

from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import make_problem


def scan(spectrum="modes:40-60", T0=0.20, lmin=1.0, lmax=2.0, n=101):
    shape = parse_spectrum(spectrum)
    lams = np.linspace(lmin, lmax, n)
    mu_min, L = [], None
    for lam in lams:
        p = make_problem(shape, float(lam), T0)
        L = p.grid.L
        mu = sla.eigh(p.ahat_dense(), p.m_sparse(scaled=True).toarray(), eigvals_only=True)
        mu_min.append(float(mu[0]))
    mu_min = np.array(mu_min)
    neg = np.nonzero(mu_min < 0)[0]
    lam_c = None
    if neg.size and neg[0] > 0:
        k = neg[0]
        a, b = mu_min[k - 1], mu_min[k]
        lam_c = float(lams[k - 1] + (lams[k] - lams[k - 1]) * a / (a - b))
    return {"spectrum": spectrum, "T0": T0, "L": L, "n_lambda": n, "lambda_c": lam_c,
            "bracket": [float(lams[neg[0] - 1]), float(lams[neg[0]])] if neg.size and neg[0] > 0 else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spectrum", default="modes:40-60")
    ap.add_argument("--T0", type=float, default=0.20)
    ap.add_argument("--lam", type=float, nargs=3, default=[1.0, 2.0, 101], metavar=("LMIN", "LMAX", "N"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    t = time.perf_counter()
    r = scan(a.spectrum, a.T0, a.lam[0], a.lam[1], int(a.lam[2]))
    r["elapsed_s"] = time.perf_counter() - t
    if a.json:
        print(json.dumps(r))
    else:
        print(f"dense 101-lambda eigh scan, {a.spectrum}, T0 = {a.T0}, L = {r['L']}: lambda_c ~ {r['lambda_c']} "
              f"(bracket {r['bracket']}) in {r['elapsed_s']:.2f} s")
    return r


if __name__ == "__main__":
    main()
