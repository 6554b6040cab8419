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

Shared by P processes (:meth:`ToeplitzHankel.distribute`, the rows split in P contiguous blocks, as
PETSc lays out a Vec): every block (r, s) of a Toeplitz matrix is Toeplitz -- rows r0 + a, columns
c0 + c, lag (c0 - r0) + (c - a) -- and every block of a Hankel matrix is Hankel (sum r0 + c0 + a + c),
so the formula above holds block by block with a transform of length m = next_fast_len(2b - 1) for
blocks of at most b rows.  Process r transforms its own input block x_s (s = r) once, the P spectra
X_s are exchanged, and it forms its output block

    y_r = irfft(sum_s T^_rs X_s + sigma H^_rs conj(X_s))[:b_r]

(the sum of circular convolutions of one length is one inverse transform).  Per process: one forward
and one inverse transform of length ~2L/P instead of ~2L; the exchanges are the caller's (``pde``
knows nothing of MPI: it is given a function that concatenates every process's array).
"""

from __future__ import annotations

import copy

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
        self._kernels = [(np.asarray(t_fwd, dtype=float), None if t_bwd is None else np.asarray(t_bwd, dtype=float),
                          None if h is None else np.asarray(h, dtype=float), float(sigma))
                         for t_fwd, t_bwd, h, sigma in kernels]
        self._tf, self._hf = [], []
        for kernel in self._kernels:
            tf, hf = _block_spectra(kernel, n, 0, L, 0, L)
            self._tf.append(tf)
            self._hf.append(hf)
        self._sigma = [k[3] for k in self._kernels]
        self._work = {}  # block size -> (zero-padded input, spectrum, scratch)
        self._count = [0]
        self.matvecs = 0
        self._shared = None  # (bounds, rank, concat, m, block spectra) while distribute()d

    def _scaled_copy(self, kappa):
        """kappa times these kernels, sharing the work arrays and the product count (the transforms are scaled,
        not recomputed; a distributed copy must be distributed again)."""
        new = copy.copy(self)
        new._kernels = [(kappa * t, None if b is None else kappa * b, None if h is None else kappa * h, sg)
                        for t, b, h, sg in self._kernels]
        new._tf = [kappa * tf for tf in self._tf]
        new._hf = [None if hf is None else kappa * hf for hf in self._hf]
        new._shared = None
        new.matvecs = 0
        return new

    def distribute(self, bounds, rank, concat):
        """Share every later product among P = len(bounds) - 1 processes (module docstring): this one owns
        rows bounds[rank]..bounds[rank + 1] - 1.  ``concat(a, sizes)`` must return, on every process, the
        concatenation along the last axis of every process's ``a`` (process s gives ``sizes[s]`` entries
        there), in process order (an MPI allgather).  Every process must then call the same products in the
        same order; inputs and outputs stay whole vectors.  ``distribute(None, 0, None)`` undoes it."""
        if bounds is None:
            self._shared = None
            return
        bounds = [int(b) for b in bounds]
        if bounds[0] != 0 or bounds[-1] != self.L or any(b1 < b0 for b0, b1 in zip(bounds, bounds[1:])):
            raise InputError(f"bounds must split 0..{self.L} (got {bounds})", "bounds")
        m = sfft.next_fast_len(max(2 * max(b1 - b0 for b0, b1 in zip(bounds, bounds[1:])) - 1, 1), real=True)
        r0, nr = bounds[rank], bounds[rank + 1] - bounds[rank]
        spectra = []
        for k in self._kernels:  # sigma H^ kept with its sign: one multiply-add per block and product
            blocks = [_block_spectra(k, m, r0, nr, c0, c1 - c0) for c0, c1 in zip(bounds, bounds[1:])]
            spectra.append([(tf, None if hf is None else k[3] * hf) for tf, hf in blocks])
        self._shared = (bounds, int(rank), concat, m, spectra)

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
        if self._shared is not None:
            return self._apply_shared(rows, which)
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

    def _apply_shared(self, rows, which):
        """:meth:`apply_rows` shared among processes (:meth:`distribute`): this process's input block is
        transformed, the spectra exchanged, its output block formed, the output blocks exchanged."""
        bounds, rank, concat, m, spectra = self._shared
        P, k = len(bounds) - 1, m // 2 + 1
        lo, hi = bounds[rank], bounds[rank + 1]
        X = sfft.rfft(rows[:, lo:hi], m, axis=-1)  # zero-padded to m by rfft
        Xs = concat(X, [k] * P)  # (rows, P k): the spectra of the P input blocks side by side
        Xs = [Xs[:, s * k : (s + 1) * k] for s in range(P)]
        out = np.empty((len(which), rows.shape[0], hi - lo))
        conj = [np.conjugate(x) for x in Xs] if any(hf is not None for b in spectra for _, hf in b) else None
        tmp = np.empty_like(X)
        for q, kern in enumerate(which):
            spec = np.zeros_like(X)
            for s, (tf, hf) in enumerate(spectra[kern]):
                spec += np.multiply(tf, Xs[s], out=tmp)
                if hf is not None:
                    spec += np.multiply(hf, conj[s], out=tmp)
            out[q] = sfft.irfft(spec, m, axis=-1, overwrite_x=True)[:, : hi - lo]
        n = rows.shape[0] * len(which)
        self.matvecs += n
        self._count[0] += n
        return concat(out, [b1 - b0 for b0, b1 in zip(bounds, bounds[1:])])

    def apply(self, x, which=None):
        """The kernels applied to a vector x (L,): array (len(which), L)."""
        return self.apply_rows(np.asarray(x, dtype=float)[None, :], which)[:, 0, :]


def _block_spectra(kernel, n, r0, nr, c0, nc):
    """(T^, H^) of the block rows r0..r0 + nr - 1, columns c0..c0 + nc - 1 (0-based) of one kernel (t_fwd, t_bwd,
    h, sigma) (module docstring), transforms of length n >= nr + nc - 1.  The whole operator is the block
    (0, L, 0, L).  Lag of entry (a, c): delta + c - a with delta = c0 - r0; the circulant column is
    col[k] = t(delta - k), k = 0..nr - 1, and col[n - d] = t(delta + d), d = 1..nc - 1; the Hankel sequence
    h(r0 + c0 + k), k = 0..nr + nc - 2."""
    t_fwd, t_bwd, h, _ = kernel
    delta = c0 - r0

    def t(d):  # t(d) = t_fwd[d] for d >= 0, t_bwd[-d] (even t: t_fwd[-d]) for d < 0
        back = t_fwd if t_bwd is None else t_bwd
        return np.where(d >= 0, t_fwd[np.clip(d, 0, None)], back[np.clip(-d, 0, None)])

    col = np.zeros(n)
    col[:nr] = t(delta - np.arange(nr))
    d = np.arange(1, nc)
    col[n - d] = t(delta + d)
    spec = sfft.rfft(col)
    # an even t has a real transform up to rounding on a diagonal block: keep it real (half the memory; a complex
    # times a real number is the same bits as times that number + 0i)
    if t_bwd is None and delta == 0 and nr == nc:
        spec = spec.real.copy()
    if h is None:
        return spec, None
    hpad = np.zeros(n)
    k = max(nr + nc - 1, 0)  # an empty block (more processes than rows) has no Hankel sums
    hpad[:k] = h[r0 + c0 : r0 + c0 + k]
    return spec, sfft.rfft(hpad)


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
