"""Linear stability engines: inertia of A, lambda_c, and the gamma spectrum (seed 000 Eq. (14)).

* Inertia (Sylvester's law, docs/theory.md §3): M is positive
  (semi)definite, so the number of negative gamma equals the number of negative
  eigenvalues of A_hat = S A S.  Counted from an LDL^T factorisation: LAPACK
  (``scipy.linalg.ldl``) on the dense A_hat up to DENSE_MAX, MUMPS through PETSc on
  A_hat assembled from FFT products above (:func:`inertia`, :func:`count_unstable`).
* lambda_c: the root in lambda of mu_min(lambda), the smallest eigenvalue of
  A_hat -- matrix-free with SLEPc on a shell Mat whose product is the FFT
  kernel, preconditioned by |diagonal| and warm-started across lambda (Newton
  steps), or dense LAPACK (reference) -- checked by the inertia just above the
  root; or plain bisection on the inertia count.
* gamma spectrum: the pencil M x = gamma A x with SLEPc, shift-and-invert
  around a target (default just below 0, so that the ladder null modes of M come
  out as gamma = 0), options under the prefix ``-stab_``.

All PETSc objects are created on the point's communicator (``solvers.bridge.comm``:
COMM_SELF, or a rank group of ``ephkin sweep --group-size K``) and destroyed after use.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.optimize import brentq

from ephkin.pde.errors import InputError
from ephkin.pde.grids import available_memory, default_grid
from ephkin.pde.instability import lambda_c_zinv
from ephkin.pde.linearized import LinearizedProblem

from . import prefixes
from .bridge import aij, comm, gather, parallel, scatter
from .eps import create_eps, eigenpairs, solve_eigensystem
from .petsc_env import init_petsc

PREFIX = prefixes.STABILITY
DENSE_MAX = 3000  # largest L for the dense eigen/inertia paths
SUMMARY_DENSE_MAX = 1200  # largest L at which the stability command's "auto" takes one dense eigh (no PETSc)
LC_DENSE_MAX = 600  # largest L at which lambda_c_linear's "auto" takes LAPACK (no PETSc start-up)
NULL_TOL = 1e-10  # eigenvalues of M_hat <= NULL_TOL max diag(M_hat) are ladder null modes (docs/theory.md §5)
# discrete modes are counted up to (1 - CONTINUUM_MARGIN) x the edge of the continuous spectrum: on a grid the
# continuum's samples reach O(eps) below the edge of the local rates (Pb model, refine 1: 0.058268 < 0.058270)
CONTINUUM_MARGIN = 1e-3
CONTINUUM_KEYS = ("gamma_continuum_edge", "gamma_continuum_edge_negative", "n_discrete_positive",
                  "n_discrete_negative")


# ------------------------------------------------------------------ inertia
def inertia(ahat, backend="auto"):
    """(n_negative, n_zero, n_positive, backend) of the symmetric matrix ``ahat`` (dense ndarray).

    backend: "scipy" (LAPACK ``sytrf`` through ``scipy.linalg.ldl``; also "auto": on a dense matrix
    it is 2-4x faster than MUMPS, e.g. 0.30 s against 0.6-1.2 s at L = 2524, and needs no PETSc),
    or "mumps" (PETSc Cholesky/LDL^T with MUMPS, ICNTL(24) null-pivot detection; the second
    backend the tests compare with).
    """
    if backend == "mumps":
        PETSc, _ = init_petsc()
        if not PETSc.Sys.hasExternalPackage("mumps"):
            raise InputError("this PETSc has no MUMPS; use the LAPACK inertia (backend 'scipy')", "backend")
        # entries below 1e-15 of the largest (far from the Fermi level sqrt(f0'_i f0'_j) is
        # exponentially small) cannot move an eigenvalue across 0 by more than ~1e-15 L
        A = aij(ahat, drop=1e-15 * float(np.max(np.abs(ahat))))
        try:
            nneg, nzero, npos = _mumps_inertia(A, pivot_tol=1e-12 * float(np.max(np.abs(ahat))))
            return nneg, nzero, npos, "petsc-mumps"
        finally:
            A.destroy()
    if backend not in ("auto", "scipy"):
        raise InputError(f"backend must be 'auto', 'scipy' or 'mumps' (got {backend!r})", "backend")
    _, d, _ = sla.ldl(ahat, lower=True, hermitian=True)
    ev = np.linalg.eigvalsh(d) if d.shape[0] <= 1 else _block_diag_eigs(d)
    tol = 1e-12 * max(1.0, float(np.max(np.abs(ev))))
    return int(np.sum(ev < -tol)), int(np.sum(np.abs(ev) <= tol)), int(np.sum(ev > tol)), "scipy-ldl"


def positive_definite(ahat, c=0.0, v=None, overwrite=False):
    """Whether the dense symmetric ``ahat`` (+ c v v^T) is positive definite: its Cholesky
    factorisation (LAPACK ``potrf``, ~L^3/3 flops) runs to the end.  ``overwrite``: factorise
    ``ahat`` in place when it is a writable Fortran-ordered array, else a copy."""
    B = ahat if overwrite and ahat.flags.f_contiguous and ahat.flags.writeable else np.array(ahat, order="F")
    if v is not None:
        B = sla.blas.dsyr(c, v, lower=1, a=B, overwrite_a=1)  # the lower triangle is all potrf reads
    return sla.lapack.dpotrf(B, lower=1, clean=0, overwrite_a=1)[1] == 0


def one_negative(ahat, v, overwrite=False):
    """(1, 0, L - 1, backend) if the dense symmetric ``ahat`` has exactly one negative eigenvalue
    (inertia certified by two cheap facts), else None.

    At least one: the Rayleigh quotient v^T ahat v < 0.  At most one: ahat + c v v^T is positive
    definite (its Cholesky runs to the end), and a positive semidefinite rank-one update lowers
    the number of negative eigenvalues by at most one, whatever v and c > 0.  ``potrf`` is
    faster than the LDL^T of :func:`inertia` (LAPACK ``sytrf``, 1.4x at L = 1493, 20x at
    L = 500), which is the fallback when v is too poor an eigenvector for the certificate.
    ``overwrite``: as for :func:`positive_definite` (``ahat`` is then destroyed).
    """
    v = np.asarray(v, dtype=float) / np.linalg.norm(v)
    if not float(v @ (ahat @ v)) < 0.0:
        return None
    c = max(1.0, float(np.max(np.abs(np.diagonal(ahat)))))
    if not positive_definite(ahat, c, v, overwrite):
        return None
    return 1, 0, ahat.shape[0] - 1, "scipy-cholesky (rank-one certificate)"


def _block_diag_eigs(d):
    """Eigenvalues of the 1x1/2x2 block-diagonal D of an LDL^T factorisation."""
    n, ev, i = d.shape[0], [], 0
    while i < n:
        if i + 1 < n and d[i + 1, i] != 0.0:
            ev.extend(np.linalg.eigvalsh(d[i : i + 2, i : i + 2]))
            i += 2
        else:
            ev.append(d[i, i])
            i += 1
    return np.asarray(ev)


# ------------------------------------------------------- smallest eigenvalue
class _AhatShell:
    """Python context of a PETSc shell Mat: y = A_hat x by FFT, diagonal for Jacobi."""

    def __init__(self, problem):
        self.p = problem

    def mult(self, mat, x, y):
        scatter(self.p.ahat_matvec(gather(x)), y)

    def getDiagonal(self, mat, d):
        scatter(self.p.ahat_diagonal(), d)


class _AbsJacobi:
    """Preconditioner 1/(|diag A_hat| + 0.05): SPD even where Z0^-1 < 0 makes the diagonal indefinite."""

    def __init__(self, diagonal):
        self.inv = 1.0 / (np.abs(diagonal) + 0.05)

    def apply(self, pc, x, y):
        lo, hi = x.getOwnershipRange()
        y.array[:] = self.inv[lo:hi] * x.array_r


class SmallestEigenvalue:
    """mu_min(A_hat) matrix-free with SLEPc (Generalized Davidson + |diagonal| preconditioner).

    One EPS is kept across calls with the same L and warm-started from the
    previous eigenvector (the root-finder in lambda calls it repeatedly); call
    :meth:`destroy` when done.  Options under ``-stab_lc_`` (e.g.
    ``-stab_lc_eps_type lobpcg``, ``-stab_lc_eps_tol``).
    """

    def __init__(self, tol=1e-8):
        # residual tolerance: for a Hermitian matrix the eigenvalue error is ~ tol^2/gap
        self.tol = tol
        self.L = None
        self.eps = self.A = self.v = None

    def _setup(self, problem):
        PETSc, _ = init_petsc()
        self.destroy()
        L = self.L = problem.grid.L
        self.shell, self.pcctx = _AhatShell(problem), _AbsJacobi(problem.ahat_diagonal())
        self.A = PETSc.Mat().createPython([L, L], context=self.shell, comm=comm())
        self.A.setUp()
        # absolute residual test: near lambda_c, mu_min -> 0 and a relative test never converges
        self.eps = create_eps(self.A, prefix=PREFIX + "lc_", problem_type="HEP", eps_type="gd",
                              which="SMALLEST_REAL", nev=1, conv_abs=True, tol=self.tol, max_it=5000,
                              st_type="precond", pc_type="python", pc_context=self.pcctx)
        self.v = None

    def __call__(self, problem):
        if self.L != problem.grid.L:
            self._setup(problem)
        else:
            self.shell.p = problem
            self.pcctx.inv = 1.0 / (np.abs(problem.ahat_diagonal()) + 0.05)
            self.eps.setOperators(self.A)
        if self.v is None:
            # cold start: the lowest mode sits where Z0^-1 (the diagonal) dips
            self.v = self.A.createVecRight()
            d = problem.ahat_diagonal()
            k = np.arange(d.size)
            scatter(np.exp(-0.5 * ((k - np.argmin(d)) / max(2.0, 0.02 * d.size)) ** 2), self.v)
        self.eps.setInitialSpace([self.v])
        self.eps.solve()
        if self.eps.getConverged() < 1:
            raise RuntimeError("SLEPc found no eigenvalue of A_hat (raise -stab_lc_eps_max_it?)")
        return float(self.eps.getEigenpair(0, self.v).real)

    def vector(self):
        """The eigenvector of the last call (ndarray, unit norm)."""
        return gather(self.v)

    def destroy(self):
        for obj in (self.v, self.eps, self.A):
            if obj is not None:
                obj.destroy()
        self.eps = self.A = self.v = None
        self.L = None


def mu_min_dense(problem):
    """Smallest eigenvalue of the dense A_hat (LAPACK)."""
    return DenseSmallest()(problem)


class DenseSmallest:
    """mu_min(A_hat) and its eigenvector by LAPACK ``syevr`` on the dense A_hat (L <= DENSE_MAX):
    the same interface as :class:`SmallestEigenvalue`, without PETSc."""

    v = None

    def __call__(self, problem):
        mu, v = sla.eigh(problem.ahat_dense(), subset_by_index=[0, 0], driver="evr")
        self.v = v[:, 0]
        return float(mu[0])

    def vector(self):
        return self.v

    def destroy(self):
        self.v = None


# ----------------------------------------------------------------- lambda_c
def make_problem(shape, lam, T0, units="g", kernel="exact", refine=1, grid_step=None, cutoff=None, points=None,
                 a_ee=0.0, p_ee=None, pv=None):
    """The LinearizedProblem at coupling ``lam`` on the default grid (see pde.grids.default_grid)."""
    spec = shape.with_lambda(lam, units)
    grid = default_grid(spec, T0, refine, grid_step, cutoff, points)
    return LinearizedProblem(spec, T0, grid, kernel, a_ee, p_ee, pv)


def lambda_c_linear(shape, T0, units="g", kernel="exact", refine=1, grid_step=None, cutoff=None,
                    solver="auto", rtol=1e-9, lam_max=1e4, pv=None):
    """lambda_c where A_hat first acquires a negative eigenvalue (Eq. (14), Sylvester's law).

    solver: "slepc" (matrix-free mu_min, warm-started), "dense" (LAPACK mu_min, L <= 3000), "auto"
    (dense up to L = LC_DENSE_MAX, where the few LAPACK solves cost less than starting PETSc and
    MPI, ~0.3 s; SLEPc beyond), or "inertia" (bisection on the inertia count, L <= 3000).  From the quick
    Z0-criterion estimate, mu_min(lambda) = 0 is solved by Newton with the Hellmann-Feynman slope
    v^T (dA_hat/dlambda) v; bracketing + brentq if the iteration strays; the result is checked by
    the inertia just above (exactly one negative eigenvalue) and just below (Cholesky succeeds;
    above L = 3000: mu_min > 0), else
    the first crossing is searched from below.  Returns a dict with lambda_c, the grid data and
    n_negative just above lambda_c (L <= 3000).
    """
    from ephkin.pde.linearized import CouplingFamily

    guess = lambda_c_zinv(shape, T0, units=units, lam_max=lam_max, lam_min=0.1, xtol=1e-3,
                          refine_min=False, factor=2.0)["lambda_c"] or 1.0
    # L is fixed at its value at the guess (plus a margin), so the cutoff never shrinks below the default
    # when lambda moves, and the eigen solver can be warm-started; the family reuses the kernel transforms
    # (and in plain units Z0^-1) across lambda and gives the analytic Hellmann-Feynman slope
    L0 = int(1.1 * default_grid(shape.with_lambda(guess, units), T0, refine, grid_step, cutoff).L)
    fam = CouplingFamily(shape, T0, units, kernel, refine, grid_step, None, L0, pv)
    prob = fam.problem
    if solver == "auto":
        solver = "dense" if L0 <= LC_DENSE_MAX else "slepc"
    if solver in ("dense", "inertia") and L0 > DENSE_MAX:
        raise InputError(f"--solver {solver} needs L <= {DENSE_MAX} (L = {L0}); use --solver slepc")
    evals = {"n": 0}
    mu = None
    if solver == "inertia":
        f = lambda lam: -0.5 if inertia(prob(lam).ahat_dense())[0] > 0 else 0.5  # noqa: E731
    else:
        mu = DenseSmallest() if solver == "dense" else SmallestEigenvalue()
        f = lambda lam: mu(prob(lam))  # noqa: E731

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
            return {"lambda_c": None, "reason": hi, "solver": solver}
        if solver == "inertia":
            while hi - lo > rtol * hi:
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if counted(mid) > 0 else (lo, mid)
            lam_c = 0.5 * (lo + hi)
        else:
            lam_c = brentq(counted, lo, hi, xtol=rtol * hi, rtol=1e-14)
    p = prob(lam_c)
    out = {"lambda_c": lam_c, "solver": solver, "kernel": kernel, "pv": p.pv, "units": units, "T0": T0,
           "grid_step": p.grid.eps, "cutoff": p.grid.cutoff, "L": p.grid.L, "refine": refine,
           "lambda_c_zinv_estimate": guess, "evaluations": evals["n"]}
    if fam.slope_method:
        out["slope"] = fam.slope_method
    if mu is not None:
        mu.destroy()
    if p.grid.L <= DENSE_MAX:
        above = check or inertia(prob(lam_c * (1 + 10 * rtol)).ahat_dense())
        below = 0 if check else inertia(prob(lam_c * (1 - 10 * rtol)).ahat_dense())[0]
        out.update(n_negative=above[0], n_negative_below=below, inertia_backend=above[3])
    out["kernel_matvecs"] = fam.kernel_matvecs
    return out


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


# ------------------------------------------------- matrix-free gamma spectrum
#: largest memory (bytes) the exact inertia of A_hat may use above DENSE_MAX (also <= half of MemAvailable)
INERTIA_MEM_MAX = 1.2e9


def ahat_shell(problem):
    """A_hat = S A S as a PETSc shell Mat on :func:`comm`: the FFT Toeplitz-minus-Hankel product of
    Eq. (S20) (``LinearizedProblem.ahat_matvec``, O(L log L)) with its diagonal; nothing L x L."""
    PETSc, _ = init_petsc()
    L = problem.grid.L
    A = PETSc.Mat().createPython([[PETSc.DECIDE, L], [PETSc.DECIDE, L]], context=_AhatShell(problem), comm=comm())
    A.setUp()
    return A


def check_memory(estimate, what, param, advice):
    """Raise InputError(param) before allocating ``estimate`` bytes if they exceed 80 % of MemAvailable."""
    avail = available_memory()
    if avail is not None and estimate > 0.8 * avail:
        raise InputError(f"{what} needs about {estimate / 2**20:.0f} MiB but this machine has "
                         f"{avail / 2**20:.0f} MiB available (MemAvailable); {advice}", param)


def _ncv(k):
    return max(2 * k, k + 76)


class _ShiftedPencil:
    """Shell context of H_hat = W (M_hat - g A_hat) W, W = d^-1/2, d = diag(M_hat) - g diag(A_hat) > 0: the
    pencil of Eq. (14) shifted to g and scaled by its own diagonal, two FFT products per application."""

    def __init__(self, problem, g, d):
        self.p, self.g, self.w = problem, float(g), 1.0 / np.sqrt(d)

    def mult(self, mat, x, y):
        u = self.w * gather(x)
        scatter(self.w * (self.p.m_matvec(u, scaled=True) - self.g * self.p.ahat_matvec(u)), y)


def continuum_edges(problem):
    """The edges of the continuous spectrum of Eq. (14) for a continuous alpha^2F: (gamma_pos, gamma_neg).

    With many grid phonon frequencies both forms are a multiplication plus a smoothing integral operator,
    M_hat = diag(D_hat) - K_q and A_hat = diag(Z0^-1) + sqrt(f0') K sqrt(f0') (docs/theory.md, "The
    continuous spectrum"): a vector localised at one energy E relaxes at its own local rate
    gamma_loc(E) = D_hat(E)/Z0^-1(E) -- the out-scattering rate over Z0^-1 -- and these rates form the
    continuous spectrum of the continuum problem; on a grid they are a cluster of grid-scale eigenvectors
    whose number grows like 1/eps.  On the grid, gamma_loc = diag(M_hat)/diag(A_hat) (the Rayleigh quotient
    of a unit vector): gamma_pos = min over diag(A_hat) > 0, gamma_neg = max over diag(A_hat) < 0 (None
    where there is no such energy).  Discrete modes lie in (0, gamma_pos) and (gamma_neg, 0)."""
    loc = problem.m_diagonal(scaled=True) / problem.ahat_diagonal()
    pos, neg = loc[loc > 0], loc[loc < 0]
    return (float(pos.min()) if pos.size else None), (float(neg.max()) if neg.size else None)


def discrete_gammas(problem, g):
    """``g`` without the samples of the continuous spectrum for a continuous alpha^2F (:func:`discrete_mask`)."""
    g = np.asarray(g, dtype=float)
    return g[discrete_mask(problem, g)]


def discrete_mask(problem, g, edges=None):
    """Which gamma of ``g`` are modes, not samples of the continuous spectrum (:func:`continuum_edges`, or
    ``edges`` if given): those in (0, (1 - CONTINUUM_MARGIN) gamma_pos) and ((1 - CONTINUUM_MARGIN) gamma_neg,
    0); all of them for combs."""
    g = np.asarray(g, dtype=float)
    if not problem.ep_fft:
        return np.ones(g.size, bool)
    pos, neg = continuum_edges(problem) if edges is None else edges
    keep = np.zeros(g.size, bool)
    if pos is not None:
        keep |= (g > 0) & (g < (1.0 - CONTINUUM_MARGIN) * pos)
    if neg is not None:
        keep |= (g < 0) & (g > (1.0 - CONTINUUM_MARGIN) * neg)
    if neg is None:
        keep |= g < 0  # no negative continuum: every negative gamma is a mode
    if pos is None:
        keep |= g > 0
    return keep


def n_discrete(problem, g, kmax, tol=1e-10):
    """The number of gamma of Eq. (14) strictly between 0 and ``g`` (capped at kmax + 1), exactly.

    Sylvester: M_hat - g A_hat = M_hat^1/2 (I - g S) M_hat^1/2 with S's eigenvalues mu = 1/gamma, so its
    number of negative eigenvalues is that of gamma in (0, g) for g > 0 (in (g, 0) for g < 0); so is that of
    the congruent H_hat = W (M_hat - g A_hat) W (:class:`_ShiftedPencil`), whose spectrum inside the
    continuum edges is 1 minus a compact part: its few negative eigenvalues are outliers that Krylov-Schur
    finds without inner solves.  ``g`` must lie between the continuum edges (d > 0)."""
    PETSc, _ = init_petsc()
    d = problem.m_diagonal(scaled=True) - g * problem.ahat_diagonal()
    if not np.all(d > 0):
        raise InputError(f"the shift {g:g} lies in the continuous spectrum of Eq. (14)", "target")
    L = problem.grid.L
    H = PETSc.Mat().createPython([[PETSc.DECIDE, L], [PETSc.DECIDE, L]], context=_ShiftedPencil(problem, g, d),
                                 comm=comm())
    H.setUp()
    k = min(kmax + 1, L - 1)
    eps = create_eps(H, prefix=PREFIX + "count_", problem_type="HEP", eps_type="krylovschur",
                     which="SMALLEST_REAL", nev=k, tol=tol, max_it=2000, conv_abs=True)
    try:
        eps.solve()
        vals = np.array([eps.getEigenvalue(i).real for i in range(eps.getConverged())])
    finally:
        eps.destroy()
        H.destroy()
    if vals.size < k:
        raise RuntimeError(f"SLEPc converged {vals.size} of the {k} smallest eigenvalues of the shifted pencil "
                           "(raise -stab_count_eps_max_it)")
    return int(np.sum(np.sort(vals)[:k] < 0))


def slow_modes_memory(L, k, m_nnz):
    """Bytes of :func:`slow_modes` for k wanted pairs: the Krylov basis (ncv = max(2k, k + 76) vectors,
    twice for the projected work), the sparse Cholesky factor of M_hat (~6x its nonzeros, 12 bytes each)
    and the FFT work arrays of the shell product."""
    ncv = _ncv(k)
    return 8 * L * (2 * ncv + 64) + 12 * 6 * m_nnz + 8 * ncv * ncv * 4


def m_null_space(problem, Mh=None):
    """Orthonormal null vectors of M_hat (scipy CSR, L x m): the ladder null modes (docs/theory.md §5).

    The bonds of Eq. (S21) (E_i -- E_i + omega_k, and their folds) split the grid into connected
    components -- one ladder family each on a grid commensurate with every omega_k -- and M_hat is
    block diagonal over them, so each null vector lives on one component.  Each component's block
    (a few hundred points: about 2 L / gcd(r_k)) is diagonalised on its own (dense LAPACK, or sparse
    shift-and-invert above DENSE_MAX points) and its eigenvectors with eigenvalue <= NULL_TOL max
    diag(M_hat) kept.  O(L x component size) time, nothing L x L.
    """
    import scipy.sparse.linalg as spla
    from scipy.sparse.csgraph import connected_components

    Mh = sp.csr_matrix(problem.m_matrix(scaled=True) if Mh is None else Mh)
    L = Mh.shape[0]
    dmax = float(Mh.diagonal().max())
    off = (Mh - sp.diags(Mh.diagonal())).tocsr()
    off.eliminate_zeros()
    ncomp, lab = connected_components(off, directed=False)
    order = np.argsort(lab, kind="stable")
    bounds = np.searchsorted(lab[order], np.arange(ncomp + 1))
    rows, cols, vals = [], [], []
    for c in range(ncomp):
        idx = order[bounds[c] : bounds[c + 1]]
        block = Mh[idx][:, idx]
        if idx.size == 1:
            w, v = block.toarray()[0], np.ones((1, 1))
        elif idx.size <= DENSE_MAX:
            w, v = np.linalg.eigh(block.toarray())
        else:
            w, v = spla.eigsh(block.tocsc(), k=4, sigma=-1e-3 * dmax, which="LM")
        for j in np.nonzero(w <= NULL_TOL * dmax)[0]:
            rows.append(idx)
            cols.append(np.full(idx.size, len(cols)))
            vals.append(v[:, j] / np.linalg.norm(v[:, j]))
    if not rows:
        return sp.csr_matrix((L, 0))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(L, len(cols)))


class _DeflatedA:
    """Shell context of A~ = Q^T A_hat Q, Q = I - N (N^T A_hat N)^-1 N^T A_hat: the finite eigenpairs
    of (A_hat, M_hat) are those of (A~, M_hat + N N^T) on range(M_hat), with x = Q u; A~ N = 0."""

    def __init__(self, problem, N, block=64):
        self.p, self.N = problem, N
        # A_hat N (L x m), a block of null vectors at a time (bounded FFT work arrays)
        m = N.shape[1]
        self.W = np.hstack([problem.ahat_matvec(N[:, j:j + block].toarray()) for j in range(0, m, block)]) \
            if m else np.zeros((N.shape[0], 0))
        G = np.asarray(N.T @ self.W)
        self.G = sla.lu_factor(0.5 * (G + G.T))  # factorised once, not at every product

    def q(self, u):
        return u - self.N @ sla.lu_solve(self.G, self.W.T @ u)

    def qt(self, v):
        return v - self.W @ sla.lu_solve(self.G, self.N.T @ v)

    def mult(self, mat, x, y):
        scatter(self.qt(self.p.ahat_matvec(self.q(gather(x)))), y)


class _DeflatedB:
    """Shell context of B = M_hat + N N^T (SPD) and, as a PC, its inverse
    B^-1 = P Mt^-1 P + N N^T with P = I - N N^T and Mt = M_hat + d sum_c e_jc e_jc^T (one pinned
    node per null vector, sparse Cholesky by MUMPS): for y in range(M_hat), Mt z = y forces
    z_jc = 0, so M_hat z = y and P z = M_hat^+ y."""

    def __init__(self, Mh, N):
        PETSc, _ = init_petsc()
        self.Mh, self.N = Mh, N
        pins = np.asarray(abs(N).argmax(axis=0)).ravel()
        d = np.zeros(Mh.shape[0])
        d[pins] = float(Mh.diagonal().max())
        self.Mt = aij((Mh + sp.diags(d)).tocsr())
        self.ksp = PETSc.KSP().create(comm=comm())
        self.ksp.setOperators(self.Mt)
        self.ksp.setType("preonly")
        pc = self.ksp.getPC()
        pc.setType("cholesky")
        pc.setFactorSolverType("mumps")
        self.ksp.setUp()
        self.b, self.z = self.Mt.createVecs()

    def mult(self, mat, x, y):
        u = gather(x)
        scatter(self.Mh @ u + self.N @ (self.N.T @ u), y)

    def apply(self, pc, x, y):
        v = gather(x)
        c = self.N.T @ v
        scatter(v - self.N @ c, self.b)
        self.ksp.solve(self.b, self.z)
        z = gather(self.z)
        scatter(z - self.N @ (self.N.T @ z) + self.N @ c, y)

    def free(self):
        for o in (self.ksp, self.Mt, self.b, self.z):
            o.destroy()


class _MatrixFreeB:
    """Shell context of B = M_hat = M^ep_hat + a_ee M^ee_hat of Eq. (15), applied matrix-free (M^ee by FFT,
    M^ep by its stencil or, for many grid phonon frequencies, by FFT), and the preconditioner of the
    conjugate gradients that apply B^-1.

    Few grid frequencies (combs with e-e collisions): the sparse Cholesky (MUMPS) of
    M^ep_hat + a_ee diag(M^ee_hat).  Many (a continuous alpha^2F): M_hat^ep = diag(D_hat) - K_q is a
    multiplication minus a smoothing integral operator, its condition number bounded as L grows, and
    Jacobi (the exact diagonal, in numpy) keeps CG at a fixed count (Pb model: 7-8 iterations per solve
    at refine 4 and 16).  The 16 heaviest frequencies by MUMPS Cholesky took as many iterations and cost
    ~2 ms per solve in MUMPS alone (measured, refine 4)."""

    def __init__(self, problem):
        PETSc, _ = init_petsc()
        self.p = problem
        self.ksp = self.Mt = None
        if problem.ep_fft:
            self.dinv = 1.0 / problem.m_diagonal(scaled=True)
            return
        Mep = sp.csr_matrix(problem.m_sparse(scaled=True))
        Mt = (Mep + sp.diags(problem.m_diagonal(scaled=True) - Mep.diagonal())).tocsr()
        self.Mt = aij(Mt)
        self.ksp = PETSc.KSP().create(comm=comm())
        self.ksp.setOperators(self.Mt)
        self.ksp.setType("preonly")
        pc = self.ksp.getPC()
        pc.setType("cholesky")
        if PETSc.Sys.hasExternalPackage("mumps"):
            pc.setFactorSolverType("mumps")
        self.ksp.setUp()

    def mult(self, mat, x, y):
        scatter(self.p.m_matvec(gather(x), scaled=True), y)

    def apply(self, pc, x, y):
        if self.ksp is None:
            scatter(self.dinv * gather(x), y)
        else:
            self.ksp.solve(x, y)

    def free(self):
        for o in (self.ksp, self.Mt):
            if o is not None:
                o.destroy()


def _pencil_side(A, B, k, which, tol, max_it, prefix, pc_context=None, iterative=False, separated=False):
    """k extreme eigenpairs mu of A x = mu B x (GHEP, B SPD; ST shift at 0: a MUMPS Cholesky of the
    AIJ B, or the Python PC ``pc_context`` applying B^-1 -- inside conjugate gradients when ``iterative``,
    for a matrix-free B).  ``separated``: the k wanted are known to be isolated (the discrete modes below a
    continuum, :func:`n_discrete`), so SLEPc's own basis size serves.  Returns (mu, vectors, iterations)."""
    st = dict(pc_type="python", pc_context=pc_context) if pc_context else dict(pc_type="cholesky", mumps=True)
    if iterative:
        st["ksp_type"] = "cg"
    # a wide basis for combs: the slow modes cluster (refine 64: 0.0075193, 0.0075554 x3), ncv = k + 15 needs
    # ~190 restarts there, ncv = k + 76 about 8 (measured; option -stab_eps_ncv).  Isolated modes converge in
    # one restart with SLEPc's default (max(2k, k + 15) vectors, not k + 76: 0.5 kB per grid point less)
    defaults = None if separated else {"eps_ncv": str(_ncv(k))}
    eps = create_eps(A, B, prefix=prefix, problem_type="GHEP", eps_type="krylovschur", which=which, nev=k,
                     tol=tol, max_it=max_it, st_type="shift", defaults=defaults, **st)
    try:
        eps.solve()
        its = int(eps.getIterationNumber())
        mu, X = eigenpairs(eps, eps.getConverged())
    finally:
        eps.destroy()
    return mu, X, its


def slow_modes(problem, nev=6, tol=1e-10, max_it=2000, negative=True):
    """The nev gamma nearest 0 on each side of gamma A phi = M phi (Eq. (14)), matrix-free, O(L) memory.

    gamma A phi = M phi  <=>  A_hat x = mu M_hat x with mu = 1/gamma (x = phi/s, docs/theory.md §3), so the
    gamma nearest 0 are the mu of largest |mu|: the slowest relaxation (gamma > 0) is the largest mu,
    the slowest growth (gamma < 0) the most negative mu.  SLEPc Krylov-Schur on the GHEP pencil
    (A_hat, B = M_hat): A_hat is the FFT shell (:func:`ahat_shell`, Eq. (S20)), M_hat (Eq. (S21))
    sparse AIJ whose Cholesky factor (MUMPS) is the only solve (ST shift at sigma = 0).  Options
    ``-stab_`` (gamma > 0 side) and ``-stab_neg_`` (e.g. ``-stab_eps_ncv``).

    Ladder null modes of M (docs/theory.md §5; modes:40-60 has them on every grid refined by 4 or
    more, Einstein spectra on commensurate grids) are found from the bond graph
    (:func:`m_null_space`, m of them) and reported as gamma = 0; the other eigenpairs are those of
    the deflated pencil (Q^T A_hat Q, M_hat + N N^T) (:class:`_DeflatedA`, :class:`_DeflatedB`),
    exact, B SPD, the null modes moved to mu = 0.

    A continuous alpha^2F (FFT operators) has a continuous spectrum besides its modes (:func:`continuum_edges`):
    only the discrete gamma below its edges are computed, as many as :func:`n_discrete` counts (at most nev
    per side), and the edges are reported (``gamma_continuum_edge``, ``gamma_continuum_edge_negative``,
    ``n_discrete_positive``, ``n_discrete_negative``).

    ``negative=False`` skips the gamma < 0 side (A_hat > 0).  Returns a dict: gamma_positive and
    gamma_negative (ascending in |gamma|) with eigenvector columns phi = S x (max-normalised),
    n_zero_gamma, the SLEPc iteration counts.
    """
    PETSc, _ = init_petsc()
    L = problem.grid.L
    # with e-e collisions M couples the ladders (Eq. (S25)), and a continuous alpha^2F (FFT operators, one
    # grid frequency per step of its support) joins every ladder: no null modes, B applied matrix-free
    ee = problem.a_ee > 0 or problem.ep_fft
    # the sparse M_hat only where it is the operator (combs): its nonzeros enter the memory estimate
    Mh = None if ee else problem.m_matrix(scaled=True)
    m_nnz = L if problem.ep_fft else (Mh.nnz if Mh is not None else (2 * problem.r.size + 1) * L)
    N = sp.csr_matrix((L, 0)) if ee else m_null_space(problem, Mh)
    m = N.shape[1]
    k = min(nev, L - m - 1)
    # the deflation keeps A_hat N (L x m, dense) and forms it a block of 64 columns at a time
    check_memory(slow_modes_memory(L, k, m_nnz) + 8 * L * m + 8 * m * m + 64 * 48 * L,
                 f"the slow modes (L = {L}, nev = {nev}, {m} ladder null modes of M)", "nev", "lower --nev or --refine")
    out = {"n_zero_gamma": m, "iterations": {}}
    ctxA = ctxB = None
    if ee:
        ctxB = _MatrixFreeB(problem)
        A = ahat_shell(problem)
        B = PETSc.Mat().createPython([[PETSc.DECIDE, L], [PETSc.DECIDE, L]], context=ctxB, comm=comm())
        B.setUp()
    elif m:
        ctxA, ctxB = _DeflatedA(problem, N), _DeflatedB(Mh, N)
        shape = [[PETSc.DECIDE, L], [PETSc.DECIDE, L]]
        A = PETSc.Mat().createPython(shape, context=ctxA, comm=comm())
        B = PETSc.Mat().createPython(shape, context=ctxB, comm=comm())
        A.setUp()
        B.setUp()
    else:
        A, B = ahat_shell(problem), aij(Mh)
    # a continuous alpha^2F: only the discrete modes, counted exactly below the continuum's edges (the nev
    # nearest 0 would be samples of the continuous spectrum, a cluster SLEPc converges in O(L) restarts)
    ks = {"positive": k, "negative": k}
    if problem.ep_fft:
        edges = continuum_edges(problem)
        out["gamma_continuum_edge"], out["gamma_continuum_edge_negative"] = edges
        for name, edge in zip(ks, edges):
            if edge is not None:
                ks[name] = min(k, n_discrete(problem, (1.0 - CONTINUUM_MARGIN) * edge, k))
                out["n_discrete_" + name] = ks[name]
    try:
        sides = [("positive", "LARGEST_REAL", "")] + ([("negative", "SMALLEST_REAL", "neg_")] if negative else [])
        for name, which, sub in sides:
            sign = 1.0 if name == "positive" else -1.0
            if ks[name] == 0:
                out["iterations"][name] = 0
                out["gamma_" + name], out["vectors_" + name] = np.zeros(0), np.zeros((L, 0))
                continue
            mu, X, its = _pencil_side(A, B, ks[name], which, tol, max_it, PREFIX + sub, ctxB, iterative=ee,
                                      separated=problem.ep_fft)
            out["iterations"][name] = its
            if ctxA is not None and X.size:
                X = ctxA.q(X)
            # the deflated null modes sit at mu = 0 (round-off sign): never a gamma
            keep = sign * mu > 1e-9 * max(1.0, float(np.max(np.abs(mu))) if mu.size else 1.0)
            g, V = 1.0 / mu[keep], X[:, keep] * problem.s[:, None]
            order = np.argsort(np.abs(g))[:nev]
            g, V = g[order], V[:, order]
            if V.size:
                V = V / np.max(np.abs(V), axis=0)
            out["gamma_" + name], out["vectors_" + name] = g, V
        if not negative:
            out["gamma_negative"], out["vectors_negative"] = np.zeros(0), np.zeros((L, 0))
    finally:
        A.destroy()
        B.destroy()
        if ctxB is not None:
            ctxB.free()
    return out


# ----------------------------------------------------------- gamma spectrum
def gamma_spectrum(problem, nev=6, target=None, tol=1e-12):
    """The nev eigenvalues gamma of M x = gamma A x nearest ``target`` (SLEPc, shift-and-invert).

    Uses the scaled pencil (M_hat, A_hat).  The default target is slightly
    below 0 (-1e-9 of the largest diagonal of M_hat) so that ladder null modes of M
    are found as gamma = 0 and M - target*A stays nonsingular.  Options under
    ``-stab_`` (``-stab_eps_nev``, ``-stab_st_type``, ``-stab_eps_target`` ...).
    Returns (gamma sorted by |gamma - target|, eigenvectors phi = S x as columns).
    """
    if problem.grid.L > DENSE_MAX:
        raise InputError(f"--target: shift-and-invert factorises A_hat, L = {problem.grid.L} > {DENSE_MAX}; "
                         "drop --target or lower --refine", "target")
    Mh = problem.m_matrix(scaled=True)
    Ah = problem.ahat_dense()
    if target is None:
        target = -1e-9 * float(Mh.diagonal().max())
    Am, Mm = aij(Ah, drop=1e-300), aij(Mh)
    try:
        vals, vecs = solve_eigensystem(Mm, Am, prefix=PREFIX, problem_type="GNHEP", eps_type="krylovschur",
                                       which="TARGET_MAGNITUDE", nev=nev, target=target, tol=tol, max_it=1000,
                                       st_type="sinvert", pc_type="lu", mumps=True, scale=problem.s)
    finally:
        Am.destroy()
        Mm.destroy()
    order = np.argsort(np.abs(vals - target))
    vals, vecs = vals[order], vecs[:, order]
    if vecs.size:
        vecs /= np.max(np.abs(vecs), axis=0)
    return vals, vecs


def _pencil_gammas(problem, k, nearest_zero, tol=1e-12):
    """gamma = 1/mu from A_hat x = mu M_hat x (GHEP, B = M_hat > 0) with SLEPc.

    nearest_zero=False: the most negative mu (the negative gamma of smallest |gamma|);
    nearest_zero=True: mu nearest 0 by shift-and-invert (the largest |gamma|, which
    diverge at lambda_c: the poles of Fig. 2).  Returns (gamma, phi columns).
    """
    if problem.grid.L > DENSE_MAX:
        raise InputError(f"the poles of Fig. 2 (mu nearest 0) factorise A_hat: L = {problem.grid.L} > {DENSE_MAX}; "
                         "lower --refine for --lam-scan", "refine")
    Am = aij(problem.ahat_dense(), drop=1e-300)
    Mm = aij(problem.m_matrix(scaled=True))
    shift = dict(target=0.0, which="TARGET_MAGNITUDE", st_type="sinvert", pc_type="lu", mumps=True)
    try:
        mu, vecs = solve_eigensystem(Am, Mm, k=k, prefix=PREFIX + ("pole_" if nearest_zero else "unstable_"),
                                     problem_type="GHEP", nev=k, tol=tol, max_it=1000, scale=problem.s,
                                     **(shift if nearest_zero else dict(which="SMALLEST_REAL")))
    finally:
        Am.destroy()
        Mm.destroy()
    keep = np.ones(mu.size, bool) if nearest_zero else mu < 0
    vecs = vecs[:, keep]
    if vecs.size:
        vecs /= np.max(np.abs(vecs), axis=0)
    return 1.0 / mu[keep], vecs


def n_negative_slicing(problem):
    """Number of negative gamma counted by SLEPc spectrum slicing (Krylov-Schur + MUMPS inertia).

    All mu < 0 of A_hat x = mu M_hat x lie in [mu_lo, 0) with
    mu_lo = 1.01 lambda_min(A_hat)/lambda_min(M_hat); slicing returns every
    eigenvalue in that interval.  Returns None without MUMPS or when M is singular.
    """
    PETSc, _ = init_petsc()
    if not PETSc.Sys.hasExternalPackage("mumps"):
        return None
    Ah = problem.ahat_dense()
    Mh = problem.m_matrix(scaled=True)
    Md = Mh if isinstance(Mh, np.ndarray) else Mh.toarray()
    a_min = float(sla.eigvalsh(Ah, subset_by_index=[0, 0])[0])
    m_min = float(sla.eigvalsh(Md, subset_by_index=[0, 0])[0])
    if a_min >= 0:
        return 0
    if m_min <= 1e-12 * float(np.max(np.diag(Md))):
        return None
    Am, Mm = aij(Ah, drop=1e-300), aij(Mh)
    # the slices copy the ST's KSP from the options database: the defaults stay there through the solve
    defaults = {"st_ksp_type": "preonly", "st_pc_type": "cholesky", "st_pc_factor_mat_solver_type": "mumps",
                "st_mat_mumps_icntl_24": "1", "st_mat_mumps_icntl_13": "1" if parallel() else "0"}
    try:
        mu, _ = solve_eigensystem(Am, Mm, prefix=PREFIX + "slice_", problem_type="GHEP", eps_type="krylovschur",
                                  which="ALL", interval=(1.01 * a_min / m_min, -1e-14), st_type="sinvert",
                                  defaults=defaults, keep_defaults=True)
        return int(mu.size)
    finally:
        Am.destroy()
        Mm.destroy()


def unstable_gammas(problem, k=3):
    """The k negative gamma of smallest |gamma| with eigenvectors (SLEPc); empty when A > 0."""
    return _pencil_gammas(problem, k, nearest_zero=False)


def pole_gammas(problem, k=2):
    """The k gamma of largest |gamma| (mu = 1/gamma nearest 0): they diverge at lambda_c (Fig. 2)."""
    return _pencil_gammas(problem, k, nearest_zero=True)[0]


def _band_lower(Mh):
    """The lower band of the sparse symmetric M_hat in LAPACK storage, ab[i - j, j] = M_hat[i, j]: the bonds
    of Eq. (S21) join E_i to E_i +- omega_k (and the folds E_i to -E_{r-i}), so the bandwidth is the largest
    grid phonon frequency in grid steps."""
    c = sp.tril(Mh).tocoo()
    ab = np.zeros((int(np.max(c.row - c.col, initial=0)) + 1, Mh.shape[0]))
    ab[c.row - c.col, c.col] = c.data
    return ab


def m_definite(Mh):
    """True when M_hat (Eq. (S21), scaled) has no ladder null modes: M_hat - NULL_TOL dmax I is positive
    definite (LAPACK Cholesky, banded for a sparse M_hat).  Up to round-off (backward error ~ L eps dmax,
    far below NULL_TOL dmax) the same test as :func:`m_null_space`'s -- every eigenvalue of M_hat above
    NULL_TOL dmax -- without its eigendecompositions; the shift keeps a Cholesky of a singular M_hat from
    succeeding in round-off."""
    tol = NULL_TOL * float(Mh.diagonal().max())
    try:
        if sp.issparse(Mh):
            ab = _band_lower(Mh)
            ab[0] -= tol
            sla.cholesky_banded(ab, lower=True)
        else:
            np.linalg.cholesky(Mh - tol * np.eye(Mh.shape[0]))
    except np.linalg.LinAlgError:
        return False
    return True


def _standard_form(Ah, Mh):
    """(C, c): C = L^-1 A_hat L^-T with M_hat = L L^T (sparse, definite M_hat), c = L in LAPACK band storage:
    A_hat x = mu M_hat x becomes C y = mu y, x = L^-T y.  L is banded (:func:`_band_lower`), so C costs two
    banded triangular solves, O(L^2 bandwidth), in place of LAPACK's dense reduction (sygst, O(L^3))."""
    c = sla.cholesky_banded(_band_lower(Mh), lower=True)
    tbtrs = sla.get_lapack_funcs("tbtrs", (c,))
    X, info1 = tbtrs(c, Ah.T, uplo="L")  # L^-1 A_hat
    X, info2 = tbtrs(c, X.T, uplo="L", overwrite_b=1)  # L^-1 (L^-1 A_hat)^T = C (A_hat symmetric)
    if info1 or info2:
        raise np.linalg.LinAlgError(f"banded triangular solve (LAPACK tbtrs): info = {info1}, {info2}")
    return X, c


def gamma_dense(problem):
    """All gamma of M x = gamma A x (Eq. (14)) by dense LAPACK (reference for small L), ascending.

    Uses A_hat x = mu M_hat x with mu = 1/gamma when M_hat is definite (:func:`m_definite`): one symmetric
    eigvalsh of C = L^-1 A_hat L^-T (:func:`_standard_form`, banded Cholesky of the sparse M_hat; with e-e
    collisions, dense M_hat, LAPACK's generalized eigh).  With ladder null modes the general pencil (QZ;
    gamma = 0 for the null space of M).
    """
    Mh = problem.m_matrix(scaled=True)
    Ah = problem.ahat_dense()
    if not m_definite(Mh):
        return np.sort(sla.eigvals(Mh.toarray() if sp.issparse(Mh) else Mh, Ah).real)
    mu = (sla.eigvalsh(_standard_form(Ah, Mh)[0], overwrite_a=True) if sp.issparse(Mh)
          else sla.eigh(Ah, Mh, eigvals_only=True))
    return np.sort(1.0 / mu)


def dense_refusal(problem, Mh=None):
    """Why :func:`dense_summary` does not apply to ``problem`` (a short reason), or None when it does."""
    L = problem.grid.L
    if L > DENSE_MAX:
        return f"L = {L} > {DENSE_MAX}"
    if problem.a_ee > 0:
        return "e-e collisions make M dense"
    if not m_definite(problem.m_matrix(scaled=True) if Mh is None else Mh):
        return "M has ladder null modes (gamma = 0) on this grid"
    return None


def nonzero_gammas(g):
    """``g`` without the ladder null modes of M (gamma = 0 up to round-off, docs/theory.md §5)."""
    g = np.asarray(g)
    return g[np.abs(g) > 1e-9 * max(1.0, float(np.max(np.abs(g)))) if g.size else 1.0]


def dense_summary(problem, nev=6, target=None, counts=True):
    """What :func:`stability_summary` reports, from one dense LAPACK ``eigh`` (small L; M_hat sparse and
    definite: no ladder null modes, no e-e collisions).

    C y = mu y with C = L^-1 A_hat L^-T (:func:`_standard_form`), gamma = 1/mu, the vectors of the pencil
    of Eq. (14) x = L^-T y, phi = S x.  Every gamma is known, so ``n_negative_dense`` (the number of
    negative gamma) cross-checks the LDL^T inertia of :func:`count_unstable`, as ``n_negative_slepc`` does
    on the SLEPc path.
    """
    L = problem.grid.L
    Mh = problem.m_matrix(scaled=True)
    why = dense_refusal(problem, Mh)
    if why:
        raise InputError(f"the dense gamma spectrum needs L <= {DENSE_MAX}, no e-e collisions and no ladder null "
                         f"modes of M ({why}); use the SLEPc solver", "solver")
    C, c = _standard_form(problem.ahat_dense(), Mh)
    mu, Y = sla.eigh(C, overwrite_a=True)
    X, info = sla.get_lapack_funcs("tbtrs", (c,))(c, Y, uplo="L", trans="T", overwrite_b=1)  # x = L^-T y
    if info:
        raise np.linalg.LinAlgError(f"banded triangular solve (LAPACK tbtrs): info = {info}")
    gam = 1.0 / mu
    pos = np.nonzero(mu > 0)[0][::-1]  # largest mu first: the smallest positive gamma
    neg = np.nonzero(mu < 0)[0]  # most negative mu first: the negative gamma nearest 0
    extra = {}
    if problem.ep_fft:  # a continuous alpha^2F: the modes below the continuum's edges (continuum_edges)
        edges = continuum_edges(problem)
        extra = dict(zip(CONTINUUM_KEYS[:2], edges))
        mode = discrete_mask(problem, gam, edges)
        pos, neg = pos[mode[pos]], neg[mode[neg]]
        for name, idx, edge in (("positive", pos, edges[0]), ("negative", neg, edges[1])):
            if edge is not None:
                extra["n_discrete_" + name] = int(idx.size)
    pos, neg = pos[:nev], neg[:nev]
    shown = np.concatenate([pos, neg])

    def phi(idx):
        V = X[:, idx] * problem.s[:, None]
        return V / np.max(np.abs(V), axis=0) if V.size else V

    mu_min = mu_min_dense(problem)
    out = {
        "gamma": gam[shown[np.argsort(np.abs(gam[shown]), kind="stable")][:nev]].tolist(),
        "gamma_min_positive": float(gam[pos[0]]) if pos.size else None,
        "gamma_negative": gam[neg].tolist(),
        "gamma_max_negative": float(gam[neg[0]]) if neg.size else None,
        "mu_min_ahat": mu_min,
        "n_zero_gamma": 0,
        "eigen_solver": "dense",
        "eigenvectors": np.hstack([phi(pos), phi(neg)]),
        "eigenvector_gammas": gam[pos].tolist() + gam[neg].tolist(),
        **extra,
    }
    if target is not None:
        out["gamma_near_target"] = gam[np.argsort(np.abs(gam - target), kind="stable")[:nev]].tolist()
    if counts:
        cnt = count_unstable(problem, mu_min < 0, gam[neg], nev)
        out.update(cnt)
        out["n_positive"] = L - cnt["n_negative"]
        out["n_negative_dense"] = int(np.sum(mu < 0))
    return out


def ahat_aij(problem, drop=1e-15):
    """A_hat as an AIJ Mat assembled from FFT products with blocks of unit vectors (entries below
    ``drop`` x max|A_hat| dropped) -- for the exact inertia above DENSE_MAX; never the dense array."""
    L = problem.grid.L
    scale = float(np.max(np.abs(problem.ahat_diagonal())))
    blocks, step = [], max(1, min(L, 2**22 // L))
    for j0 in range(0, L, step):
        E = np.zeros((L, min(step, L - j0)))
        E[np.arange(j0, j0 + E.shape[1]), np.arange(E.shape[1])] = 1.0
        C = problem.ahat_matvec(E).T  # rows j0.. of the symmetric A_hat
        C[np.abs(C) <= drop * scale] = 0.0
        blocks.append(sp.csr_matrix(C))
    return aij(sp.vstack(blocks).tocsr())


def inertia_memory(L):
    """Bytes of the exact inertia of an effectively dense A_hat: CSR + AIJ copies, MUMPS input and factor."""
    return 42.0 * L * L


def count_unstable(problem, unstable, gamma_negative, nev):
    """The number of unstable modes (negative gamma, Sylvester's law), labelled by how it was found.

    ``n_negative_method``: "inertia" (LDL^T of A_hat, exact: LAPACK on the dense A_hat up to DENSE_MAX,
    MUMPS on A_hat assembled from FFT products up to the memory budget INERTIA_MEM_MAX; ``inertia_backend``
    says which), "mu_min>0" (A_hat positive definite:
    0), "all-found" (SLEPc returned fewer than nev negative gamma: every negative mu of the pencil
    was converged), or "lower-bound" (n_negative is None, n_negative_found is a lower bound).
    """
    L = problem.grid.L
    found = len(gamma_negative)
    res = {"unstable": bool(unstable), "n_negative_found": found}
    avail = available_memory() or 0
    # above DENSE_MAX a stable problem's count comes from mu_min(A_hat) > 0 (Sylvester): the LDL^T of A_hat
    # assembled from FFT products costs O(L^2) memory, paid only where it is the one exact count
    if L <= DENSE_MAX or (unstable and inertia_memory(L) <= min(INERTIA_MEM_MAX, 0.5 * avail)):
        if L <= DENSE_MAX:
            nneg, _, _, backend = inertia(problem.ahat_dense())
        else:
            A = ahat_aij(problem)
            try:
                nneg = _mumps_inertia(A)[0]
            finally:
                A.destroy()
            backend = "petsc-mumps (A_hat assembled from FFT products)"
        res.update(n_negative=nneg, n_negative_method="inertia", inertia_backend=backend)
    elif not unstable:
        res.update(n_negative=0, n_negative_method="mu_min>0: A_hat positive definite (Sylvester)")
    elif found < nev:
        res.update(n_negative=found, n_negative_method="all-found: SLEPc converged fewer than nev negative mu")
    else:
        res.update(n_negative=None, n_negative_method=f"lower-bound: LDL^T of A_hat needs ~"
                   f"{inertia_memory(L) / 2**30:.1f} GiB; n_negative_found = {found} (raise --nev for more)")
    return res


def _mumps_inertia(A, pivot_tol=None):
    """(n_neg, n_zero, n_pos) of the symmetric AIJ ``A`` by MUMPS LDL^T (ICNTL(24) null pivots below
    ``pivot_tol``, CNTL(3))."""
    PETSc, _ = init_petsc()
    ksp = PETSc.KSP().create(comm=comm())
    try:
        ksp.setOperators(A)
        ksp.setType("preonly")
        pc = ksp.getPC()
        pc.setType("cholesky")
        pc.setFactorSolverType("mumps")
        pc.setFactorSetUpSolverType()
        F = pc.getFactorMatrix()
        F.setMumpsIcntl(24, 1)
        if parallel():
            F.setMumpsIcntl(13, 1)  # MUMPS reports the inertia in parallel only without ScaLAPACK
        if pivot_tol is not None:
            F.setMumpsCntl(3, pivot_tol)
        pc.setUp()
        return tuple(int(v) for v in F.getInertia())
    finally:
        ksp.destroy()


def stability_summary(problem, nev=6, target=None, counts=True):
    """The gamma nearest 0 on both sides (matrix-free, :func:`slow_modes`), the instability verdict
    (sign of mu_min(A_hat), matrix-free :class:`SmallestEigenvalue`), the unstable-mode count
    (:func:`count_unstable`, with ``counts``) and the smallest positive gamma.  ``target`` (L <=
    DENSE_MAX): the nev gamma nearest it by shift-and-invert (:func:`gamma_spectrum`) as well."""
    L = problem.grid.L
    if target is not None and L > DENSE_MAX:
        raise InputError(f"--target needs shift-and-invert with A_hat factorised (L <= {DENSE_MAX}, here L = {L}); "
                         "drop --target (the gamma nearest 0 are computed matrix-free) or lower --refine", "target")
    mu = SmallestEigenvalue()
    try:
        mu_min = mu(problem)
    finally:
        mu.destroy()
    sm = slow_modes(problem, nev, negative=mu_min < 0)
    pos, neg, nz = sm["gamma_positive"], sm["gamma_negative"], sm["n_zero_gamma"]
    # the nev nonzero gamma nearest 0 (the nz ladder null modes, gamma = 0, are counted in n_zero_gamma)
    allg = np.concatenate([pos, neg])
    gam = allg[np.argsort(np.abs(allg), kind="stable")][:nev]
    out = {
        "gamma": gam.tolist(),
        "gamma_min_positive": float(pos[0]) if pos.size else None,
        "gamma_negative": neg.tolist(),
        "gamma_max_negative": float(neg[0]) if neg.size else None,
        "mu_min_ahat": mu_min,
        "n_zero_gamma": nz,
        "eigen_solver": "slepc",
        "slepc_iterations": sm["iterations"],
        **{k: sm[k] for k in CONTINUUM_KEYS if k in sm},
        "eigenvectors": np.hstack([sm["vectors_positive"], sm["vectors_negative"]]),
        "eigenvector_gammas": pos.tolist() + neg.tolist(),
    }
    if target is not None:
        g, _ = gamma_spectrum(problem, nev + nz, target)
        out["gamma_near_target"] = g.tolist()
    if counts:
        c = count_unstable(problem, mu_min < 0, neg, nev)
        out.update(c)
        out["n_positive"] = None if c["n_negative"] is None else L - c["n_negative"] - nz
        if L <= DENSE_MAX and nz == 0 and problem.a_ee == 0:
            out["n_negative_slepc"] = n_negative_slicing(problem)
    return out
