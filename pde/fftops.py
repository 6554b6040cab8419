"""Toeplitz-plus-Hankel products by FFT: the one product primitive of the folded grid.

Every operator of the folded grid E_i = i eps, i = 1..L, whose entries depend on E_i - E_j
and E_i + E_j only -- the kernel K of Sigma and A (docs/theory.md (T8)), the bonds of M^ep
((T6)), the shifts E +- omega_k of the collision integral I_ep and of its Jacobian ((T5)) -- is
a sum (docs/theory.md (T4))

    y_i = sum_j t(j - i) x_j + sigma sum_j h(i + j) x_j,      i, j = 1..L,

a Toeplitz part (lag d = j - i; ``t_fwd[d] = t(d)``, ``t_bwd[d] = t(-d)``, d = 0..L-1) and a Hankel
part (``h[s - 2] = h(s)``, s = 2..2L).  The fold of the grid (phi(-E) = -phi(E), f(-E) = 1 - f(E))
is what makes the Hankel part: a shift E_i - omega to a negative energy lands on -E_{r-i}.

With X the real FFT of x zero-padded to n = next_fast_len(2L - 1), the Toeplitz part is the
circular convolution with the sequence col[k] = t(-k) (k mod n), whose transform is T^, and the
Hankel part the circular correlation of h with x, whose transform is H^ conj(X); neither wraps
for n >= 2L - 1, and both land on the output indices 0..L-1:

    y = irfft(T^ X + sigma H^ conj(X))[:L].

A :class:`ToeplitzHankel` holds several such kernels over one grid: applying all of them to one
input costs one forward transform and one inverse transform per kernel.  The transforms are
computed once; one product costs O(L log L) time and O(L) memory whatever the number of grid
phonon frequencies (the supports of t and h).
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft

from .errors import InputError

__all__ = ["ToeplitzHankel", "fft_length", "lag_correlate"]


def fft_length(L):
    """The real-FFT length of an L-point Toeplitz/Hankel product: next_fast_len(2L - 1)."""
    return sfft.next_fast_len(max(2 * int(L) - 1, 1), real=True)


class ToeplitzHankel:
    """Kernels y_k = T_k x + sigma_k H_k x on L points (module docstring), applied by FFT.

    ``kernels``: a list of (t_fwd, t_bwd, h, sigma): t_fwd[d] = t(d), t_bwd[d] = t(-d) for d = 0..L-1
    (``t_bwd`` None for an even t), h[s - 2] = h(s) for s = 2..2L (None: no Hankel part), sigma = +-1.
    ``matvecs`` counts products (one per kernel and vector); ``_count`` is shared with
    :meth:`scaled` copies.
    """

    def __init__(self, L, kernels):
        L = int(L)
        if L < 1:
            raise InputError(f"L must be >= 1 (got {L})", "L")
        self.L = L
        self.n = n = fft_length(L)
        tf, hf, sig = [], [], []
        for t_fwd, t_bwd, h, sigma in kernels:
            t_fwd = np.asarray(t_fwd, dtype=float)
            col = np.zeros(n)
            col[:L] = t_fwd if t_bwd is None else t_bwd  # col[k] = t(-k), k = 0..L-1
            col[n - L + 1:] = t_fwd[:0:-1]  # col[n - d] = t(d), d = 1..L-1
            spec = sfft.rfft(col)
            # an even t has a real transform up to rounding: keep it real (half the memory; a complex times
            # a real number is the same bits as times that number + 0i)
            tf.append(spec.real.copy() if t_bwd is None else spec)
            if h is None:
                hf.append(None)
            else:
                hpad = np.zeros(n)
                hpad[: 2 * L - 1] = h
                hf.append(sfft.rfft(hpad))
            sig.append(float(sigma))
        self._tf, self._hf, self._sigma = tf, hf, sig
        self._work = {}  # block size -> (zero-padded input, spectrum, scratch)
        self._count = [0]
        self.matvecs = 0

    @property
    def nkernels(self):
        return len(self._tf)

    @property
    def total_matvecs(self):
        return self._count[0]

    def _buffers(self, m):
        """(zero-padded input, spectrum scratch) for a block of m vectors, kept for the next product."""
        buf = self._work.get(m)
        if buf is None:
            buf = (np.zeros((m, self.n)), np.empty((m, self.n // 2 + 1), complex))
            self._work[m] = buf
        return buf

    def apply_rows(self, rows, which=None):
        """Kernels ``which`` (default all) applied to each row of ``rows`` (m x L): an array
        (len(which), m, L).  One forward FFT of the block, one inverse per kernel."""
        m, L = rows.shape
        if L != self.L:
            raise InputError(f"x must have length L = {self.L} (got {L})", "x")
        which = range(self.nkernels) if which is None else which
        xpad, tmp = self._buffers(m)
        xpad[:, :L] = rows  # the padding beyond L stays zero
        X = sfft.rfft(xpad, axis=-1)
        out = np.empty((len(which), m, L))
        last = len(which) - 1
        for q, k in enumerate(which):
            if self._hf[k] is not None:
                np.conjugate(X, out=tmp)
                np.multiply(tmp, self._hf[k], out=tmp)
            # the last kernel takes the input's spectrum in place (one buffer fewer)
            spec = X if q == last else np.empty_like(X)
            np.multiply(X, self._tf[k], out=spec)
            if self._hf[k] is not None:
                if self._sigma[k] > 0:
                    np.add(spec, tmp, out=spec)
                else:
                    np.subtract(spec, tmp, out=spec)
            out[q] = sfft.irfft(spec, self.n, axis=-1, overwrite_x=True)[:, :L]
        self.matvecs += m * len(which)
        self._count[0] += m * len(which)
        return out

    def apply(self, x, which=None):
        """The kernels applied to a vector x (L,): array (len(which), L)."""
        return self.apply_rows(np.asarray(x, dtype=float)[None, :], which)[:, 0, :]


def lag_correlate(kernel, x, R):
    """y_i = sum_{s=-R..R} kernel[s + R] x[i + s + R] for i = 0..len(x) - 2R - 1 (a 'valid' correlation):
    the shifts E -> E + s eps of a vector known on R extra points at each end, by one real FFT
    product.  Used once per problem for sums over grid phonon frequencies (Z0^-1, M^ep's diagonal,
    the Sigma tail, the kernel generators)."""
    kernel = np.asarray(kernel, dtype=float)
    x = np.asarray(x, dtype=float)
    if kernel.size != 2 * R + 1:
        raise InputError(f"kernel must have 2R + 1 = {2 * R + 1} lags (got {kernel.size})", "kernel")
    m = x.size - 2 * R
    if m < 1:
        raise InputError(f"x must have more than 2R = {2 * R} points (got {x.size})", "x")
    n = sfft.next_fast_len(x.size + 2 * R, real=True)
    # correlation = convolution with the reversed kernel; the valid part starts at index 2R
    y = sfft.irfft(sfft.rfft(x, n) * sfft.rfft(kernel[::-1], n), n)
    return y[2 * R : 2 * R + m]
