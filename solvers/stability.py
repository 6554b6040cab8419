"""Linear stability engines: inertia of A, lambda_c, and the gamma spectrum (seed 000 Eq. (14)).

* Inertia (Sylvester's law, SPEC "Numerics that matter"): M is positive
  (semi)definite, so the number of negative gamma equals the number of negative
  eigenvalues of A_hat = S A S.  Counted from an LDL^T / Cholesky factorisation
  through PETSc with MUMPS (:func:`inertia`), SciPy's ``ldl`` as a fallback.
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
from scipy.optimize import brentq

from ephkin.pde.errors import InputError
from ephkin.pde.grids import default_grid
from ephkin.pde.instability import lambda_c_zinv
from ephkin.pde.linearized import LinearizedProblem

from . import prefixes
from .bridge import aij, comm, gather, parallel, scatter
from .eps import create_eps, solve_eigensystem
from .petsc_env import init_petsc

PREFIX = prefixes.STABILITY
DENSE_MAX = 3000  # largest L for the dense eigen/inertia paths


# ------------------------------------------------------------------ inertia
def inertia(ahat, backend="auto"):
    """(n_negative, n_zero, n_positive, backend) of the symmetric matrix ``ahat`` (dense ndarray).

    backend: "mumps" (PETSc Cholesky/LDL^T with MUMPS, ICNTL(24) null-pivot
    detection), "scipy" (``scipy.linalg.ldl``), or "auto" (MUMPS if PETSc has it).
    """
    if backend in ("auto", "mumps"):
        PETSc, _ = init_petsc()
        if PETSc.Sys.hasExternalPackage("mumps"):
            # entries below 1e-15 of the largest (far from the Fermi level sqrt(f0'_i f0'_j) is
            # exponentially small) cannot move an eigenvalue across 0 by more than ~1e-15 L
            A = aij(ahat, drop=1e-15 * float(np.max(np.abs(ahat))))
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
                F.setMumpsCntl(3, 1e-12 * float(np.max(np.abs(ahat))))
                pc.setUp()
                nneg, nzero, npos = F.getInertia()
                return int(nneg), int(nzero), int(npos), "petsc-mumps"
            finally:
                ksp.destroy()
                A.destroy()
        if backend == "mumps":
            raise InputError("--inertia mumps: this PETSc has no MUMPS; use --inertia scipy")
    _, d, _ = sla.ldl(ahat, lower=True, hermitian=True)
    ev = np.linalg.eigvalsh(d) if d.shape[0] <= 1 else _block_diag_eigs(d)
    tol = 1e-12 * max(1.0, float(np.max(np.abs(ev))))
    return int(np.sum(ev < -tol)), int(np.sum(np.abs(ev) <= tol)), int(np.sum(ev > tol)), "scipy-ldl"


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

    def destroy(self):
        for obj in (self.v, self.eps, self.A):
            if obj is not None:
                obj.destroy()
        self.eps = self.A = self.v = None
        self.L = None


def mu_min_dense(problem):
    """Smallest eigenvalue of the dense A_hat (LAPACK)."""
    return float(sla.eigvalsh(problem.ahat_dense(), subset_by_index=[0, 0])[0])


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

    solver: "slepc" (matrix-free mu_min, warm-started; also "auto": faster than
    LAPACK already at L ~ 500), "dense" (LAPACK mu_min, L <= 3000), "inertia" (bisection on the
    MUMPS/SciPy inertia count, L <= 3000).  From the quick Z0-criterion
    estimate, the slepc path iterates by Newton on mu_min(lambda) with the
    Hellmann-Feynman slope v^T (dA_hat/dlambda) v, the dense path by secant;
    both fall back to bracketing + brentq if the iteration strays; the result is checked by the
    inertia just below and above (n_negative_below must be 0, else the first
    crossing is searched from below).  Returns a dict with lambda_c, the grid
    data and n_negative just above lambda_c (L <= 3000).
    """
    from ephkin.pde.grids import default_grid
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
        solver = "slepc"
    if solver in ("dense", "inertia") and L0 > DENSE_MAX:
        raise InputError(f"--solver {solver} needs L <= {DENSE_MAX} (L = {L0}); use --solver slepc")
    evals = {"n": 0}
    mu = None
    if solver == "inertia":
        f = lambda lam: -0.5 if inertia(prob(lam).ahat_dense())[0] > 0 else 0.5  # noqa: E731
    else:
        mu = mu_min_dense if solver == "dense" else SmallestEigenvalue()
        f = lambda lam: mu(prob(lam))  # noqa: E731

    def counted(lam):
        evals["n"] += 1
        return f(lam)

    if solver == "slepc":
        def mu_and_slope(lam):
            # Hellmann-Feynman: d mu/d lambda = v^T (dA_hat/d lambda) v for the unit eigenvector v
            m = counted(lam)
            return m, fam.slope(lam, gather(mu.v))

        lam_c = _newton(mu_and_slope, guess, rtol)
    else:
        lam_c = None if solver == "inertia" else _secant(counted, guess, rtol)
    check = None
    if lam_c is not None and L0 <= DENSE_MAX:
        check = (inertia(prob(lam_c * (1 + 10 * rtol)).ahat_dense()), None)
        if check[0][0] != 1 or counted(lam_c * (1 - 10 * rtol)) <= 0:
            lam_c = check = None  # not a simple first crossing: search from below
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
    if isinstance(mu, SmallestEigenvalue):
        mu.destroy()
    if p.grid.L <= DENSE_MAX:
        above = check[0] if check else inertia(prob(lam_c * (1 + 10 * rtol)).ahat_dense())
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


# ----------------------------------------------------------- gamma spectrum
def gamma_spectrum(problem, nev=6, target=None, tol=1e-12):
    """The nev eigenvalues gamma of M x = gamma A x nearest ``target`` (SLEPc, shift-and-invert).

    Uses the scaled pencil (M_hat, A_hat).  The default target is slightly
    below 0 (-1e-9 of the largest diagonal of M_hat) so that ladder null modes of M
    are found as gamma = 0 and M - target*A stays nonsingular.  Options under
    ``-stab_`` (``-stab_eps_nev``, ``-stab_st_type``, ``-stab_eps_target`` ...).
    Returns (gamma sorted by |gamma - target|, eigenvectors phi = S x as columns).
    """
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


def gamma_dense(problem):
    """All gamma of M x = gamma A x by dense LAPACK (reference for small L), ascending.

    Uses A_hat x = mu M_hat x with mu = 1/gamma when M is positive definite, else
    the general pencil (gamma = 0 for the null space of M).
    """
    Mh = problem.m_matrix(scaled=True)
    Mh = Mh if isinstance(Mh, np.ndarray) else Mh.toarray()
    Ah = problem.ahat_dense()
    try:
        mu = sla.eigh(Ah, Mh, eigvals_only=True)
        return np.sort(1.0 / mu)
    except np.linalg.LinAlgError:
        w = sla.eigvals(Mh, Ah)
        return np.sort(w.real)


def stability_summary(problem, nev=6, target=None):
    """gamma list (SLEPc), inertia counts, smallest positive gamma and the temperature-mode check."""
    ahat = problem.ahat_dense() if problem.grid.L <= DENSE_MAX else None
    m_null = _m_null_dim(problem) if ahat is not None else None
    # ladder null modes of M (gamma = 0) come first near 0: ask for enough to see nev others too
    gam, vecs = gamma_spectrum(problem, nev + (m_null or 0), target)
    nneg, nzero, npos, backend = inertia(ahat) if ahat is not None else (None, None, None, None)
    if nneg and m_null:
        # M singular (ladder modes): B = M is not definite, take the negative gamma of the pencil densely
        g = gamma_dense(problem)
        neg, negvecs = np.sort(g[g < 0])[::-1][: min(nev, nneg)], None
    else:
        neg, negvecs = unstable_gammas(problem, min(nev, nneg)) if nneg else (np.zeros(0), None)
    pos = gam[gam > 1e-9 * max(1.0, float(np.max(np.abs(gam))) if gam.size else 1.0)]
    return {
        "gamma": gam.tolist(),
        "n_negative": nneg,
        "n_positive": None if nneg is None else problem.grid.L - nneg - (m_null or 0),
        "n_zero_gamma": m_null,
        "n_negative_slepc": n_negative_slicing(problem) if ahat is not None else None,
        "gamma_min_positive": float(pos.min()) if pos.size else None,
        "gamma_negative": neg.tolist(),
        "inertia_backend": backend,
        "eigenvectors": vecs if negvecs is None else np.hstack([vecs, negvecs]),
        "eigenvector_gammas": gam.tolist() + ([] if negvecs is None else neg.tolist()),
    }


def _m_null_dim(problem):
    Mh = problem.m_matrix(scaled=True)
    ev = np.linalg.eigvalsh(Mh if isinstance(Mh, np.ndarray) else Mh.toarray())
    return int(np.sum(ev < 1e-11 * ev.max()))
