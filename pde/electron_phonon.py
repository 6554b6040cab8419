"""The electron-phonon collision integral on the folded grid, seed 000 Eq. (2) / (S35).

I_ep/pi = sum_k lambda_k omega_k [N0(omega_k)(f_+ + f_- - 2f) - f(f_+ - f_-) + f_+ - f],
f_+- = f(E +- omega_k), with time rescaled pi t -> t (so I_ep/pi is what drives
f), alpha^2F = sum_k lambda_k omega_k/2 delta(omega - omega_k), and the boundary
conditions (S28): f(0) = 1/2, f(-E) = 1 - f(E), f(E > Lambda) = 0.  Phonon
frequencies are grid multiples omega_k = r_k eps (``pde.grids.project_spectrum``).

:func:`collision_ep` sums mode by mode (the reference of the tests); :class:`CombCollisions` applies the same
sums for combs (Einstein, ``modes:``) as one sparse stencil product, O(K L) for K grid frequencies with no
per-mode Python loop (the time integrator calls it thousands of times: 21 modes one at a time cost 2/3 of a
modes:40-60 run at rtol 1e-8).
:class:`EPCollisions` applies the same integral, its Jacobian and its truncation by FFT, in O(L log L)
whatever the number of grid frequencies (a continuous alpha^2F has one per grid step of its support).
With g = f - 1/2 (odd about E = 0, -1/2 beyond the cutoff) the integrand regroups as

    I_ep/pi = S_a[g] - g (S_c[g]) - D0 g,
    S_a[g]_i = sum_k a_k (g_{i+r_k} + g_{i-r_k}),  a_k = c_k (N0(omega_k) + 1/2),
    S_c[g]_i = sum_k c_k (g_{i+r_k} - g_{i-r_k}),  c_k = lambda_k omega_k,   D0 = sum_k c_k (2 N0(omega_k) + 1),

and on the folded grid (g_{-j} = -g_j) S_a is Toeplitz minus Hankel with t = h = a, S_c an antisymmetric
Toeplitz plus Hankel with h = c (``pde.fftops.ToeplitzHankel``); the values beyond the cutoff
(g = -1/2) add fixed vectors, suffix sums of a and c.
"""

from __future__ import annotations

import numpy as np

from .fftops import ToeplitzHankel
from .linearized import bose

#: grid points up to which :class:`CombCollisions` applies its stencil as one CSR product; above, slice by slice
#: (the measured crossover, class docstring)
SPARSE_STENCIL_L_MAX = 2500

__all__ = ["extend_folded", "collision_ep", "collision_ep_jvp", "collision_ep_diagonal", "CombCollisions",
           "EPCollisions", "ep_jacobian_entries"]


def extend_folded(f, pad, odd=False):
    """f on indices -pad..L+pad of the full axis from f on 1..L (S28); index 0 <-> E = 0: 1 - f(|E|) below
    0, 1/2 at 0, 0 beyond the cutoff (1 below -Lambda).  ``odd``: a perturbation of f, -v(|E|) below 0 and 0 at
    0 and beyond the cutoffs.  Slices only (one pass)."""
    L = f.shape[0]
    out = np.zeros((L + 2 * pad + 1,) + f.shape[1:])
    out[pad + 1 : pad + 1 + L] = f
    m = min(pad, L)
    mirror = out[pad - m : pad][::-1]  # indices -1, -2, ..., -m
    if odd:
        np.negative(f[:m], out=mirror)
    else:
        np.subtract(1.0, f[:m], out=mirror)
        out[pad] = 0.5
        out[: max(pad - L, 0)] = 1.0
    return out


def collision_ep(f, eps, r, lam_r, T0):
    """I_ep/pi at E_i = i eps, i = 1..L, for the distribution f (Eq. (2), rescaled time)."""
    f = np.asarray(f, dtype=float)
    L = f.shape[0]
    pad = int(np.max(r))
    fx = extend_folded(f, pad)
    base = pad  # position of index 1 is pad + 1
    out = np.zeros_like(f)
    for rk, lk in zip(r, lam_r):
        om = rk * eps
        n0 = bose(om, T0)
        fp = fx[base + 1 + rk : base + 1 + rk + L]
        fm = fx[base + 1 - rk : base + 1 - rk + L]
        out += lk * om * (n0 * (fp + fm - 2 * f) - f * (fp - fm) + fp - f)
    return out


def _shifted(f, v, rk, pad, L):
    """(f_+, f_-, v_+, v_-) at E_i +- omega, i = 1..L, for the folded f (S28: 1 - f below 0, 0 beyond the cutoff)
    and an odd perturbation v (-v below 0, 0 at 0 and beyond the cutoff), from their extensions by ``pad``."""
    sl_p, sl_m = slice(pad + 1 + rk, pad + 1 + rk + L), slice(pad + 1 - rk, pad + 1 - rk + L)
    return f[sl_p], f[sl_m], v[sl_p], v[sl_m]


def collision_ep_jvp(f, v, eps, r, lam_r, T0):
    """(d(I_ep/pi)/df) v mode by mode (Eq. (2) differentiated; the fold and the cutoff of (S28)): the reference
    of :class:`CombCollisions`'s product, O(L) per grid frequency, nothing assembled."""
    f = np.asarray(f, dtype=float)
    v = np.asarray(v, dtype=float)
    pad = int(np.max(r))
    fx = extend_folded(f, pad)
    vx = extend_folded(v, pad, odd=True)
    out = np.zeros_like(f)
    for rk, lk in zip(r, lam_r):
        om = rk * eps
        n0 = bose(om, T0)
        fp, fm, vp, vm = _shifted(fx, vx, rk, pad, f.shape[0])
        out += lk * om * (n0 * (vp + vm - 2 * v) - v * (fp - fm) - f * (vp - vm) + vp - v)
    return out


def collision_ep_diagonal(f, eps, r, lam_r, T0):
    """diag(d(I_ep/pi)/df) mode by mode: the local terms, and -c_k (N0 + f_i) where the fold maps E_i - omega_k
    onto -E_i (r_k = 2i)."""
    f = np.asarray(f, dtype=float)
    L = f.shape[0]
    pad = int(np.max(r))
    fx = extend_folded(f, pad)
    i = np.arange(1, L + 1)
    out = np.zeros(L)
    for rk, lk in zip(r, lam_r):
        om = rk * eps
        n0 = bose(om, T0)
        fp, fm, _, _ = _shifted(fx, fx, rk, pad, L)
        out += lk * om * (-2.0 * n0 - (fp - fm) - 1.0 - np.where(2 * i == rk, n0 + f, 0.0))
    return out


def ep_jacobian_entries(f, eps, r, lam_r, T0):
    """The COO entries (rows, cols, values: lists of arrays, duplicates to be summed) of d(I_ep/pi)_i/d f_j,
    mode by mode, folding and cutoff of (S28) included; the first arrays are the diagonal."""
    f = np.asarray(f, dtype=float)
    L, idx = f.size, np.arange(f.size)
    fx = np.concatenate([f, np.zeros(int(np.max(r)) + 1)])
    rows, cols, vals = [idx], [idx], [np.zeros(L)]
    for rk, lk in zip(r, lam_r):
        w = rk * eps
        n0 = 1.0 / np.expm1(w / T0)
        c = lk * w
        up = idx + rk  # f_+ = f(E + w): index i + r (0 beyond the cutoff)
        fp = fx[up]
        dn = idx - rk  # f_- = f(E - w): i - r >= 0 -> f, == -1 -> 1/2, < -1 -> 1 - f(r - i)
        fm = np.where(dn >= 0, fx[np.maximum(dn, 0)], np.where(dn == -1, 0.5, 1.0 - fx[np.maximum(-dn - 2, 0)]))
        vals[0] = vals[0] + c * (-2.0 * n0 - (fp - fm) - 1.0)
        inside = up < L
        rows.append(idx[inside])
        cols.append(up[inside])
        vals.append(c * (n0 - f + 1.0)[inside])
        d_fm = c * (n0 + f)
        pos = dn >= 0
        rows.append(idx[pos])
        cols.append(dn[pos])
        vals.append(d_fm[pos])
        fold = dn < -1
        rows.append(idx[fold])
        cols.append(-dn[fold] - 2)
        vals.append(-d_fm[fold])
    return rows, cols, vals


class CombCollisions:
    """I_ep/pi of Eq. (2) for a comb (few grid phonon frequencies r_k), its Jacobian product and diagonal, as
    stencils on the folded extension of f (:func:`extend_folded`, pad = max r_k): with a_k^+ = c_k (N0_k + 1),
    a_k^- = c_k N0_k, c_k = lambda_k omega_k and D0 = sum_k c_k (2 N0_k + 1),

        I_ep/pi = S fx - f (D fx) - D0 f,   S fx = sum_k a_k^+ f_+ + a_k^- f_-,   D fx = sum_k c_k (f_+ - f_-),
        (dI/df) v = S vx - v (D fx) - f (D vx) - D0 v,

    the regrouping of :func:`collision_ep`'s sum (the same terms; the tests hold the two to 1e-13).  On up to
    SPARSE_STENCIL_L_MAX points S and D are one stacked CSR matrix (2L rows, 4 K L entries), one sparse product a
    call: a product and a collision integral took 0.057 ms at L = 423 (modes:40-60), against 0.45 ms for the
    per-mode reference sums (~10 array operations per mode) and 0.22 ms for 4 slices per mode.  On more points the
    CSR product's index traffic costs more than streaming slices (L = 3378: 0.43 against 0.40 ms; 54 041: 13.0
    against 2.8 ms; the reference 6.0 ms), and S and D are summed slice by slice, their weights computed once.  Same
    interface as :class:`EPCollisions`, without its FFT operators (``ops`` None: nothing for the ranks to share)."""

    ops = None

    def __init__(self, L, eps, r, lam_r, T0):
        import scipy.sparse as sp

        self.L, self.eps, self.T0 = int(L), float(eps), float(T0)
        self.r = np.asarray(r, dtype=np.int64)
        L = self.L
        om = self.r * self.eps
        n0 = bose(om, self.T0)
        c = np.asarray(lam_r, dtype=float) * om
        self.D0 = float(np.sum(c * (2.0 * n0 + 1.0)))
        self.pad = int(self.r.max())
        self._w = (c * (n0 + 1.0), c * n0, c)  # a^+, a^-, c per mode
        K = self.r.size
        self.B = None
        if L <= SPARSE_STENCIL_L_MAX:
            i = np.arange(L)  # E_{i+1} sits at pad + 1 + i of the extension
            rows = np.concatenate([np.tile(i, 2 * K), L + np.tile(i, 2 * K)])
            plus = (self.pad + 1 + i)[None, :] + self.r[:, None]
            minus = (self.pad + 1 + i)[None, :] - self.r[:, None]
            cols = np.concatenate([plus.ravel(), minus.ravel(), plus.ravel(), minus.ravel()])
            w = lambda x: np.repeat(x, L)  # noqa: E731 - a weight per mode, on each of its L rows
            vals = np.concatenate([w(self._w[0]), w(self._w[1]), w(c), w(-c)])
            self.B = sp.csr_matrix((vals, (rows, cols)), shape=(2 * L, L + 2 * self.pad + 1))
        # the fold: E_i - omega_k = -E_i where r_k = 2i, so f_- = 1 - f_i depends on f_i itself (the diagonal)
        fold = np.zeros(L + 1)
        fold_n0 = np.zeros(L + 1)
        half = self.r % 2 == 0
        j = self.r[half] // 2
        ok = j <= L
        np.add.at(fold, j[ok], c[half][ok])
        np.add.at(fold_n0, j[ok], (c * n0)[half][ok])
        self._fold, self._fold_n0 = fold[1:], fold_n0[1:]
        self._state = None  # (f, D fx) of the last f

    def _apply(self, x):
        """(S x, D x) for an extension x."""
        L = self.L
        if self.B is not None:
            y = self.B @ x
            return y[:L], y[L:]
        s, d, t = np.zeros(L), np.zeros(L), np.empty(L)
        base = self.pad + 1
        for rk, ap, am, ck in zip(self.r, *self._w):
            xp, xm = x[base + rk : base + rk + L], x[base - rk : base - rk + L]
            s += np.multiply(ap, xp, out=t)
            s += np.multiply(am, xm, out=t)
            d += np.multiply(ck, np.subtract(xp, xm, out=t), out=t)
        return s, d

    def _d(self, f):
        if self._state is None or not np.array_equal(f, self._state[0]):
            self._state = (np.array(f, dtype=float), self._apply(extend_folded(f, self.pad))[1])
        return self._state[1]

    def collisions(self, f):
        """I_ep/pi at E_i = i eps (Eq. (2), rescaled time)."""
        f = np.asarray(f, dtype=float)
        s, d = self._apply(extend_folded(f, self.pad))
        self._state = (f.copy(), d)
        return s - f * d - self.D0 * f

    def jvp(self, f, v):
        """(d(I_ep/pi)/df) v, exact."""
        f = np.asarray(f, dtype=float)
        v = np.asarray(v, dtype=float)
        d = self._d(f)
        sv, dv = self._apply(extend_folded(v, self.pad, odd=True))
        return sv - v * d - f * dv - self.D0 * v

    def jacobian_diagonal(self, f):
        """diag(d(I_ep/pi)/df): the local terms, and -c_k (N0_k + f_i) where the fold maps E_i - omega_k onto
        -E_i."""
        f = np.asarray(f, dtype=float)
        return -self.D0 - self._d(f) - self._fold_n0 - self._fold * f


class EPCollisions:
    """I_ep/pi of Eq. (2) on L folded grid points, its Jacobian product and a sparse truncation, by FFT
    (module docstring): ``collisions(f)`` costs one forward and two inverse FFTs of length ~2L,
    ``jvp(f, v)`` the same, whatever the number of grid phonon frequencies; ``jacobian_diagonal(f)``
    is exact and O(L) (the preconditioner of the time integrator)."""

    def __init__(self, L, eps, r, lam_r, T0):
        self.L, self.eps, self.T0 = int(L), float(eps), float(T0)
        self.r = np.asarray(r, dtype=np.int64)
        self.lam_r = np.asarray(lam_r, dtype=float)
        L = self.L
        om = self.r * self.eps
        n0 = bose(om, self.T0)
        c = self.lam_r * om
        self.D0 = float(np.sum(c * (2.0 * n0 + 1.0)))
        R2 = max(2 * L + 1, int(self.r.max()) + 1)
        A = np.zeros(R2)  # a_d, c_d at lag d (zero where no grid frequency)
        C = np.zeros(R2)
        A[self.r], C[self.r] = c * (n0 + 0.5), c
        self.ops = ToeplitzHankel(L, [(A[:L], None, A[2 : 2 * L + 1], -1.0),  # S_a: t = h = a
                                      (C[:L], -C[:L], C[2 : 2 * L + 1], 1.0)])  # S_c: t(+-d) = +-c_d, h = c
        self._A, self._C = A, C
        # beyond the cutoff g = -1/2: Toeplitz terms with i + r > L (suffix sums from lag L - i + 1) and
        # Hankel (fold) terms with r - i > L (from lag L + i + 1)
        i = np.arange(1, L + 1)
        sa, sc = np.cumsum(A[::-1])[::-1], np.cumsum(C[::-1])[::-1]  # sum over lags >= d
        tail = lambda s, d: np.where(d < s.size, s[np.minimum(d, s.size - 1)], 0.0)  # noqa: E731
        self.pad_a = -0.5 * tail(sa, L - i + 1) + 0.5 * tail(sa, L + i + 1)
        self.pad_c = -0.5 * tail(sc, L - i + 1) - 0.5 * tail(sc, L + i + 1)
        self._state = None  # (f, S_c[g] + pad_c) of the last collisions(f)

    @property
    def matvecs(self):
        return self.ops.matvecs

    def _sc(self, f, g=None):
        if self._state is not None and np.array_equal(f, self._state[0]):
            return self._state[1]
        g = f - 0.5 if g is None else g
        sc = self.ops.apply(g, which=(1,))[0] + self.pad_c
        self._state = (f.copy(), sc)
        return sc

    def collisions(self, f):
        """I_ep/pi at E_i = i eps (Eq. (2), rescaled time)."""
        f = np.asarray(f, dtype=float)
        g = f - 0.5
        sa, sc = self.ops.apply(g)
        sc = sc + self.pad_c
        self._state = (f.copy(), sc)
        return sa + self.pad_a - g * sc - self.D0 * g

    def jvp(self, f, v):
        """(d(I_ep/pi)/df) v, exact."""
        f = np.asarray(f, dtype=float)
        sc = self._sc(f)
        dva, dvc = self.ops.apply(np.asarray(v, dtype=float))
        return dva - v * sc - (f - 0.5) * dvc - self.D0 * v

    def jacobian_diagonal(self, f):
        """diag(d(I_ep/pi)/df): the Hankel diagonals h(2i) of S_a and S_c, and the local terms."""
        f = np.asarray(f, dtype=float)
        i2 = 2 * np.arange(1, self.L + 1)
        a2 = np.where(i2 < self._A.size, self._A[np.minimum(i2, self._A.size - 1)], 0.0)
        c2 = np.where(i2 < self._C.size, self._C[np.minimum(i2, self._C.size - 1)], 0.0)
        return -a2 - self._sc(f) - (f - 0.5) * c2 - self.D0
