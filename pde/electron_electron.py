"""Electron-electron collisions, seed 000 Eqs. (15), (S22)-(S25).

I_ee(E) = -(1/pi) int d omega int dE' P(omega) R,  R = f_E f_{E'-w} (1 - f_{E-w})(1 - f_E')
                                                     - f_{E-w} f_E' (1 - f_E)(1 - f_{E'-w}),
with an even transition probability P(omega) (time rescaled pi t -> t).  On the
uniform grid E_n = n eps (n = -L..L), omega = m eps: a collision takes the pair
(a, b) = (n, n' - m) to (c, d) = (n - m, n') with a + b = c + d, and all four
energies are kept inside the grid.

**O(L log L).** With g = 1 - f the E'-integral of (S23) is a correlation,
X_m = sum_j f_j g_{j-m} (and Y_m = X_{-m}), and the omega-integral a convolution:
    I_ee(E_a) = -(eps^2/pi) [ f_a (PY * g)_a - g_a (PX * f)_a ],
    (h * u)_a = sum_m h_m u_{a-m}.
Both are evaluated by zero-padded real FFTs of length >= 2N - 1 (N = 2L + 1),
which is exactly the linear (non-circular) sum with every index on the grid:
the same discrete sum as the double loop :func:`collision_ee_reference`, with
no aliasing.  The action of dI_ee/df on a vector (:class:`EEJacobian`) uses the
same transforms (5 FFTs per product).

**Conservation on the grid** (the discrete sum keeps the symmetries of (S23)):
* particle number: sum_a I_a = -(eps^2/pi) sum_m P_m (X_m Y_m - Y_m X_m) = 0 for
  each m separately;
* energy (S24): the relabelling (a, b, c, d) -> (d, c, b, a) maps m -> -m, so
  sum_a a I_a = 0 needs P_m = P_{-m} exactly -- the weights are built from
  |m| only (:meth:`TransitionProbability.weights`);
* I_ee[f0(T)] = 0 for every T: f0 obeys detailed balance
  f_a f_b g_c g_d = g_a g_b f_c f_d whenever E_a + E_b = E_c + E_d, which holds
  on the grid for every quadruple of the sum.
All three hold to round-off (tests/test_electron_electron.py).

**Linearisation (S25).** With delta f = -f0' phi = f0(1 - f0) phi/T,
delta R = W (phi_a + phi_b - phi_c - phi_d)/T, W = f0_a f0_b (1 - f0_c)(1 - f0_d), so
M^ee (delta I_ee = -M^ee phi, the sign convention of M^ep in ``pde.linearized``:
M = -d(I/pi)/d phi) satisfies
<phi, M^ee phi> = eps^2/(4 pi T) sum P W (phi_a + phi_b - phi_c - phi_d)^2 >= 0:
symmetric positive semidefinite, with the conserved quantities (particle
number: phi = const, energy: phi = E) in its null space.  On the folded grid
(phi odd) the energy mode phi = E remains a null mode: I_ee conserves energy (S24).
Matrix-free: M^ee phi = J(f0) (f0' phi), J = dI_ee/df by FFT
(:class:`MeeOperator`); the dense assembly :func:`m_ee_folded` (O(L^2 m_max))
is the small-L reference and is refused above ``DENSE_MAX``.

**Transition probabilities** (even in omega, seed 000 below Eq. (S23)):
:func:`gaussian_p`, :func:`constant_p` (a constant up to a cutoff) and
:func:`power_law_p`, P = A |omega|^(d/2 - 2) of weakly disordered conductors
(d = 1, 2, 3).  The power law is integrable against R only because R vanishes
at omega = 0 and the part of int dE' R odd in omega drops out by the evenness of
P (the even part is O(omega^2)).  Grid regularisation: the weight of the
frequency cell m != 0 is the cell average
    P_m = (1/eps) int_{(|m| - 1/2) eps}^{(|m| + 1/2) eps} A w^(d/2 - 2) dw
(finite for every d), and the cell m = 0 gets no weight, since R^{omega=0} = 0
identically.  I_ee then converges as eps -> 0 (test: observed order >= 1 for
d = 1, 2, 3).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft as sfft

from .eliashberg import fermi, fermi_prime
from .errors import InputError, require_nonnegative, require_positive
from .syntax import P_EE_HELP

__all__ = [
    "make_p_ee",
    "TransitionProbability", "gaussian_p", "constant_p", "power_law_p", "as_transition_probability",
    "EECollisions", "EEJacobian", "MeeOperator", "collision_ee", "collision_ee_reference",
    "m_ee_full", "m_ee_folded", "DENSE_MAX",
]

DENSE_MAX = 3000  # the dense O(L^2 m_max) M^ee reference is refused above this many folded points


# --------------------------------------------------------------------------- P(omega)
class TransitionProbability:
    """An even transition probability P(omega) of Eq. (S22) and its weights on a grid.

    ``func(omega)`` is P at frequencies omega; ``cell(eps, m)`` (optional) the grid weight
    of frequency cell m >= 1 (default: P(m eps)).  The weight of m = 0 is irrelevant
    (R^{omega=0} = 0) and set to 0.
    """

    def __init__(self, name, func, cell=None, params=None):
        self.name = name
        self.func = func
        self.cell = cell
        self.params = dict(params or {})

    def __call__(self, omega):
        return self.func(np.asarray(omega, dtype=float))

    def weights(self, eps, n):
        """P_m for m = 0..n on the grid of step eps (P_{-m} = P_m by construction; P_0 = 0)."""
        m = np.arange(0, n + 1, dtype=float)
        w = np.zeros(n + 1)
        if n >= 1:
            w[1:] = self.cell(eps, m[1:]) if self.cell is not None else self.func(m[1:] * eps)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InputError(f"P(omega) ({self.name}) must be finite and >= 0 on the grid", "p_ee")
        return w

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def as_transition_probability(P):
    """A :class:`TransitionProbability` from P (returned as is) or from a plain even callable P(omega)."""
    if isinstance(P, TransitionProbability):
        return P
    if not callable(P):
        raise InputError("p_ee must be a transition probability P(omega) (e.g. gaussian_p(width))", "p_ee")
    probe = np.linspace(0.05, 5.0, 37)
    a, b = np.asarray(P(probe), dtype=float), np.asarray(P(-probe), dtype=float)
    if np.any(np.abs(a - b) > 1e-14 * max(np.max(np.abs(a)), 1e-300)):
        raise InputError("P(omega) must be even in omega (seed 000 below Eq. (S23))", "p_ee")
    return TransitionProbability("callable", lambda w: np.asarray(P(w), dtype=float))


def gaussian_p(width, amplitude=1.0):
    """P(omega) = amplitude exp(-omega^2 / (2 width^2)); grid weights P(m eps)."""
    width = require_positive("width", width, "give the width of the Gaussian P(omega)")
    amplitude = require_nonnegative("amplitude", amplitude)
    return TransitionProbability("gaussian_p", lambda w: amplitude * np.exp(-0.5 * (w / width) ** 2),
                                 params={"width": width, "amplitude": amplitude})


def constant_p(cutoff, amplitude=1.0):
    """P(omega) = amplitude for |omega| <= cutoff, 0 beyond; grid weights P(m eps)."""
    cutoff = require_positive("cutoff", cutoff, "give the largest energy transfer of the constant P(omega)")
    amplitude = require_nonnegative("amplitude", amplitude)
    return TransitionProbability("constant_p",
                                 lambda w: np.where(np.abs(w) <= cutoff * (1 + 1e-12), amplitude, 0.0),
                                 params={"cutoff": cutoff, "amplitude": amplitude})


def power_law_p(d, amplitude=1.0, cutoff=None):
    """P(omega) = amplitude |omega|^(d/2 - 2), weakly disordered conductors of dimension d = 1, 2, 3.

    Optional ``cutoff``: P = 0 for |omega| > cutoff.  Grid regularisation at omega -> 0
    (module docstring): cell averages P_m = (1/eps) int_{(m-1/2)eps}^{(m+1/2)eps} P for
    m >= 1 (exact antiderivative; a logarithm for d = 2), no weight at m = 0.  A cell
    cut by ``cutoff`` is averaged over its part below the cutoff.
    """
    if d not in (1, 2, 3):
        raise InputError(f"d must be 1, 2 or 3 (got {d!r}): P ~ |omega|^(d/2 - 2) of a d-dimensional conductor", "d")
    amplitude = require_nonnegative("amplitude", amplitude)
    if cutoff is not None:
        cutoff = require_positive("cutoff", cutoff, "or leave it out (no cutoff)")
    alpha = d / 2.0 - 2.0

    def prim(x):  # int_0^x w^alpha dw up to a constant (x > 0)
        return np.log(x) if d == 2 else x ** (alpha + 1.0) / (alpha + 1.0)

    def func(w):
        a = np.abs(w)
        with np.errstate(divide="ignore"):
            p = amplitude * np.where(a > 0, a, np.inf) ** alpha
        if cutoff is not None:
            p = np.where(a <= cutoff, p, 0.0)
        return p

    def cell(eps, m):
        lo, hi = (m - 0.5) * eps, (m + 0.5) * eps
        if cutoff is not None:
            hi = np.minimum(hi, cutoff)
        out = np.where(hi > lo, amplitude * (prim(np.maximum(hi, lo)) - prim(lo)) / eps, 0.0)
        return out

    return TransitionProbability("power_law_p", func, cell, params={"d": d, "amplitude": amplitude, "cutoff": cutoff})


# --------------------------------------------------------------------------- I_ee by FFT


def make_p_ee(spec):
    """The transition probability P(omega) of Eq. (S22) from a spec string (``P_EE_HELP``):
    ``gaussian:0.3`` (:func:`gaussian_p`), ``constant:1.0`` (:func:`constant_p`), ``power:2`` or
    ``power:3:1.5`` (:func:`power_law_p`, d and an optional cutoff), all of unit amplitude."""
    kind, _, rest = str(spec).partition(":")
    try:
        vals = [float(v) for v in rest.split(":")] if rest else []
    except ValueError:
        vals = None
    shapes = {"gaussian": (gaussian_p, 1, 1), "constant": (constant_p, 1, 1), "power": (power_law_p, 1, 2)}
    if kind not in shapes or vals is None or not shapes[kind][1] <= len(vals) <= shapes[kind][2]:
        raise InputError(f"p_ee {spec!r} is not a transition probability; use {P_EE_HELP}", "p_ee")
    if kind == "power":
        if vals[0] not in (1.0, 2.0, 3.0):
            raise InputError(f"p_ee {spec!r}: the dimension D of power:D must be 1, 2 or 3", "p_ee")
        return power_law_p(int(vals[0]), cutoff=vals[1] if len(vals) == 2 else None)
    return shapes[kind][0](vals[0])


class EECollisions:
    """I_ee of Eq. (S22)-(S23) on the full grid E_n = n eps, n = -L..L, in O(L log L).

    ``full(f)`` takes f on all 2L + 1 points; ``folded(f)`` takes f on the folded
    grid E_i = i eps, i = 1..L (seed 000 (S28): f(0) = 1/2, f(-E) = 1 - f(E)) and
    returns I_ee there (I_ee is odd about E = 0 for such f, by particle-hole symmetry
    of (S23) and the evenness of P).  ``m_max`` (optional) truncates P to |m| <= m_max.
    """

    def __init__(self, L, eps, P, m_max=None, nfft=None):
        self.L = int(L)
        if self.L < 1:
            raise InputError(f"L must be >= 1 (got {L})", "L")
        self.eps = require_positive("grid_step", eps)
        self.P = as_transition_probability(P)
        N = 2 * self.L + 1
        self.N = N
        # FFT length: >= 2N - 1 makes the circular sums the linear ones (no aliasing); ``nfft``
        # overrides it (shorter lengths alias -- only for tests that show the conservation laws fail)
        self.S = sfft.next_fast_len(2 * N - 1, real=True) if nfft is None else int(nfft)
        n = N - 1 if m_max is None else min(int(m_max), N - 1)
        w = self.P.weights(self.eps, n)
        pc = np.zeros(self.S)  # P_m at lag m mod S; zero where no pair of grid points has lag m
        m = np.arange(1, n + 1)
        np.add.at(pc, m % self.S, w[1:])
        np.add.at(pc, (-m) % self.S, w[1:])
        self.pc = pc
        self.c = self.eps * self.eps / math.pi
        self._ones = sfft.rfft(np.ones(N), self.S)  # FFT of the grid's indicator (g = 1 - f on the grid)

    # -- folding
    def unfold(self, f):
        """f on n = -L..L from the folded f_i, i = 1..L: [1 - f reversed, 1/2, f]."""
        f = np.asarray(f, dtype=float)
        return np.concatenate([1.0 - f[::-1], [0.5], f])

    @staticmethod
    def unfold_odd(v):
        """An odd perturbation on n = -L..L from its folded values: [-v reversed, 0, v]."""
        v = np.asarray(v, dtype=float)
        return np.concatenate([-v[::-1], [0.0], v])

    # -- transforms
    def _r(self, u):
        return sfft.rfft(u, self.S)

    def _ir(self, U):
        return sfft.irfft(U, self.S)

    def _state(self, f):
        """FFTs of f, g and of P X (the pieces shared by I_ee and its Jacobian)."""
        F = self._r(f)
        G = self._ones - F
        X = self._ir(F * np.conj(G))  # X_m = sum_j f_j g_{j-m} at lag m mod S
        PXh = self._r(self.pc * X)  # rfft(P Y) = conj(rfft(P X)): Y_m = X_{-m}, P even
        return F, G, PXh

    def full(self, f):
        """I_ee(E_n), n = -L..L, for f on the full grid (Eq. (S22))."""
        f = np.asarray(f, dtype=float)
        if f.shape != (self.N,):
            raise InputError(f"f must have the 2L + 1 = {self.N} values of the full grid (got {f.shape})", "f")
        F, G, PXh = self._state(f)
        C1 = self._ir(np.conj(PXh) * G)[: self.N]  # (PY * g)_a
        C2 = self._ir(PXh * F)[: self.N]  # (PX * f)_a
        return -self.c * (f * C1 - (1.0 - f) * C2)

    def folded(self, f):
        """I_ee(E_i), i = 1..L, for f on the folded grid (f(0) = 1/2, f(-E) = 1 - f(E))."""
        return self.full(self.unfold(f))[self.L + 1:]

    def rate(self, f):
        """The out-scattering rate -(dI_a/df_a at fixed X, Y) = (eps^2/pi)[(PY * g)_a + (PX * f)_a] >= 0 (full grid)."""
        F, G, PXh = self._state(np.asarray(f, dtype=float))
        return self.c * (self._ir(np.conj(PXh) * G)[: self.N] + self._ir(PXh * F)[: self.N])

    def jacobian(self, f):
        """:class:`EEJacobian`: the exact action of dI_ee/df at f (full grid) by FFT."""
        return EEJacobian(self, np.asarray(f, dtype=float))


class EEJacobian:
    """v -> (dI_ee/df)(f) v on the full grid, exact, 5 FFTs of length ~2N per product.

    delta X = (v corr g) - (f corr v), and
    delta I_a = -(eps^2/pi)[ v_a (C1 + C2)_a + f_a (P dY * g - PY * v)_a - g_a (P dX * f + PX * v)_a ],
    C1 = PY * g, C2 = PX * f.  ``diagonal()`` is its leading diagonal -(C1 + C2) eps^2/pi
    (the out-scattering rate); the neglected diagonal terms are O(eps/T) relative
    (single grid points of the E' and omega sums).
    """

    def __init__(self, coll: EECollisions, f):
        self.coll = coll
        self.f = f
        self.F, self.G, self.PXh = coll._state(f)
        N = coll.N
        self.C = coll._ir(np.conj(self.PXh) * self.G)[:N] + coll._ir(self.PXh * self.F)[:N]
        self.g = 1.0 - f

    def matvec(self, v):
        c = self.coll
        v = np.asarray(v, dtype=float)
        V = c._r(v)
        dX = c._ir(V * np.conj(self.G) - self.F * np.conj(V))
        Dh = c._r(c.pc * dX)
        N = c.N
        t1 = c._ir(np.conj(Dh) * self.G - np.conj(self.PXh) * V)[:N]
        t2 = c._ir(Dh * self.F + self.PXh * V)[:N]
        return -c.c * (v * self.C + self.f * t1 - self.g * t2)

    def diagonal(self):
        return -self.coll.c * self.C

    def folded_matvec(self, v):
        """(dI_i/df_j) v on the folded grid (f(-E) = 1 - f(E) couples f_j and f_{-j})."""
        L = self.coll.L
        return self.matvec(EECollisions.unfold_odd(v))[L + 1:]

    def folded_diagonal(self):
        return self.diagonal()[self.coll.L + 1:]


class MeeOperator:
    """M^ee of Eq. (S25) on the folded grid E_i = i eps, i = 1..L, applied matrix-free.

    M^ee phi = -d I_ee/d phi = J(f0) (f0' phi), J = dI_ee/df at f0(T) (:class:`EEJacobian`),
    with phi odd (phi(-E) = -phi(E)).  Symmetric positive semidefinite, same sign
    convention as M^ep (``pde.linearized``); equal to :func:`m_ee_folded` to round-off.
    ``diagonal()``: the leading diagonal (f0'_i x the out-scattering rate), exact up to
    O(eps/T) relative -- for preconditioners.
    """

    def __init__(self, grid, T, P, m_max=None):
        self.T = require_positive("T0", T)
        self.L = grid.L
        self.coll = EECollisions(grid.L, grid.eps, P, m_max)
        E = grid.eps * np.arange(-grid.L, grid.L + 1)

        self.fp_full = fermi_prime(E, self.T)
        self.jac = self.coll.jacobian(fermi(E, self.T))
        self.shape = (grid.L, grid.L)

    def matvec(self, phi):
        phi = np.asarray(phi, dtype=float)
        if phi.ndim == 2:
            return np.column_stack([self.matvec(c) for c in phi.T])
        return self.jac.matvec(self.fp_full * EECollisions.unfold_odd(phi))[self.L + 1:]

    def diagonal(self):
        return (self.jac.diagonal() * self.fp_full)[self.L + 1:]

    def as_linear_operator(self):
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=self.matvec, dtype=float)


def collision_ee(f, eps, P, m_max=None):
    """I_ee(E_n) of Eq. (S22) on the full grid n = -L..L (f has 2L + 1 values), O(L log L) by FFT."""
    f = np.asarray(f, dtype=float)
    if f.size % 2 != 1:
        raise InputError("f must be given on the full symmetric grid n = -L..L (an odd number of points)", "f")
    return EECollisions((f.size - 1) // 2, eps, P, m_max).full(f)


# --------------------------------------------------------------------------- small-L references
def _p_weights(P, eps, cutoff_m):
    """The same grid weights as the FFT path, as (m, P_m) for m = -cutoff_m..cutoff_m."""
    w = as_transition_probability(P).weights(eps, int(cutoff_m))
    return np.arange(-cutoff_m, cutoff_m + 1), np.concatenate([w[::-1], w[1:]])


def collision_ee_reference(f, eps, P, m_max):
    """I_ee(E_n) of Eq. (S22) on the full grid n = -L..L: the loop over omega (O(N m_max)), reference only.

    All four energies of a collision are kept inside the grid, so the discrete
    sum keeps the relabelling symmetries of (S23) exactly: particle number and
    energy (S24) are conserved to round-off and I_ee vanishes on any Fermi
    function sampled on the grid.
    """
    f = np.asarray(f, dtype=float)
    N = f.size
    ms, ps = _p_weights(P, eps, m_max)
    out = np.zeros(N)
    for m, p in zip(ms, ps):
        if p == 0.0 or m == 0 or abs(m) >= N:
            continue
        lo, hi = max(0, m), min(N, N + m)  # indices j with j and j - m both on the grid
        a = np.arange(lo, hi)
        fa, fc = f[a], f[a - m]  # f_E, f_{E-w}
        fd, fb = f[lo:hi], f[lo - m : hi - m]  # f_E', f_{E'-w}
        s1 = np.sum(fb * (1 - fd))
        s2 = np.sum(fd * (1 - fb))
        out[a] += -(eps * eps / math.pi) * p * (fa * (1 - fc) * s1 - fc * (1 - fa) * s2)
    return out


def m_ee_full(E, T, P, m_max):
    """M^ee on the full grid E (uniform, symmetric around 0), dense: (eps^2/(pi T)) sum_m P_m ...

    Row a: sum_{b} W_{ab}^m (phi_a + phi_b - phi_{a-m} - phi_{b+m}), W = f_a f_b (1-f_{a-m})(1-f_{b+m}).
    """
    E = np.asarray(E, dtype=float)
    N = E.size
    if N > 2 * DENSE_MAX + 1:
        raise InputError(f"the dense M^ee is a small-grid reference (N <= {2 * DENSE_MAX + 1}, got {N}); "
                         "use MeeOperator (matrix-free)", "L")
    eps = E[1] - E[0]
    f = fermi(E, T)
    ms, ps = _p_weights(P, eps, m_max)
    M = np.zeros((N, N))
    idx = np.arange(N)
    for m, p in zip(ms, ps):
        if p == 0.0 or m == 0:
            continue
        a = idx[(idx - m >= 0) & (idx - m < N)]
        b = idx[(idx + m >= 0) & (idx + m < N)]
        W = (f[a] * (1 - f[a - m]))[:, None] * (f[b] * (1 - f[b + m]))[None, :] * p
        ws = W.sum(axis=1)
        M[a, a] += ws
        M[np.ix_(a, b)] += W
        M[a, a - m] -= ws
        M[np.ix_(a, b + m)] -= W
    return M * (eps * eps / (math.pi * T))


def m_ee_folded(grid, T, P, m_max=None, block=256):
    """M^ee on the folded grid E_i = i eps, i = 1..L (phi odd, phi(0) = 0), symmetric PSD: dense reference.

    The same sum as :func:`m_ee_full` folded (rows n = 1..L, columns n minus columns -n), assembled by BLAS:
    for each lag m the weights W_ab = P_m u_a v_b (u_a = f_a (1 - f_{a-m}), v_b = f_b (1 - f_{b+m})) are an
    outer product, so the b-sums of ``m_ee_full`` are one matrix product U diag(P) (V - V shifted by m)^T over
    all lags at once, plus the diagonal and the m-th off-diagonal, which carry sum_b W_ab.  O(L^2 m_max) flops
    in dense BLAS (L = 800: 0.3 s; the loop of ``m_ee_full`` over 2L lags took 95 s), O(L block) memory besides
    the L x L result.  Refused above L = DENSE_MAX (O(L^2) memory): use :class:`MeeOperator`.
    """
    L, eps = grid.L, grid.eps
    if L > DENSE_MAX:
        raise InputError(f"the dense M^ee is a small-grid reference (L <= {DENSE_MAX}, got L = {L}); "
                         "use MeeOperator (matrix-free)", "L")
    if m_max is None:
        m_max = 2 * L  # every lag of the full grid, as the FFT path
    N = 2 * L + 1
    f = fermi(eps * np.arange(-L, L + 1), T)
    ms, ps = _p_weights(P, eps, min(m_max, 2 * L))
    keep = (ps != 0.0) & (ms != 0)
    ms, ps = ms[keep], ps[keep]
    pos = np.arange(L + 1, N)  # full-grid rows/columns of n = 1..L; n = -j sits at column L - j
    M = np.zeros((L, L))

    def on_grid(x, y):
        return np.where((y >= 0) & (y < N), f[x] * (1.0 - f[np.clip(y, 0, N - 1)]), 0.0)

    for k in range(0, ms.size, block):
        m, p = ms[k : k + block][None, :], ps[k : k + block]
        c = np.arange(N)[:, None]
        v = on_grid(c, c + m)  # v_b at every full-grid b (N x lags), 0 where b + m leaves the grid
        vs = np.where((c - m >= 0) & (c - m < N), on_grid(np.clip(c - m, 0, N - 1), c), 0.0)  # v_{c-m}
        w = v - vs  # column c of row a: + W_ac - W_a,c-m
        u = on_grid(pos[:, None], pos[:, None] - m)  # u_a on the rows n = 1..L
        M += (u * p) @ (w[pos] - w[L - 1 :: -1][: L]).T  # columns n minus columns -n (phi odd)
        ws = u * (p * v.sum(axis=0))  # sum_b W_ab
        M[np.arange(L), np.arange(L)] += ws.sum(axis=1)
        # -sum_b W_ab at column a - m: n = a - m > 0 keeps its sign, n < 0 folds with phi(-E) = -phi(E), n = 0
        # drops out (phi(0) = 0)
        n = (pos[:, None] - L) - m
        rows = np.broadcast_to(np.arange(L)[:, None], n.shape)
        sel = (n != 0) & (np.abs(n) <= L)  # u_a = 0 where a - m leaves the grid
        np.add.at(M, (rows[sel], np.abs(n[sel]) - 1), np.where(n > 0, -ws, ws)[sel])
    return M * (eps * eps / (math.pi * T))
