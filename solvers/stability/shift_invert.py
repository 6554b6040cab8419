"""gamma of the pencil M x = gamma A x (Eq. (14)) near a target by SLEPc shift-and-invert, A_hat assembled dense
(L <= DENSE_MAX): the gamma nearest a target (:func:`gamma_spectrum`, default just below 0 so that the ladder null
modes of M come out as gamma = 0; options ``-stab_``), the negative gamma nearest 0 (:func:`unstable_gammas`,
``-stab_unstable_``) and the poles of Fig. 2 (:func:`pole_gammas`, ``-stab_pole_``)."""

from __future__ import annotations

import numpy as np

from ephkin.pde.errors import InputError

from ..bridge import aij, destroy
from ..eps import solve_eigensystem
from .common import DENSE_MAX, GAMMA_TARGET_REL, PREFIX

__all__ = ["gamma_spectrum", "unstable_gammas", "pole_gammas"]


def gamma_spectrum(problem, nev=6, target=None, tol=1e-12):
    """The nev eigenvalues gamma of M x = gamma A x nearest ``target`` (SLEPc, shift-and-invert).

    Uses the scaled pencil (M_hat, A_hat).  The default target is slightly
    below 0 (-GAMMA_TARGET_REL = -1e-9 of the largest diagonal of M_hat) so that ladder null modes of M
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
        target = -GAMMA_TARGET_REL * float(Mh.diagonal().max())
    Am = Mm = None
    try:
        Am, Mm = aij(Ah, drop=1e-300), aij(Mh)
        vals, vecs = solve_eigensystem(Mm, Am, prefix=PREFIX, problem_type="GNHEP", eps_type="krylovschur",
                                       which="TARGET_MAGNITUDE", nev=nev, target=target, tol=tol, max_it=1000,
                                       st_type="sinvert", pc_type="lu", mumps=True, scale=problem.s)
    finally:
        destroy(Am, Mm)
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
    shift = dict(target=0.0, which="TARGET_MAGNITUDE", st_type="sinvert", pc_type="lu", mumps=True)
    Am = Mm = None
    try:
        Am = aij(problem.ahat_dense(), drop=1e-300)
        Mm = aij(problem.m_matrix(scaled=True))
        mu, vecs = solve_eigensystem(Am, Mm, k=k, prefix=PREFIX + ("pole_" if nearest_zero else "unstable_"),
                                     problem_type="GHEP", nev=k, tol=tol, max_it=1000, scale=problem.s,
                                     **(shift if nearest_zero else dict(which="SMALLEST_REAL")))
    finally:
        destroy(Am, Mm)
    keep = np.ones(mu.size, bool) if nearest_zero else mu < 0
    vecs = vecs[:, keep]
    if vecs.size:
        vecs /= np.max(np.abs(vecs), axis=0)
    return 1.0 / mu[keep], vecs


def unstable_gammas(problem, k=3):
    """The k negative gamma of smallest |gamma| with eigenvectors (SLEPc); empty when A > 0."""
    return _pencil_gammas(problem, k, nearest_zero=False)


def pole_gammas(problem, k=2):
    """The k gamma of largest |gamma| (mu = 1/gamma nearest 0): they diverge at lambda_c (Fig. 2)."""
    return _pencil_gammas(problem, k, nearest_zero=True)[0]
