"""What the stability command reports: the gamma nearest 0 on both sides, the instability verdict (sign of
mu_min(A_hat)), the unstable-mode count and the smallest positive gamma -- matrix-free with SLEPc
(:func:`stability_summary`, any L) or from one dense LAPACK ``eigh`` (:func:`dense_summary`, small L), both
assembled by :func:`_summary` into the same result dict."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ephkin.pde.errors import InputError

from ..bridge import sharing
from .common import CONTINUUM_KEYS, DENSE_MAX, NULL_GAMMA_REL
from .continuum import continuum_edges, discrete_mask
from .counting import count_unstable, n_negative_slicing
from .dense import _standard_form, dense_refusal
from .matrix_free import slow_modes
from .residual import eigen_residuals, flagged
from .shift_invert import gamma_spectrum, pole_gammas
from .smallest import SmallestEigenvalue, mu_min_dense
from .window import AhatWindow, window_budget, window_fits

__all__ = ["POLES_DEFAULT", "dense_summary", "stability_summary"]

# the largest |gamma| reported by default (the pole region of Fig. 2): enough that both signs show (modes:40-60,
# lambda 5, refine 1: 495.4, -306.6, -220.0, 134.3)
POLES_DEFAULT = 4


def _summary(problem, pos, neg, vectors, mu_min, nev, eigen_solver, extra=None, near=None, counts=True, n_zero=0,
             target=None, Ah=None, poles=None, window=None):
    """The result dict of both summaries: ``pos``/``neg`` the positive gamma and the negative gamma, each nearest 0
    first, ``vectors`` their eigenvectors phi (columns, in that order), ``n_zero`` ladder null modes (gamma = 0,
    not in pos/neg); ``extra`` keys of the solver (iterations, continuum edges); ``near`` (gamma, phi columns)
    the nev gamma nearest ``target`` (when one is given: they are then the reported ``gamma``); with ``counts``
    the unstable-mode count (:func:`count_unstable`) and n_positive.  Every reported gamma has its residual
    (:func:`eigen_residuals`, with the dense ``Ah`` when at hand); those above RESIDUAL_TOL are listed in
    ``gamma_flagged``.  ``poles``: (gamma, phi columns) of the largest |gamma| (the pole region of Fig. 2), reported
    as ``gamma_poles`` with their residuals and ``gamma_most_negative``; ``window``: the window split of A_hat
    (:class:`.window.AhatWindow`) for the count above DENSE_MAX, if built."""
    # the nev nonzero gamma nearest 0 (the ladder null modes, gamma = 0, are counted in n_zero_gamma)
    allg = np.concatenate([pos, neg])
    if near is None:
        order = np.argsort(np.abs(allg), kind="stable")[:nev]
        gamma, phis = allg[order], vectors[:, order]
    else:
        gamma, phis = np.asarray(near[0], dtype=float), near[1]
    res = eigen_residuals(problem, gamma, phis, Ah=Ah)
    out = {
        "gamma": gamma.tolist(),
        "gamma_residual": res.tolist(),
        "gamma_flagged": flagged(gamma, res),
        "gamma_min_positive": float(pos[0]) if pos.size else None,
        "gamma_negative": neg.tolist(),
        "gamma_max_negative": float(neg[0]) if neg.size else None,
        "mu_min_ahat": mu_min,
        "n_zero_gamma": n_zero,
        "eigen_solver": eigen_solver,
        **(extra or {}),
        "eigenvectors": vectors,
        "eigenvector_gammas": pos.tolist() + neg.tolist(),
    }
    if target is not None:
        out["gamma_near_target"] = gamma.tolist()
        if problem.ep_fft:  # a continuous alpha^2F: which of them are samples of its continuous spectrum
            edges = continuum_edges(problem)
            out["gamma_in_continuum"] = (~discrete_mask(problem, gamma, edges)).tolist()
            out["target_in_continuum"] = bool(target != 0 and not discrete_mask(problem, [target], edges)[0])
    if poles is not None:
        pres = eigen_residuals(problem, poles[0], poles[1], Ah=Ah)
        neg_poles = [float(g) for g in poles[0] if g < 0]
        out.update(gamma_poles=[float(g) for g in poles[0]], gamma_poles_residual=pres.tolist(),
                   gamma_most_negative=min(neg_poles) if neg_poles else None)
        out["gamma_flagged"] += [g for g in flagged(poles[0], pres) if g not in out["gamma_flagged"]]
    if counts:
        c = count_unstable(problem, mu_min < 0, neg, nev, window=window)
        out.update(c)
        out["n_positive"] = None if c["n_negative"] is None else problem.grid.L - c["n_negative"] - n_zero
    return out


def dense_summary(problem, nev=6, target=None, counts=True, poles=POLES_DEFAULT):
    """What :func:`stability_summary` reports, from one dense LAPACK ``eigh`` (small L; M_hat sparse and
    definite: no ladder null modes, no e-e collisions).

    C y = mu y with C = L^-1 A_hat L^-T (:func:`_standard_form`), gamma = 1/mu, the vectors of the pencil
    of Eq. (14) x = L^-T y, phi = S x.  Every gamma is known, so ``n_negative_dense`` (the number of
    negative gamma) cross-checks the LDL^T inertia of :func:`count_unstable`, as ``n_negative_slepc`` does
    on the SLEPc path, and the ``poles`` largest |gamma| (None: POLES_DEFAULT; 0: none) are read off.
    """
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

    def phi(idx):
        V = X[:, idx] * problem.s[:, None]
        return V / np.max(np.abs(V), axis=0) if V.size else V

    mu_min = mu_min_dense(problem)
    near = None
    if target:  # target 0 (or none): the gamma nearest 0 -- the modes, below a continuum
        idx = np.argsort(np.abs(gam - target), kind="stable")[:nev]
        near = (gam[idx], phi(idx))
    k = POLES_DEFAULT if poles is None else int(poles)
    big = np.argsort(-np.abs(gam), kind="stable")[:k]
    out = _summary(problem, gam[pos], gam[neg], np.hstack([phi(pos), phi(neg)]), mu_min, nev, "dense", extra, near,
                   counts, target=target, Ah=problem.ahat_dense(), poles=(gam[big], phi(big)) if k else None)
    if counts:
        out["n_negative_dense"] = int(np.sum(mu < 0))
    return out


def stability_summary(problem, nev=6, target=None, counts=True, poles=None):
    """The gamma nearest 0 on both sides (matrix-free, :func:`slow_modes`), the instability verdict
    (sign of mu_min(A_hat), matrix-free :class:`SmallestEigenvalue`), the unstable-mode count
    (:func:`count_unstable`, with ``counts``) and the smallest positive gamma.  ``target`` (nonzero, L <=
    DENSE_MAX): the reported ``gamma`` are the nev nonzero gamma nearest it by shift-and-invert at the target
    (:func:`gamma_spectrum`; any sign, the pole region of large |gamma| included); else the slow modes.  Each
    reported gamma has its residual (:mod:`.residual`), computed from the returned vector.

    ``poles``: the number of largest |gamma| (the pole region of Fig. 2, :func:`pole_gammas`, A_hat^-1 by the window
    split) to report; None: POLES_DEFAULT where the split is at hand -- an unstable problem (the split gives the
    count above DENSE_MAX) -- else none; 0: none.  Above DENSE_MAX an unstable
    problem's window split is built once (within WINDOW_MEM_MAX) for both the count and the poles."""
    L = problem.grid.L
    if target and L > DENSE_MAX:
        raise InputError(f"--target needs shift-and-invert with A_hat factorised (L <= {DENSE_MAX}, here L = {L}); "
                         "drop --target (the gamma nearest 0 are computed matrix-free) or lower --refine", "target")
    mu = None
    # on a group of ranks every kernel product of the matrix-free solves is shared by row blocks (bridge.sharing)
    with sharing(problem.K):
        try:
            mu = SmallestEigenvalue()
            mu_min = mu(problem)
        finally:
            if mu is not None:
                mu.destroy()
        sm = slow_modes(problem, nev, negative=mu_min < 0)
    pos, neg, nz = sm["gamma_positive"], sm["gamma_negative"], sm["n_zero_gamma"]
    near = None
    if target:  # target 0 (or none): the slow modes, the ladder null modes deflated
        g, V = gamma_spectrum(problem, nev + nz, target)
        keep = np.abs(g) > NULL_GAMMA_REL * max(1.0, float(np.max(np.abs(g), initial=0.0)))  # not gamma = 0
        near = (g[keep][:nev], V[:, keep][:, :nev])
    extra = {"slepc_iterations": sm["iterations"], **{k: sm[k] for k in CONTINUUM_KEYS if k in sm}}
    unstable = mu_min < 0
    # by default the poles where the window split is built anyway (an unstable problem's count); a stable problem
    # asks for them with poles=K: at L ~ 3000 they cost twice the rest of the run (issue 26: no step at DENSE_MAX)
    k = (POLES_DEFAULT if unstable and counts else 0) if poles is None else int(poles)
    window, pole_pairs = None, None
    want_count = counts and unstable and L > DENSE_MAX
    if want_count or k:
        fits, need = window_fits(problem, count=want_count, lu=bool(k))
        if fits:
            window = AhatWindow(problem, lu=bool(k), count=want_count, budget=window_budget())
            if not window.fits:  # the certified split is larger than the first estimate: nothing was built
                fits, need = False, window.need
                if not want_count:
                    window = None
        if not fits and k:
            extra["gamma_poles_note"] = f"not computed: the window split of A_hat needs ~{need / 2**30:.1f} GiB"
            k = 0
    if k:
        pole_pairs = pole_gammas(problem, k, window=window, vectors=True)
    out = _summary(problem, pos, neg, np.hstack([sm["vectors_positive"], sm["vectors_negative"]]), mu_min, nev,
                   "slepc", extra, near, counts, n_zero=nz, target=target, poles=pole_pairs,
                   window=window if want_count else None)
    if counts and L <= DENSE_MAX and nz == 0 and problem.a_ee == 0:
        out["n_negative_slepc"] = n_negative_slicing(problem)
    return out
