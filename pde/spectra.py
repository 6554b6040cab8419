"""Eliashberg spectral functions alpha^2F(omega) and their moments.

A spectrum is a sum of delta peaks (seed 000 Eq. (3): alpha^2F = sum_k
lambda_k omega_k/2 delta(omega - omega_k)) plus an optional continuous density
on a support with breakpoints.  Every integral over omega in the package goes
through :meth:`Spectrum.nodes`, which returns the delta peaks together with
composite Gauss-Legendre nodes of the continuous part, so that
``alpha^2F(omega) ~= sum_k weight_k delta(omega - omega_k)``.

Units (docs/theory.md §0):

* ``"g"``: energies in units of g, g^2 = 2 int omega alpha^2F = sum_k lambda_k
  omega_k^2 (seed 000 Eq. (6)).  Changing lambda at fixed g = 1 rescales the
  frequencies: Einstein Omega = 1/sqrt(lambda); for ``modes:40-60``
  omega_k = r_k eps with eps = (lambda/21 sum r_k^2)^(-1/2).
* ``"plain"``: the spectrum's own frequency unit, frequencies fixed and
  alpha^2F scaled to the requested lambda (Einstein Omega = 1, Debye
  omega_D = 1, ``modes`` highest frequency = 1, ``peaks``/``lorentz`` as given,
  ``file`` in the file's unit, e.g. meV for EPW).

Spec strings (CLI ``--spectrum``)::

    einstein                      one mode, Omega = 1
    modes:RMIN-RMAX               equal lambda_k, omega_k proportional to r_k = RMIN..RMAX
    peaks:W1:L1[,W2:L2...]        delta peaks at W_i with partial couplings L_i
    debye[:WD]                    alpha^2F proportional to omega^2 on (0, WD]
    lorentz:C1:G1[,C2:G2...]      truncated Lorentzians (centre C, half width G,
                                  cut at |omega - C| = 3G), equal lambda each
    file:PATH[:COL]               two or more columns (omega, alpha^2F...), '#'
                                  comments; EPW's .a2f layout (header line, one
                                  column per smearing, trailing summary block);
                                  any other unreadable line is an error naming
                                  it; COL is the 1-based alpha^2F column (default 2)
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from .errors import MAGNITUDE, InputError, require_positive
from .phonons import moments as phonon_moments
from .syntax import ALPHA2F_HELP
from .textfile import read_lines

__all__ = ["Spectrum", "parse_spectrum", "make_spectrum", "read_a2f_file", "ALPHA2F_HELP"]


_GL_ORDER = 8  # Gauss-Legendre nodes per panel of the continuous part
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)
# A table's nodes integrate alpha^2F exactly against the interpolant of the kernel (product integration,
# _TableDensity.panel_weights), whose error is that of interpolation, rho^-n for a kernel analytic in the
# Bernstein ellipse rho, not Gauss-Legendre's rho^-2n: twice the nodes per panel keep the analytic
# densities' accuracy (panels pi T/2 wide, poles pi T away: rho ~ 8, 8^-16 ~ 3e-15).
_TABLE_ORDER = 2 * _GL_ORDER
_TABLE_X, _TABLE_W = np.polynomial.legendre.leggauss(_TABLE_ORDER)
# P_j of a parent panel's coordinate t = (s -+ 1)/2 on its left/right half, as Legendre series in the half's s
# (projected with the 16-point rule, exact for the degree-30 products): the parent's moments are
# _HALVES[0] @ left's + _HALVES[1] @ right's
_HALVES = tuple(
    np.polynomial.legendre.legvander(0.5 * (_TABLE_X + side), _TABLE_ORDER - 1).T
    @ (np.polynomial.legendre.legvander(_TABLE_X, _TABLE_ORDER - 1) * _TABLE_W[:, None])
    * (np.arange(_TABLE_ORDER) + 0.5)[None, :]
    for side in (-1.0, 1.0)
)
# C_j(s) = int_s^1 (t - s) P_j(t) dt, the double antiderivative of P_j vanishing with its slope at s = 1, as
# Legendre series (columns j): a kink of a table at s adds D C_j(s) to its panel's moment j
_KINK_MOMENTS = np.stack(
    [np.polynomial.legendre.legint(np.eye(_TABLE_ORDER)[j], m=2, lbnd=1.0) for j in range(_TABLE_ORDER)], axis=1
)
# l_k(t) = sum_j (2j+1)/2 W_k P_j(t_k) P_j(t): the Lagrange basis at the nodes, from Legendre moments
_LAGRANGE_FROM_LEGENDRE = (
    (np.arange(_TABLE_ORDER) + 0.5)[:, None]
    * np.polynomial.legendre.legvander(_TABLE_X, _TABLE_ORDER - 1).T
    * _TABLE_W[None, :]
)


@dataclass(frozen=True)
class Spectrum:
    """alpha^2F(omega) = sum_k weight_k delta(omega - omega_k) + density(omega).

    ``density`` is a vectorised callable on ``[breaks[0], breaks[-1]]``, smooth
    between consecutive ``breaks``.  Frequencies are > 0.  ``kind`` records the
    spec the spectrum came from (for output provenance).
    """

    kind: str
    omega: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    density: object = None
    breaks: np.ndarray = field(default_factory=lambda: np.zeros(0))
    units: str = "plain"

    # ------------------------------------------------------------------ nodes
    def nodes(self, h: float | None = None, graded: bool = True):
        """Quadrature nodes ``(omega, weight)`` of alpha^2F.

        Delta peaks are returned as they are; the continuous part is integrated
        with composite Gauss-Legendre (8 nodes per panel), panels no wider than
        ``h`` (default: 1/400 of the support) and aligned with ``breaks``; a
        table by product integration (16 nodes per panel, its rows need no
        panel edges).  Callers pass ``h`` of order pi*T/2 to resolve the thermal
        scale.  ``graded`` (default) refines a support that starts at omega = 0
        geometrically, for integrands singular there (the moments' 1/omega and
        ln(omega)/omega); kernels that are smooth at omega = 0 (Z0^-1, Sigma)
        pass False and save those nodes.
        """
        if self.density is None:
            return self.omega, self.weight
        b = self.breaks
        if h is None:
            h = (b[-1] - b[0]) / 400.0
        return _continuous_nodes(self, float(h), graded)

    # ---------------------------------------------------------------- moments
    def moments(self) -> dict:
        """lambda, g, omega_log, <omega^2>, <omega> (seed 000 Eqs. (6), (7); seed 002)."""
        out = phonon_moments(*self.nodes())
        out["g"] = math.sqrt(out["g2"])
        out["omega_max"] = self.omega_max
        return out

    @property
    def lam(self) -> float:
        return self.moments()["lambda"]

    @property
    def g(self) -> float:
        return self.moments()["g"]

    @property
    def omega_max(self) -> float:
        hi = [self.omega.max()] if self.omega.size else []
        if self.density is not None:
            hi.append(self.breaks[-1])
        return float(max(hi))

    @property
    def omega_min(self) -> float:
        lo = [self.omega.min()] if self.omega.size else []
        if self.density is not None:
            lo.append(self.breaks[0])
        return float(min(lo))

    @property
    def omega_log(self) -> float:
        return self.moments()["omega_log"]

    def alpha2f(self, omega):
        """The continuous part alpha^2F(omega) (delta peaks are not included)."""
        omega = np.asarray(omega, dtype=float)
        out = np.zeros_like(omega)
        if self.density is not None:
            inside = (omega >= self.breaks[0]) & (omega <= self.breaks[-1])
            out[inside] = self.density(omega[inside])
        return out

    # ---------------------------------------------------------------- scaling
    def scaled(self, a: float, c: float, units: str | None = None) -> Spectrum:
        """alpha^2F(omega) -> a alpha^2F(omega / c): lambda -> a lambda, g -> sqrt(a) c g."""
        dens = None
        if self.density is not None:
            base = self.density
            dens = _ScaledDensity(base, a, c)
        return replace(
            self,
            omega=self.omega * c,
            weight=self.weight * a * c,
            density=dens,
            breaks=self.breaks * c,
            units=units or self.units,
        )

    def with_lambda(self, lam: float, units: str = "g") -> Spectrum:
        """This shape at coupling ``lam`` in ``units`` ("g": g = 1; "plain": fixed frequencies)."""
        lam = require_positive("lam", lam, "give the electron-phonon coupling lambda > 0")
        m = self.moments()
        a = lam / m["lambda"]
        if units == "g":
            c = 1.0 / (m["g"] * math.sqrt(a))
        elif units == "plain":
            c = 1.0
        else:
            raise InputError(f"units must be 'g' or 'plain' (got {units!r})", "units")
        return self.scaled(a, c, units=units)


@dataclass(frozen=True)
class _ScaledDensity:
    base: object
    a: float
    c: float

    def __call__(self, omega):
        return self.a * self.base(np.asarray(omega) / self.c)


def _continuous_nodes(spec: Spectrum, h: float, graded: bool = True):
    """Delta peaks plus the nodes of the continuous part, panels no wider than ``h``.

    A rescaled density a f(omega/c) (:meth:`Spectrum.scaled`, every trial lambda of a scan in g units) takes
    the nodes of f on panels h/c, scaled: int a f(omega/c) g(omega) d omega = a c int f(u) g(c u) du.  The
    nodes of f are built once per panel width (cached on f), so a scan over lambda, T or E rebuilds nothing.
    """
    dens, a, c = spec.density, 1.0, 1.0
    while isinstance(dens, _ScaledDensity):
        a, c = a * dens.a, c * dens.c
        dens = dens.base
    om, w = _frame_nodes(dens, spec.breaks / c, h / c, graded)
    return (np.concatenate([spec.omega, om * c]), np.concatenate([spec.weight, w * (a * c)]))


#: Panel counts are rounded up to m * 2^k, m in 4..7 (at most 25 % more panels than asked), so that the
#: nodes of a density are cached for a few panel widths, whatever the trial lambda or T of a scan asks.
_PANEL_MANTISSAS = (4, 5, 6, 7, 8)
_FINEST_PANELS = 1 << 15  # a table's finest cached panel level: 32768 x 16 moments, 4 MB


def _panel_count(width: float, h: float) -> int:
    """Panels of width <= h across ``width``, rounded up to the cache's ladder of counts."""
    need = max(1.0, width / h)
    if not math.isfinite(need) or need > 1e9:
        raise InputError(f"quadrature panel width {h:g} is too small for the support {width:g}", "spectrum")
    k = max(0, int(math.floor(math.log2(need))) - 2)
    return next(m << k for m in _PANEL_MANTISSAS if (m << k) >= need)


def _frame_nodes(dens, breaks: np.ndarray, h: float, graded: bool):
    """Nodes (omega, weight) of one unscaled density on panels <= h, cached on the density object."""
    width = float(breaks[-1] - breaks[0])
    n = _panel_count(width, h)
    cache = dens.__dict__.setdefault("_nodes_cache", {})
    graded = graded and breaks[0] == 0.0  # a support away from 0 has nothing to grade
    # breaks / c of a rescaled spectrum differ from the density's own in the last bits: key on 12 digits
    key = (n, graded, breaks.size, f"{breaks[0]:.12g}", f"{breaks[-1]:.12g}")
    if key not in cache:
        if len(cache) > 32:  # a handful of widths per scan; bound the memory of long sessions
            cache.clear()
        if isinstance(dens, _TableDensity):
            edges = np.linspace(breaks[0], breaks[-1], n + 1)
        else:
            # panels aligned with the breaks: the analytic density is smooth between them
            edges = [breaks[:1]]
            for lo, hi in zip(breaks[:-1], breaks[1:]):
                m = max(1, int(math.ceil(n * (hi - lo) / width - 1e-9)))
                edges.append(np.linspace(lo, hi, m + 1)[1:])
            edges = np.concatenate(edges)
        if graded:
            # grade the first panel geometrically: integrands like alpha^2F ln(omega)/omega
            # are not smooth at omega = 0
            edges = np.concatenate([[0.0], edges[1] * 0.5 ** np.arange(24, 0, -1), edges[1:]])
        mid = 0.5 * (edges[1:] + edges[:-1])
        half = 0.5 * (edges[1:] - edges[:-1])
        gx = _TABLE_X if isinstance(dens, _TableDensity) else _GL_X
        om = (mid[:, None] + half[:, None] * gx[None, :]).ravel()
        if isinstance(dens, _TableDensity):
            w = dens.panel_weights(edges, uniform=None if edges.size != n + 1 else n).ravel()
        else:
            w = (half[:, None] * _GL_W[None, :]).ravel() * dens(om)
        keep = w != 0.0
        cache[key] = (om[keep], w[keep])
        for arr in cache[key]:
            arr.setflags(write=False)
    return cache[key]


# ---------------------------------------------------------------------- shapes
def _einstein(omega=1.0):
    return Spectrum("einstein", omega=np.array([omega]), weight=np.array([omega / 2.0]))


def _modes(rmin: int, rmax: int):
    r = np.arange(rmin, rmax + 1, dtype=float)
    om = r / rmax
    lam_k = np.full(r.size, 1.0 / r.size)
    return Spectrum(f"modes:{rmin}-{rmax}", omega=om, weight=lam_k * om / 2.0)


def _peaks(pairs):
    om = np.array([p[0] for p in pairs])
    lam_k = np.array([p[1] for p in pairs])
    return Spectrum("peaks", omega=om, weight=lam_k * om / 2.0)


@dataclass(frozen=True)
class _DebyeDensity:
    wd: float

    def __call__(self, omega):
        # alpha^2F = lambda (omega/omega_D)^2 with lambda = 1: 2 int_0^wD c w dw = c wD^2
        return (np.asarray(omega) / self.wd) ** 2


def _debye(wd=1.0):
    return Spectrum("debye", density=_DebyeDensity(wd), breaks=np.array([0.0, wd]))


@dataclass(frozen=True)
class _LorentzDensity:
    centres: tuple
    widths: tuple

    def __call__(self, omega):
        omega = np.asarray(omega, dtype=float)
        out = np.zeros_like(omega)
        for c, g in zip(self.centres, self.widths):
            cut = 3.0 * g
            lor = 1.0 / ((omega - c) ** 2 + g * g) - 1.0 / (cut * cut + g * g)
            lam0 = 2.0 * _lorentz_lambda_unit(c, g)
            out += np.where(np.abs(omega - c) < cut, lor, 0.0) / lam0
        return out


@lru_cache(maxsize=64)
def _lorentz_lambda_unit(c, g):
    """int (L(w)/w) dw of one truncated Lorentzian (so each peak carries lambda = 1)."""
    cut = 3.0 * g
    x, wq = np.polynomial.legendre.leggauss(200)
    om = c + cut * x
    lor = 1.0 / ((om - c) ** 2 + g * g) - 1.0 / (cut * cut + g * g)
    return float(np.sum(cut * wq * lor / om))


def _lorentz(pairs):
    cs = tuple(float(p[0]) for p in pairs)
    gs = tuple(float(p[1]) for p in pairs)
    for c, g in zip(cs, gs):
        if c - 3.0 * g <= 0.0:
            raise InputError(
                f"spectrum lorentz:{c}:{g}: the peak reaches omega <= 0 (centre - 3*width); "
                "use a smaller width or a larger centre",
                "spectrum",
            )
    b = sorted({x for c, g in zip(cs, gs) for x in (c - 3 * g, c, c + 3 * g)})
    return Spectrum("lorentz", density=_LorentzDensity(cs, gs), breaks=np.array(b))


@dataclass(frozen=True)
class _TableDensity:
    """Piecewise-linear alpha^2F through the tabulated points."""

    x: tuple
    y: tuple

    def __post_init__(self):
        # the table as arrays once: a 10^5-row file is interpolated at every quadrature node
        object.__setattr__(self, "_xa", np.asarray(self.x, dtype=float))
        object.__setattr__(self, "_ya", np.asarray(self.y, dtype=float))

    def __call__(self, omega):
        return np.interp(omega, self._xa, self._ya, left=0.0, right=0.0)

    def panel_weights(self, edges: np.ndarray, uniform: int | None = None) -> np.ndarray:
        """Product-integration weights w[p, k] = int_panel alpha^2F(omega) l_pk(omega) d omega.

        ``uniform`` = n says that ``edges`` are n equal panels across the table: their moments come from the
        cached hierarchy of :meth:`_uniform_moments` instead of a pass over the rows.
        """
        mom = self._uniform_moments(uniform) if uniform else self._panel_moments(edges)
        return mom @ _LAGRANGE_FROM_LEGENDRE

    def _uniform_moments(self, n: int) -> np.ndarray:
        """Moments of n equal panels across the table, n = m 2^k (m in 4..7, :func:`_panel_count`).

        A panel's moments are exact linear maps of its two halves' (P_j of the parent's coordinate is a
        degree-j polynomial in the child's): each ladder m keeps its finest level computed from the rows, and a
        coarser level costs O(panels).  A scan over lambda or T then passes over the rows once per m, not once
        per panel width.
        """
        k = (n & -n).bit_length() - 1
        m = n >> k
        while m < 4:  # n = 2^k: the ladder m = 4
            m, k = m * 2, k - 1
        store = self.__dict__.setdefault("_hierarchy", {})
        levels = store.get(m)
        if levels is None or max(levels) < k:
            # one pass over the rows, at a level finer than asked (up to 8x, and at most _FINEST_PANELS
            # panels): the finer panels a scan asks later are then coarsenings too
            fine = k + max(0, min(3, int(math.log2(max(_FINEST_PANELS // (m << k), 1)))))
            edges = np.linspace(self._xa[0], self._xa[-1], (m << fine) + 1)
            levels = store[m] = {fine: self._panel_moments(edges)}
        level = min(lv for lv in levels if lv >= k)
        mom = levels[level]
        while level > k:
            mom = mom[0::2] @ _HALVES[0].T + mom[1::2] @ _HALVES[1].T
            level -= 1
            levels[level] = mom
        return mom

    def _panel_moments(self, edges: np.ndarray) -> np.ndarray:
        """Moments m[p, j] = int_panel alpha^2F(omega) P_j(t(omega)) d omega, exact for the table.

        With l_pk the Lagrange basis of panel p's Gauss-Legendre nodes, sum_k w[p, k] g(omega_pk) integrates
        the piecewise-linear table *exactly* against the degree-15 interpolant of any smooth g: the table's
        kinks (one per row) cost nothing, and the nodes are those of the panels, not of the rows
        (docs/theory.md §11.1).  In Legendre form l_k(t) = sum_j (2j+1)/2 W_k P_j(t_k) P_j(t), so w[p, k] =
        sum_j (2j+1)/2 W_k P_j(t_k) m[p, j].  On a panel (omega = mid + half t) the table is
        f(t) = f_0 + f'_0 half (t + 1) + sum_i D_i half (t - t_i)_+ (D_i the jump of the slope at row i), so
        m = half [f_0 int P_j + f'_0 half int (t + 1) P_j + half sum_i D_i C_j(t_i)] with
        C_j(s) = int_s^1 (t - s) P_j(t) dt: one polynomial per j, evaluated once per row -- O(rows) for any
        panel layout.
        """
        x, y = self._xa, self._ya
        slope = np.diff(y) / np.diff(x)
        n_pan = edges.size - 1
        start, half = edges[:-1], 0.5 * np.diff(edges)
        # value and right-hand slope of the table at each panel's start
        seg = np.clip(np.searchsorted(x, start, side="right") - 1, 0, slope.size - 1)
        f0 = np.interp(start, x, y, left=0.0, right=0.0)
        moments = np.zeros((n_pan, _TABLE_ORDER))
        moments[:, 0] = 2.0 * f0 + 2.0 * slope[seg] * half
        moments[:, 1] = (2.0 / 3.0) * slope[seg] * half
        # the kinks strictly inside a panel (a row on an edge starts the next panel's f_0, f'_0)
        rows = np.arange(1, x.size - 1)
        pan = np.searchsorted(edges, x[rows], side="right") - 1
        inside = (pan >= 0) & (pan < n_pan) & (x[rows] > edges[np.clip(pan, 0, n_pan)])
        rows, pan = rows[inside], pan[inside]
        if rows.size:
            jump = (slope[rows] - slope[rows - 1]) * half[pan]  # D_i half
            t = (x[rows] - start[pan]) / half[pan] - 1.0
            kink = np.polynomial.legendre.legvander(np.clip(t, -1.0, 1.0), _TABLE_ORDER + 1) @ _KINK_MOMENTS
            # rows come sorted by panel: sum each panel's run
            first = np.flatnonzero(np.diff(pan, prepend=-1))
            moments[pan[first]] += np.add.reduceat(kink * jump[:, None], first, axis=0)
        return moments * half[:, None]


_EPW_HEADER = re.compile(r"^\s*w\s*\[\s*mev\s*\].*a2f", re.IGNORECASE)
_EPW_SMEARINGS = re.compile(r"for\s+(\d+)\s+smearing", re.IGNORECASE)
_EPW_FOOTER = "integrated el-ph coupling"


def read_a2f_file(path: str, column: int = 2):
    """Read a tabulated alpha^2F: returns (omega, a2f) arrays.

    Layouts (seed 002's alpha^2F; EPW's ``prefix.a2f``):

    * plain text, two or more whitespace- or comma-separated columns
      (omega, alpha^2F, ...), with ``#`` comment lines or trailing ``# ...``
      comments anywhere;
    * EPW's ``prefix.a2f``: the header line ``w[meV] a2f and integrated 2*a2f/w
      for N smearing values``, rows ``omega[meV]  a2F(smearing 1..N)
      [lambda(omega) 1..N]`` (the cumulative-lambda columns are written by EPW
      versions with the Eliashberg module, not by older ones), then the trailing
      summary block that starts with ``Integrated el-ph coupling`` (its value
      lines start with ``#``; then phonon smearing, electron smearing, Fermi
      window, summed el-ph coupling).

    Only those marked blocks are skipped.  Any other line that does not parse
    as a row of numbers with the same number of columns as the table -- a
    corrupt number such as ``1.2e-0x``, a Fortran overflow ``************``, a
    truncated row, stray text -- is an error naming the file and the line
    number: a table is never silently cut short.  ``column`` is 1-based
    (column 1 is omega); on an EPW file with cumulative-lambda columns it must
    name an alpha^2F column.
    """
    where = f"spectrum file:{path}"
    lines = read_lines(path, where, "spectrum", "omega, alpha^2F")
    fast = _fast_rows(lines)
    rows, n_smear, ncol = ([], None, None) if fast is None else fast
    for lineno, raw in enumerate(lines if fast is None else (), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if not rows and _EPW_HEADER.match(text):
            m = _EPW_SMEARINGS.search(text)
            n_smear = int(m.group(1)) if m else None
            continue
        if text.lower().startswith(_EPW_FOOTER):
            break  # EPW's trailing summary block
        body = text.split("#", 1)[0].replace(",", " ").split()
        try:
            vals = [float(t) for t in body]
        except ValueError:
            bad = next(t for t in body if not _is_number(t))
            raise InputError(
                f"{where}: line {lineno}: cannot read {bad!r} as a number ({text[:60]!r}); fix the value, "
                "or mark header and comment lines with '#'",
                "spectrum",
            ) from None
        if ncol is None:
            ncol = len(vals)
        elif len(vals) != ncol:
            raise InputError(
                f"{where}: line {lineno}: {len(vals)} columns where the table has {ncol}; fix the row",
                "spectrum",
            )
        rows.append(vals)
    if len(rows) == 0:
        raise InputError(f"{where}: no numeric rows found; the file needs columns omega, alpha^2F", "spectrum")
    if ncol < 2:
        raise InputError(f"{where}: rows need at least 2 columns (omega, alpha^2F), found {ncol}", "spectrum")
    n_a2f = ncol - 1
    if n_smear is not None and ncol == 1 + 2 * n_smear:
        n_a2f = n_smear  # EPW: a2F for each smearing, then the cumulative lambda of each
    elif n_smear is not None and ncol == 3 and n_smear != 2:
        n_a2f = 1  # EPW's single-smearing writer: omega, a2F, cumulative lambda
    if not 2 <= column <= 1 + n_a2f:
        extra = f" (columns {n_a2f + 2}-{ncol} are EPW's cumulative lambda)" if n_a2f < ncol - 1 else ""
        raise InputError(f"{where}:{column}: the alpha^2F column must be between 2 and {1 + n_a2f}{extra}",
                         "spectrum")
    data = np.asarray(rows, dtype=float)
    om, a2f = data[:, 0], data[:, column - 1]
    if not np.all(np.isfinite(data[:, [0, column - 1]])):
        raise InputError(f"{where}: non-finite values in the table; fix or remove those rows", "spectrum")
    if np.max(np.abs(data[:, [0, column - 1]])) > MAGNITUDE:
        raise InputError(
            f"{where}: values beyond {MAGNITUDE:g} in the table; give omega and alpha^2F in physical units",
            "spectrum",
        )
    if om.size < 2 or np.any(np.diff(om) <= 0):
        raise InputError(f"{where}: omega (column 1) must be strictly increasing with >= 2 rows", "spectrum")
    if om[0] < 0:
        raise InputError(f"{where}: negative frequency {om[0]}; alpha^2F is defined for omega >= 0", "spectrum")
    scale = max(np.max(np.abs(a2f)), 1e-300)
    if np.any(a2f < -1e-10 * scale):
        i = int(np.argmin(a2f))
        raise InputError(
            f"{where}: alpha^2F is negative ({a2f[i]:g} at omega = {om[i]:g}); an Eliashberg "
            "function must be >= 0 (check the column, or clip the smearing noise)",
            "spectrum",
        )
    a2f = np.clip(a2f, 0.0, None)
    if not np.any(a2f > 0):
        raise InputError(f"{where}: alpha^2F is zero everywhere; nothing to couple to", "spectrum")
    with np.errstate(over="ignore"):  # lambda = 2 int a2F/w and g^2 = 2 int w a2F must be numbers
        pos = om > 0
        sums = (np.sum(a2f), np.sum(a2f * om), np.sum(a2f[pos] / om[pos]))
    if not np.all(np.isfinite(sums)):
        raise InputError(
            f"{where}: alpha^2F up to {np.max(a2f):g} is too large for its moments (lambda, g^2) to be finite; "
            "check the column and its units",
            "spectrum",
        )
    return om, a2f


def _fast_rows(lines):
    """(rows, EPW smearing count, columns) by numpy's C reader, or None: then the line-by-line reader of
    :func:`read_a2f_file` reads the file and names the first bad line.  A 10^5-row file: 0.05 s, not 0.3 s."""
    head = 0
    n_smear = None
    while head < len(lines) and (not lines[head].strip() or lines[head].lstrip().startswith("#")):
        head += 1
    if head < len(lines) and _EPW_HEADER.match(lines[head].strip()):
        m = _EPW_SMEARINGS.search(lines[head])
        n_smear = int(m.group(1)) if m else None
        head += 1
    end = next((i for i in range(head, len(lines)) if lines[i].lstrip()[:1] in "Ii"
                and lines[i].strip().lower().startswith(_EPW_FOOTER)), len(lines))
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "input contained no data" and the like: the slow reader says it
            data = np.loadtxt(lines[head:end], comments="#", ndmin=2, dtype=float)
    except (ValueError, UserWarning):
        return None
    if data.size == 0:
        return None
    return data, n_smear, data.shape[1]


def _is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


def _file(path: str, column: int = 2):
    om, a2f = read_a2f_file(path, column)
    if om[0] == 0.0 and a2f[0] > 0.0:
        raise InputError(
            f"spectrum file:{path}: alpha^2F(0) = {a2f[0]:g} > 0 makes lambda = 2 int a2F/w diverge; "
            "alpha^2F must vanish at omega = 0",
            "spectrum",
        )
    # trim zero tails so the support is where the coupling is
    nz = np.nonzero(a2f)[0]
    lo, hi = max(nz[0] - 1, 0), min(nz[-1] + 1, om.size - 1)
    om, a2f = om[lo : hi + 1], a2f[lo : hi + 1]
    return Spectrum(
        f"file:{os.path.basename(path)}",
        density=_TableDensity(tuple(om), tuple(a2f)),
        # the table's rows are not panel breaks: its quadrature integrates the kinks exactly (product
        # integration, _TableDensity.panel_weights), so nodes, memory and time are those of the panels
        breaks=np.array([om[0], om[-1]]),
    )


def _pairs(body: str, what: str):
    out = []
    for item in body.split(","):
        parts = item.split(":")
        if len(parts) != 2:
            raise InputError(f"spectrum {what}: expected pairs A:B separated by commas (got {item!r})", "spectrum")
        try:
            a, b = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(f"spectrum {what}: {item!r} is not a pair of numbers", "spectrum") from None
        if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
            raise InputError(f"spectrum {what}: values must be > 0 (got {item!r})", "spectrum")
        out.append((a, b))
    return out


def _positive_number(spec, text):
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"spectrum {spec!r}: the frequency must be a number > 0 (got {text!r})", "spectrum")
    return v


def parse_spectrum(spec: str) -> Spectrum:
    """Parse a spectrum spec string (see module docstring) into its shape (plain units)."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"spectrum is empty; use one of: {ALPHA2F_HELP}", "spectrum")
    spec = spec.strip()
    head, _, body = spec.partition(":")
    head = head.lower()
    if head == "einstein":
        return _einstein(_positive_number(spec, body) if body else 1.0)
    if head == "modes":
        try:
            lo, hi = (int(t) for t in body.split("-"))
        except ValueError:
            raise InputError(
                f"spectrum {spec!r}: use modes:RMIN-RMAX with integers, e.g. modes:40-60",
                "spectrum",
            ) from None
        if not 0 < lo <= hi:
            raise InputError(f"spectrum {spec!r}: need 0 < RMIN <= RMAX, e.g. modes:40-60", "spectrum")
        return _modes(lo, hi)
    if head == "peaks":
        return _peaks(_pairs(body, spec))
    if head == "debye":
        return _debye(_positive_number(spec, body) if body else 1.0)
    if head == "lorentz":
        return _lorentz(_pairs(body, spec))
    if head == "file":
        path, col = body, 2
        stem, sep, last = body.rpartition(":")
        if sep and last.isdigit():
            path, col = stem, int(last)
        if not path:
            raise InputError("spectrum file: needs a path, e.g. file:a2f.dat", "spectrum")
        return _file(path, col)
    raise InputError(f"spectrum {spec!r} is not a known spectrum; use one of: {ALPHA2F_HELP}", "spectrum")


def make_spectrum(spec: str, lam: float | None = None, units: str = "g") -> Spectrum:
    """The spectrum ``spec`` at coupling ``lam`` in ``units`` ("g" or "plain").

    ``lam=None`` keeps the shape's own lambda (meaningful for ``file:`` and
    ``peaks:``; 1 for the built-in shapes).
    """
    shape = parse_spectrum(spec)
    if units not in ("g", "plain"):
        raise InputError(f"units must be 'g' or 'plain' (got {units!r})", "units")
    if lam is None:
        lam = shape.lam
    return shape.with_lambda(lam, units)
