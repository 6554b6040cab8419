"""The ladders of a comb's M_hat (docs/theory.md §5): its signed bond graph, its null vectors (:class:`Ladders`), and
M_hat grounded at one node per null vector and factorised as one banded Cholesky (:class:`GroundedCholesky`), the
M_hat^-1 of the slow modes (``matrix_free.slow_modes``).  numpy/scipy only; nothing dense beyond the band."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .common import DENSE_MAX, NULL_TOL

__all__ = ["Ladders", "GroundedCholesky", "BAND_MAX", "polish_null_space"]

#: widest band (in grid points) the banded Cholesky of the grounded M_hat takes: its factor holds (BAND_MAX + 1) L
#: numbers and costs L BAND_MAX^2 flops.  A ladder of modes:40-60 spans 60 (its largest r_k over gcd(r_k)); a comb on
#: a grid not commensurate with its modes has one component as wide as its largest r_k (960 at refine 16): MUMPS's
#: sparse Cholesky takes that case.
BAND_MAX = 256


class Ladders:
    """The connected components of M_hat's bond graph and its null vectors.

    The bonds of M^ep, Eq. (S18) on the grid (E_i -- E_i + omega_k, and their folds E_i -- -E_j), split the grid into
    connected components -- one ladder pair each on a grid commensurate with every omega_k -- and M_hat is block
    diagonal over them, so each null vector lives on one component.  M^ep is a signed graph Laplacian: its diagonal
    is the sum of its bonds' weights, a bond's off-diagonal entry is -w (phi keeps its sign along it) or, for a fold
    (phi(-E) = -phi(E)), +w (phi flips).  A component has a null vector iff it is balanced -- a sign sigma_i = +-1
    per node that every bond respects: phi = sigma (number conservation along the unfolded ladder), so
    x = S^-1 phi = sigma / s in the scaled variables -- and none otherwise (a ladder folded onto itself).  The signs
    come from the connected components of the signed double cover (nodes i+ and i-; a -w bond joins i+ -- j+ and
    i- -- j-, a +w bond i+ -- j- and i- -- j+): i+ and i- fall apart exactly on a balanced component.  O(nnz) time.

    The bonds leaving the grid at the cutoff (E_i + omega_k > Lambda) make sigma/s null only to ~f0(Lambda); a vector
    is kept when ||M_hat x|| <= NULL_TOL max diag(M_hat) (x unit), the threshold of the dense reference, and polished
    by :meth:`GroundedCholesky.polish`.  A component whose candidate misses it (an operator that is not a signed
    Laplacian) is diagonalised on its own instead.

    Attributes: ``label`` (component of each node), ``sigma`` (its sign; on a balanced component the unfolded ladder
    is ordered by sigma E), ``N`` (CSR, L x m, orthonormal columns with disjoint supports), ``pins`` (one node per
    null vector, where it is largest).
    """

    def __init__(self, problem, Mh):
        from scipy.sparse.csgraph import connected_components

        Mh = sp.csr_matrix(Mh)
        L = Mh.shape[0]
        dmax = float(Mh.diagonal().max())
        # each bond once (M_hat is symmetric), int32 indices: at L = 10^5 the graphs below are the largest transient
        up = sp.triu(Mh, k=1, format="coo")
        keep = up.data != 0.0
        r, c, flip = up.row[keep].astype(np.int32), up.col[keep].astype(np.int32), up.data[keep] > 0.0
        del up, keep
        shift = (L * flip).astype(np.int32)
        cover = sp.csr_matrix((np.ones(2 * r.size, dtype=np.int8), (np.concatenate([r + shift, r + (L - shift)]),
                                                                     np.concatenate([c, c + L]))), shape=(2 * L, 2 * L))
        del r, c, flip, shift
        _, lab2 = connected_components(cover, directed=False)
        del cover
        # a component of the bond graph is the union of the cover's components of its nodes' two copies
        _, lab = np.unique(np.minimum(lab2[:L], lab2[L:]), return_inverse=True)
        ncomp = int(lab.max()) + 1 if L else 0
        balanced = np.ones(ncomp, dtype=bool)
        np.logical_and.at(balanced, lab, lab2[:L] != lab2[L:])
        self.label, self.ncomp = lab, ncomp
        self.sigma = np.where(lab2[:L] < lab2[L:], 1.0, -1.0)
        x = self.sigma / problem.s
        x /= np.sqrt(np.bincount(lab, weights=x * x, minlength=ncomp))[lab]
        res2 = np.bincount(lab, weights=(Mh @ x) ** 2, minlength=ncomp)
        null = balanced & (res2 <= (NULL_TOL * dmax) ** 2)
        cols = -np.full(ncomp, 1, dtype=np.int64)
        cols[null] = np.arange(int(null.sum()))
        on = np.nonzero(cols[lab] >= 0)[0]
        rows_, cols_, vals_ = [on], [cols[lab[on]]], [x[on]]
        m = int(null.sum())
        # the components the signed-Laplacian candidate did not settle: their own eigenvectors below the threshold
        for comp in np.nonzero(~null)[0]:
            idx = np.nonzero(lab == comp)[0]
            for v in _component_null_vectors(Mh[idx][:, idx], dmax):
                rows_.append(idx)
                cols_.append(np.full(idx.size, m))
                vals_.append(v)
                m += 1
        self.N = sp.csr_matrix((np.concatenate(vals_), (np.concatenate(rows_), np.concatenate(cols_))), shape=(L, m))
        self.pins = np.asarray(abs(self.N).argmax(axis=0)).ravel() if m else np.zeros(0, dtype=np.int64)


def _component_null_vectors(block, dmax):
    """The unit eigenvectors of one component's block of M_hat with eigenvalue <= NULL_TOL dmax: dense LAPACK, or
    sparse shift-and-invert above DENSE_MAX points."""
    import scipy.sparse.linalg as spla

    n = block.shape[0]
    if n == 1:
        w, v = block.toarray()[0], np.ones((1, 1))
    elif n <= DENSE_MAX:
        w, v = np.linalg.eigh(block.toarray())
    else:
        w, v = spla.eigsh(block.tocsc(), k=4, sigma=-1e-3 * dmax, which="LM")
    return [v[:, j] / np.linalg.norm(v[:, j]) for j in np.nonzero(w <= NULL_TOL * dmax)[0]]


class GroundedCholesky:
    """M_hat grounded -- its rows and columns at the ladders' pins removed -- as B' = L L^T, one banded Cholesky.

    Grounding one node of a connected balanced signed Laplacian leaves it positive definite, so B' is SPD, and the
    finite eigenpairs of (A_hat, M_hat) are exactly those of (E^T A~ E, B') with E the injection of the unpinned nodes
    and A~ = A_hat - A_hat N G^-1 N^T A_hat (G = N^T A_hat N): x = y + N c splits uniquely with y_pins = 0 (N's
    columns are nonzero at their pins, on disjoint supports), N^T A x = 0 gives c, and the pin rows of the residual
    vanish because N^T annihilates both sides (docs/theory.md §5).  The unpinned nodes are ordered component by
    component, each along its unfolded ladder (by sigma E on a balanced component, by E on a ladder folded onto
    itself), so that B' is banded: a ladder of modes:40-60 has the band of its largest r_k / gcd(r_k) (60), whatever
    the refinement -- O(L) memory and time where MUMPS's solves had taken 36 ms at
    L = 10^5 (docs/benchmarks.md).  ``order`` maps reduced index k to the grid point ``order[k]``; ``band`` is the
    bandwidth; :meth:`lower` applies L^-1 and :meth:`upper` L^-T (LAPACK ``tbtrs``).
    """

    def __init__(self, Mh, ladders, energies):
        Mh = sp.csr_matrix(Mh)
        L = Mh.shape[0]
        free = np.ones(L, dtype=bool)
        free[ladders.pins] = False
        # along the unfolded ladder: sigma E on a balanced component; on a ladder folded onto itself the grid order
        # E, where a fold bond E_i -- -E_j (E_i + E_j = omega_k) is as short as the others
        balanced = np.zeros(ladders.ncomp, dtype=bool)
        balanced[ladders.label[ladders.pins]] = True
        key = np.where(balanced[ladders.label], ladders.sigma * energies, energies)
        nodes = np.nonzero(free)[0]
        self.order = nodes[np.lexsort((key[nodes], ladders.label[nodes]))]
        B = sp.tril(Mh[self.order][:, self.order], format="coo")  # B' in the new order, its lower triangle
        self._lower = (B.row - B.col, B.col, B.data)  # (diagonal offset, column, value): the band storage's entries
        self.band = int(np.max(self._lower[0])) if B.nnz else 0

    def factorise(self):
        """Form B' in LAPACK's lower band storage and factorise it in place (``pbtrf``).  Returns self."""
        offset, col, val = self._lower
        ab = np.zeros((self.band + 1, self.order.size))
        ab[offset, col] = val
        self._lower = None
        self.cb = sla.cholesky_banded(ab, lower=True, overwrite_ab=True, check_finite=False)
        return self

    def nbytes(self):
        return 8 * (self.band + 1) * self.order.size

    def _tb(self, v, trans):
        y, info = sla.lapack.dtbtrs(self.cb, v, uplo="L", trans=trans)
        if info != 0:
            raise ArithmeticError(f"tbtrs failed (info {info})")
        return y

    def lower(self, v):
        """L^-1 v for v (or an n x k block) in the reduced order."""
        return self._tb(v, "N")

    def upper(self, w):
        """L^-T w."""
        return self._tb(w, "T")

    def solve(self, v):
        """B'^-1 v."""
        return self.upper(self.lower(v))

    def polish(self, Mh, N):
        """:func:`polish_null_space` with the grounded solve: d = E B'^-1 E^T r; the residual of x - d is supported on
        the pins and vanishes there as N^T M_hat = 0."""

        def grounded(r):
            d = np.zeros_like(r)
            d[self.order] = self.solve(r[self.order])
            return d

        return polish_null_space(Mh, N, grounded)


def polish_null_space(Mh, N, correction):
    """One correction of the null vectors N (columns with disjoint supports; sigma/s is exact but for the bonds leaving
    the grid at the cutoff, ||M_hat x|| ~ 1e-11 max diag at modes:40-60): x - d with M_hat d = M_hat x on range(M_hat)
    (``correction(r)`` returns such a d for r = M_hat x), which is the null vector itself when x = x* + e, e in
    range(M_hat).  The columns' supports are disjoint, so one solve corrects all of them.  Returns the new N
    (orthonormal columns, the same sparsity)."""
    N = sp.csr_matrix(N)
    if N.shape[1] == 0:
        return N
    coo = N.tocoo()
    x = np.asarray(N.sum(axis=1)).ravel()
    x = x - correction(Mh @ x)
    vals = x[coo.row]
    norms = np.sqrt(np.bincount(coo.col, weights=vals**2, minlength=N.shape[1]))
    return sp.csr_matrix((vals / norms[coo.col], (coo.row, coo.col)), shape=N.shape)
