"""lambda_c: the coupling at which A_hat first acquires a negative eigenvalue (Eq. (14), Sylvester's law).

The root in lambda of mu_min(lambda), the smallest eigenvalue of A_hat -- matrix-free with SLEPc
(:class:`~.smallest.SmallestEigenvalue`, warm-started across lambda, Newton steps with the Hellmann-Feynman
slope) or dense LAPACK (reference) -- checked by the inertia just above the root; or plain bisection on the
inertia count; and the Rayleigh-Ritz value on a graded grid (:func:`lambda_c_graded`).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from ephkin.pde.errors import InputError
from ephkin.pde.grids import default_grid
from ephkin.pde.instability import lambda_c_zinv

from .common import DENSE_MAX, LC_DENSE_MAX, make_problem
from .counting import inertia, one_negative, positive_definite
from .smallest import DenseSmallest, SmallestEigenvalue

__all__ = ["lambda_c_linear", "lambda_c_graded", "initial_size"]


def lambda_c_linear(shape, T0, units="g", kernel="exact", refine=1, grid_step=None, cutoff=None,
                    solver="auto", rtol=1e-9, lam_max=1e4, pv=None):
    """lambda_c where A_hat first acquires a negative eigenvalue (Eq. (14), Sylvester's law).

    solver: "slepc" (matrix-free mu_min, warm-started), "dense" (LAPACK mu_min, L <= DENSE_MAX), "auto"
    (dense up to L = LC_DENSE_MAX, where the LAPACK solves cost less than the SLEPc ones plus starting PETSc
    and MPI, measured as whole processes; SLEPc beyond), or "inertia" (bisection on the inertia count,
    L <= DENSE_MAX).  From the quick Z0-criterion estimate, mu_min(lambda) = 0 is solved by Newton with the
    Hellmann-Feynman slope v^T (dA_hat/dlambda) v; bracketing + brentq if the iteration strays; the result is checked by
    the inertia just above (exactly one negative eigenvalue) and just below (Cholesky succeeds;
    above L = DENSE_MAX: mu_min > 0), else
    the first crossing is searched from below.  Returns a dict with lambda_c, the grid data and
    n_negative just above lambda_c (L <= DENSE_MAX).
    """
    from ephkin.pde.linearized import CouplingFamily

    guess, L0 = initial_size(shape, T0, units, refine, grid_step, cutoff, lam_max)
    # the family reuses the kernel transforms (and in plain units Z0^-1) across lambda and gives the analytic
    # Hellmann-Feynman slope
    fam = CouplingFamily(shape, T0, units, kernel, refine, grid_step, None, L0, pv)
    prob = fam.problem
    if solver == "auto":
        solver = "dense" if L0 <= LC_DENSE_MAX else "slepc"
    if solver in ("dense", "inertia") and L0 > DENSE_MAX:
        raise InputError(f"--solver {solver} needs L <= {DENSE_MAX} (L = {L0}); use --solver slepc")
    evals = {"n": 0}
    mu = None
    try:  # the SLEPc solver of mu_min (SmallestEigenvalue) lives inside this try, destroyed in its finally
        if solver == "inertia":
            f = lambda lam: -0.5 if inertia(prob(lam).ahat_dense())[0] > 0 else 0.5  # noqa: E731
        else:
            mu = DenseSmallest() if solver == "dense" else SmallestEigenvalue()
            f = lambda lam: mu(prob(lam))  # noqa: E731
        lam_c, check = _root(f, evals, fam, prob, mu, solver, guess, rtol, lam_max, L0)
    finally:
        if mu is not None:
            mu.destroy()
    if lam_c is None:
        return {"lambda_c": None, "reason": check, "solver": solver}
    p = prob(lam_c)
    out = {"lambda_c": lam_c, "solver": solver, "kernel": kernel, "pv": p.pv, "units": units, "T0": T0,
           "grid_step": p.grid.eps, "cutoff": p.grid.cutoff, "L": p.grid.L, "refine": refine,
           "lambda_c_zinv_estimate": guess, "evaluations": evals["n"]}
    if fam.slope_method:
        out["slope"] = fam.slope_method
    if p.grid.L <= DENSE_MAX:
        above = check or inertia(prob(lam_c * (1 + 10 * rtol)).ahat_dense())
        below = 0 if check else inertia(prob(lam_c * (1 - 10 * rtol)).ahat_dense())[0]
        out.update(n_negative=above[0], n_negative_below=below, inertia_backend=above[3])
    out["kernel_matvecs"] = fam.kernel_matvecs
    return out


def initial_size(shape, T0, units="g", refine=1, grid_step=None, cutoff=None, lam_max=1e4):
    """(guess, L0) of :func:`lambda_c_linear`: the quick Z0-criterion estimate of lambda_c and the number of grid
    points L0 the linear problem keeps for every lambda -- its value at the guess plus a margin, so that the
    cutoff never shrinks below the default when lambda moves and the eigen solver can be warm-started.  The
    "auto" solver is chosen from L0 (``LC_DENSE_MAX``)."""
    guess = lambda_c_zinv(shape, T0, units=units, lam_max=lam_max, lam_min=0.1, xtol=1e-3,
                          refine_min=False, factor=2.0)["lambda_c"] or 1.0
    return guess, int(1.1 * default_grid(shape.with_lambda(guess, units), T0, refine, grid_step, cutoff).L)


def _root(f, evals, fam, prob, mu, solver, guess, rtol, lam_max, L0):
    """(lambda_c, check) of :func:`lambda_c_linear` for mu_min(lambda) = ``f`` (``mu``: its solver, None for the
    inertia count): Newton, checked by the inertia around the root, else bracketing from below; (None,
    reason) when there is no crossing up to ``lam_max``.  ``check`` is the inertia just above (L <= DENSE_MAX)."""

    def counted(lam):
        evals["n"] += 1
        return f(lam)

    def mu_and_slope(lam):
        # Hellmann-Feynman: d mu/d lambda = v^T (dA_hat/d lambda) v for the unit eigenvector v
        m = counted(lam)
        return m, fam.slope(lam, mu.vector())

    lam_c = None if solver == "inertia" else _newton(mu_and_slope, guess, rtol)
    check = None
    if lam_c is not None:
        # a simple first crossing: exactly one negative eigenvalue just above, none just below
        if L0 <= DENSE_MAX:
            # fresh dense matrices, factorised in place (nothing else needs them)
            above = prob(lam_c * (1 + 10 * rtol))
            check = one_negative(above.ahat_dense(cache=False), mu.vector(), overwrite=True)
            check = check or inertia(above.ahat_dense())
            first = check[0] == 1 and positive_definite(prob(lam_c * (1 - 10 * rtol)).ahat_dense(cache=False),
                                                        overwrite=True)
        else:
            first = counted(lam_c * (1 - 10 * rtol)) > 0
        if not first:
            lam_c = check = None  # search from below
    if lam_c is None:
        lo, hi = _bracket(counted, guess, lam_max)
        if lo is None:
            return None, hi
        if solver == "inertia":
            while hi - lo > rtol * hi:
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if counted(mid) > 0 else (lo, mid)
            lam_c = 0.5 * (lo + hi)
        else:
            lam_c = brentq(counted, lo, hi, xtol=rtol * hi, rtol=1e-14)
    return lam_c, check


def lambda_c_graded(shape, T0, units="g", kernel="exact", refine=1, cutoff=None, h_min=None, growth=1.08,
                    rtol=1e-9, lam_max=1e4, pv=None):
    """lambda_c on a nonuniform (graded) grid: Rayleigh-Ritz in hat functions (pde.linearized.GalerkinProblem).

    Nodes are fine (h_min, default max(T0/8, 3 eps_fine)) near E = 0 and near the minimum and
    zeros of Z0^-1 at the Z0-criterion estimate, and grow geometrically elsewhere;
    the integrals use the uniform fine grid (``refine``) with A applied by FFT.
    The Ritz value is an upper bound, so lambda_c(graded) >= lambda_c(fine).
    """
    from ephkin.pde.grids import graded_nodes
    from ephkin.pde.instability import zinv_analysis
    from ephkin.pde.linearized import GalerkinProblem

    guess = lambda_c_zinv(shape, T0, units=units, lam_max=lam_max, lam_min=0.1, xtol=1e-3,
                          refine_min=False, factor=2.0)["lambda_c"] or 1.0
    probe = make_problem(shape, guess, T0, units, kernel, refine, None, cutoff, pv=pv)
    C = probe.grid.cutoff * 1.05
    z = zinv_analysis(shape.with_lambda(guess, units), T0)
    if h_min is None:
        h_min = max(T0 / 8.0, 3.0 * probe.grid.eps)
    nodes = graded_nodes(T0, C, focus=[z["E_min"]] + z["zeros"], h_min=h_min, growth=growth)
    evals = {"n": 0}

    def f(lam):
        evals["n"] += 1
        return GalerkinProblem(make_problem(shape, lam, T0, units, kernel, refine, None, C, pv=pv), nodes).mu_min()

    lam_c = _secant(f, guess, rtol)
    if lam_c is None:
        lo, hi = _bracket(f, guess, lam_max)
        if lo is None:
            return {"lambda_c": None, "reason": hi, "solver": "graded"}
        lam_c = brentq(f, lo, hi, xtol=rtol * hi, rtol=1e-14)
    fine = make_problem(shape, lam_c, T0, units, kernel, refine, None, C, pv=pv)
    return {"lambda_c": lam_c, "solver": "graded-galerkin", "kernel": kernel, "pv": fine.pv, "units": units,
            "T0": T0, "grid": "graded", "nodes": int(nodes.size), "h_min": float(np.min(np.diff(nodes))),
            "h_max": float(np.max(np.diff(nodes))), "cutoff": C, "fine_grid_step": fine.grid.eps,
            "fine_L": fine.grid.L, "evaluations": evals["n"]}


def _newton(f_df, guess, rtol, maxit=20):
    """Newton iteration for f(lambda) = 0 with f_df returning (f, f'); None if it strays or stalls."""
    x = guess
    for _ in range(maxit):
        f, df = f_df(x)
        if df == 0.0:
            return None
        step = f / df
        x_new = x - step
        if not (0.2 * guess < x_new < 5.0 * guess):
            return None
        if abs(step) <= rtol * abs(x_new):
            return x_new
        x = x_new
    return None


def _secant(f, guess, rtol, maxit=30):
    """Secant iteration for f(lambda) = 0 from (guess, 0.98 guess); None if it strays or stalls."""
    x0, x1 = guess, 0.98 * guess
    f0, f1 = f(x0), f(x1)
    for _ in range(maxit):
        if f1 == f0:
            return None
        x2 = x1 - f1 * (x1 - x0) / (f1 - f0)
        if not (0.2 * guess < x2 < 5.0 * guess):
            return None
        if abs(x2 - x1) <= rtol * abs(x2):
            return x2
        x0, f0, x1, f1 = x1, f1, x2, f(x2)
    return None


def _bracket(f, guess, lam_max):
    """(lo, hi) with f(lo) > 0 >= f(hi), searching around ``guess``; (None, reason) if none."""
    lo, hi = 0.9 * guess, 1.02 * guess
    while f(lo) <= 0:
        hi, lo = lo, 0.8 * lo
        if lo < 1e-3:
            return None, "unstable at every coupling scanned (lambda >= 1e-3)"
    while f(hi) > 0:
        lo, hi = hi, 1.25 * hi
        if hi > lam_max:
            return None, f"A stays positive definite up to lambda = {lam_max:g}"
    return lo, hi
