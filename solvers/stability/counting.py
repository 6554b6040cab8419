"""How many negative gamma (Sylvester's law, docs/theory.md §3): the inertia of A_hat.

M is positive (semi)definite, so the number of negative gamma equals the number of negative eigenvalues of
A_hat = S A S, counted from an LDL^T factorisation: LAPACK (``scipy.linalg.ldl``) on the dense A_hat up to
DENSE_MAX, the window split of A_hat above (:mod:`.window`, :func:`count_unstable`); MUMPS as a second backend on the
dense A_hat (:func:`inertia`); cheaper certificates by Cholesky (:func:`positive_definite`, :func:`one_negative`);
and SLEPc spectrum slicing as an independent count (:func:`n_negative_slicing`).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ephkin.pde.errors import InputError

from ..bridge import aij, destroy, parallel
from ..eps import solve_eigensystem
from ..petsc_env import init_petsc
from .common import DENSE_MAX, PREFIX, cholesky_ksp

__all__ = ["inertia", "positive_definite", "one_negative", "count_unstable", "window_report", "n_negative_slicing"]


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
        A = None
        try:
            A = aij(ahat, drop=1e-15 * float(np.max(np.abs(ahat))))
            nneg, nzero, npos = _mumps_inertia(A, pivot_tol=1e-12 * float(np.max(np.abs(ahat))))
            return nneg, nzero, npos, "petsc-mumps"
        finally:
            destroy(A)
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


def count_unstable(problem, unstable, gamma_negative, nev, window=None):
    """The number of unstable modes (negative gamma, Sylvester's law), labelled by how it was found.

    ``n_negative_method``: "inertia" (exact: LAPACK LDL^T of the dense A_hat up to DENSE_MAX; above, the window
    split of A_hat (:class:`.window.AhatWindow`, Haynsworth: In(A_hat) = In(A_hat_XX) + In(S) with A_hat_XX
    quasi-definite, its blocks certified definite, the |M| x |M| Schur complement S factorised), built from FFT
    products within WINDOW_MEM_MAX; ``inertia_backend`` says which, ``window`` its certificate), "mu_min>0" (A_hat
    positive definite: 0), "all-found" (SLEPc returned fewer than nev negative gamma: every negative mu of the
    pencil was converged), or "lower-bound" (n_negative is None, n_negative_found is a lower bound; the message
    gives the memory the window split would need, decided from A_hat's diagonal and the split's certificates before the
    Schur complement is built).  ``window``: an AhatWindow built with ``count=True`` (reused; one that did not fit
    its budget gives the lower bound).
    """
    from .window import AhatWindow, window_budget, window_fits

    L = problem.grid.L
    found = len(gamma_negative)
    res = {"unstable": bool(unstable), "n_negative_found": found}
    if not unstable:  # a stable problem's count comes from mu_min(A_hat) > 0 (Sylvester), at every L: an O(L^3)
        # LDL^T below DENSE_MAX only to find 0 made L = 2956 cost 3x L = 3378 (issue 26's step at DENSE_MAX)
        res.update(n_negative=0, n_negative_method="mu_min>0: A_hat positive definite (Sylvester)")
        return res
    if L <= DENSE_MAX:
        nneg, _, _, backend = inertia(problem.ahat_dense())
        res.update(n_negative=nneg, n_negative_method="inertia", inertia_backend=backend)
        return res
    if window is None:
        fits, need = window_fits(problem, lu=False)
        window = AhatWindow(problem, lu=False, budget=window_budget()) if fits else None
    if window is not None and not window.fits:  # the certified split needs more than the first estimate
        need, window = window.need, None
    if window is not None:
        method = "inertia" if window.certified() else ("inertia (uncertified: the MINRES error bound on the Schur "
                                                       "complement exceeds its smallest |eigenvalue|)")
        res.update(n_negative=window.n_negative, n_negative_method=method,
                   inertia_backend="window Schur complement (Haynsworth, quasi-definite split; LAPACK sytrf)",
                   window=window_report(window))
    elif found < nev:
        res.update(n_negative=found, n_negative_method="all-found: SLEPc converged fewer than nev negative mu")
    else:
        res.update(n_negative=None, n_negative_method=f"lower-bound: the window split of A_hat needs ~"
                   f"{need / 2**30:.1f} GiB; n_negative_found = {found} (raise --nev for more)")
    return res


def window_report(w):
    """The certificate of a window split (:class:`.window.AhatWindow`) as the result reports it."""
    return {"n_window": int(w.W.size), "energy_range": [float(w.p.E[w.W[0]]), float(w.p.E[w.W[-1]])]
            if w.W.size else None, "n_schur": int(w.M.size), "n_negative_definite": int(w.N.size),
            "diag_threshold": w.tau, "diag_band": w.delta, "lambda_min_outside": float(w.lambda_min_P),
            "lambda_max_core": None if w.lambda_max_N is None else float(w.lambda_max_N),
            "minres_iterations": int(w.iterations), "schur_min_abs_eig": w.margin,
            "schur_error_bound": float(w.residual_bound), "certified": bool(w.certified())}


def _mumps_inertia(A, pivot_tol=None):
    """(n_neg, n_zero, n_pos) of the symmetric AIJ ``A`` by MUMPS LDL^T (ICNTL(24) null pivots below
    ``pivot_tol``, CNTL(3))."""
    icntl = {24: 1}
    if parallel():
        icntl[13] = 1  # MUMPS reports the inertia in parallel only without ScaLAPACK
    ksp = None
    try:
        ksp = cholesky_ksp(A, require_mumps=True, icntl=icntl, cntl=None if pivot_tol is None else {3: pivot_tol})
        return tuple(int(v) for v in ksp.getPC().getFactorMatrix().getInertia())
    finally:
        destroy(ksp)


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
    # the slices copy the ST's KSP from the options database: the defaults stay there through the solve
    defaults = {"st_ksp_type": "preonly", "st_pc_type": "cholesky", "st_pc_factor_mat_solver_type": "mumps",
                "st_mat_mumps_icntl_24": "1", "st_mat_mumps_icntl_13": "1" if parallel() else "0"}
    Am = Mm = None
    try:
        Am, Mm = aij(Ah, drop=1e-300), aij(Mh)
        mu, _ = solve_eigensystem(Am, Mm, prefix=PREFIX + "slice_", problem_type="GHEP", eps_type="krylovschur",
                                  which="ALL", interval=(1.01 * a_min / m_min, -1e-14), st_type="sinvert",
                                  defaults=defaults, keep_defaults=True)
        return int(mu.size)
    finally:
        destroy(Am, Mm)
