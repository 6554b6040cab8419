"""Density-of-states and transport models for seed 001 (negative absolute conductivity).

A :class:`Band` gives the electron density of states D(eps), normalised to
int D d eps = 1 (states per site and spin, zero outside [lo, hi]), and the
transport function sigma~(eps) = e^2 v^2(eps) D(eps) tau_tr(eps) of Eqs. (7),
(9) up to a constant factor (only sigma~/sigma~(mu) enters, see ``pde.nac``).
Energies are in units of the bandwidth W.

* ``semicircle`` -- the default "trial DoS" (the seed gives no formula):
  D = (4/pi W) sqrt(1 - (2 eps/W)^2), constant v^2 tau, so sigma~ ~ D.
* ``cosine`` -- the 1D band eps_k = -(W/2) cos k of Suppl. Eq. (54),
  D ~ 1/sqrt(1 - x^2), x = 2 eps/W, regularised at the van Hove edges as
  1/sqrt(1 - x^2 + eta^2), with the two tau_tr models of Eq. (55):
  tau=const, sigma~ ~ v^2 D; tau=dos (impurity-like tau ~ 1/D), sigma~ ~ v^2,
  with v^2 = (W^2/4)(1 - x^2).
* ``cubic`` -- the 3-band p-like tight-binding model of Suppl. Sec. I
  (t1 = -100, t2 = 30, t3 = 200 meV): D(eps) and D v^2(eps) from a k-space
  midpoint sampling with Gaussian broadening, rescaled to the total bandwidth.
* ``file`` -- a table with columns eps, D[, sigma~] (sigma~ ~ D if absent).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.integrate import trapezoid

from .errors import InputError, require_positive

__all__ = ["Band", "semicircle", "cosine", "cubic", "cubic_tables", "from_table", "from_file", "make_dos"]


class Band:
    """D(eps) (normalised to 1) and sigma~(eps) (arbitrary scale) on [lo, hi]; zero outside.

    ``features`` lists energies where D is singular or has a kink (band edges,
    van Hove points); the NAC energy grid is refined at them and at their
    images eps +- j omega_p.
    """

    def __init__(self, name, lo, hi, dos, transport, features=()):
        self.name, self.lo, self.hi = name, float(lo), float(hi)
        self._dos, self._transport = dos, transport
        self.features = tuple(float(e) for e in features)

    def _inside(self, eps):
        eps = np.asarray(eps, dtype=float)
        return eps, (eps >= self.lo) & (eps <= self.hi)

    def dos(self, eps):
        """D(eps) >= 0, int D = 1, zero outside the band."""
        eps, inside = self._inside(eps)
        return np.where(inside, self._dos(np.clip(eps, self.lo, self.hi)), 0.0)

    def transport(self, eps):
        """sigma~(eps) >= 0 up to a constant, zero outside the band."""
        eps, inside = self._inside(eps)
        return np.where(inside, self._transport(np.clip(eps, self.lo, self.hi)), 0.0)

    def __repr__(self):
        return f"Band({self.name!r}, lo={self.lo:.4g}, hi={self.hi:.4g})"


def semicircle(W=1.0):
    """Trial DoS: D = (4/pi W) sqrt(1 - (2 eps/W)^2), sigma~ ~ D (constant v^2 tau)."""
    W = require_positive("W", W, "give the bandwidth (energies are in units of W)")

    def d(e):
        return 4.0 / (np.pi * W) * np.sqrt(np.clip(1.0 - (2.0 * e / W) ** 2, 0.0, None))

    return Band("semicircle", -W / 2, W / 2, d, d, features=(-W / 2, W / 2))


def cosine(tau="const", eta=0.05, W=1.0):
    """1D cosine band, Eq. (54), regularised: D = c/sqrt(1 + eta^2 - x^2), x = 2 eps/W.

    c = 1/(W arcsin(1/sqrt(1 + eta^2))) normalises int D = 1 (c -> 2/(pi W) as eta -> 0).
    tau='const': sigma~ ~ v^2 D;  tau='dos' (tau ~ 1/D): sigma~ ~ v^2 ~ 1 - x^2, Eq. (55).
    """
    W = require_positive("W", W, "give the bandwidth")
    eta = require_positive("eta", eta, "give the edge regularisation, e.g. eta=0.05")
    if tau not in ("const", "dos"):
        raise InputError(f"tau must be 'const' or 'dos' (got {tau!r}); see Eq. (55)", "dos")
    c = 1.0 / (W * np.arcsin(1.0 / np.sqrt(1.0 + eta**2)))

    def d(e):
        return c / np.sqrt(1.0 + eta**2 - (2.0 * e / W) ** 2)

    def v2(e):
        return np.clip(1.0 - (2.0 * e / W) ** 2, 0.0, None)

    trans = (lambda e: v2(e) * d(e)) if tau == "const" else v2
    return Band(f"cosine:tau={tau}", -W / 2, W / 2, d, trans, features=(-W / 2, W / 2))


def from_table(eps, D, sig=None, name="table"):
    """Band from tabulated eps (increasing), D >= 0 and optional sigma~ >= 0, linear interpolation.

    D is renormalised to int D = 1 (trapezoid rule); sigma~ ~ D when not given.
    """
    eps, D = np.asarray(eps, dtype=float), np.asarray(D, dtype=float)
    if eps.ndim != 1 or eps.size < 3 or D.shape != eps.shape:
        raise InputError(f"{name}: need at least 3 rows of eps, D[, sigma]; give a longer table", "dos")
    if not (np.all(np.isfinite(eps)) and np.all(np.isfinite(D))):
        raise InputError(f"{name}: non-finite entry in the eps or D column; fix the table", "dos")
    if np.any(np.diff(eps) <= 0):
        raise InputError(f"{name}: the energies (column 1) must increase strictly; sort the table", "dos")
    if np.any(D < 0):
        i = int(np.argmax(D < 0))
        raise InputError(f"{name}: negative DoS D = {D[i]:g} at eps = {eps[i]:g}; the DoS must be >= 0", "dos")
    norm = trapezoid(D, eps)
    if not norm > 0:
        raise InputError(f"{name}: the DoS column integrates to zero; give a nonzero DoS", "dos")
    D = D / norm
    if sig is None:
        sig = D
    sig = np.asarray(sig, dtype=float)
    if sig.shape != eps.shape or not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise InputError(f"{name}: the transport column (3) must be finite and >= 0; fix the table", "dos")
    return Band(name, eps[0], eps[-1], lambda e: np.interp(e, eps, D), lambda e: np.interp(e, eps, sig),
                features=(eps[0], eps[-1]))


def from_file(path):
    """Band from a text file with two or three columns eps, D[, sigma~] (``#`` comments)."""
    try:
        with warnings.catch_warnings():  # an empty file: numpy's UserWarning, then the error below says it
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            data = np.loadtxt(path, ndmin=2, comments="#")
    except OSError:
        raise InputError(f"DoS file {path!r} cannot be read; give an existing file", "dos") from None
    except ValueError as exc:
        raise InputError(f"DoS file {path!r} is malformed ({exc}); give 2 or 3 numeric columns", "dos") from None
    if data.size == 0:
        raise InputError(f"DoS file {path!r} has no data rows; give rows of eps, D[, sigma]", "dos")
    if data.shape[1] not in (2, 3):
        raise InputError(f"DoS file {path!r} has {data.shape[1]} columns; give 2 or 3 (eps, D[, sigma])", "dos")
    return from_table(data[:, 0], data[:, 1], data[:, 2] if data.shape[1] == 3 else None,
                      name=f"file:{path}")


# ------------------------------------------------------------------ cubic p-band tight binding
T1, T2, T3 = -100.0, 30.0, 200.0  # meV, Suppl. Sec. I


def _tb_hamiltonian(k):
    """H(k) (..., 3, 3) of Suppl. Sec. I: t_xx = t1 c_x (c_y + c_z) + t2 c_y c_z, t_xy = t3 s_x s_y, cyclic."""
    c, s = np.cos(k / 2), np.sin(k / 2)
    H = np.empty(k.shape[:-1] + (3, 3))
    for a in range(3):
        b, g = (a + 1) % 3, (a + 2) % 3
        H[..., a, a] = T1 * c[..., a] * (c[..., b] + c[..., g]) + T2 * c[..., b] * c[..., g]
        H[..., a, b] = H[..., b, a] = T3 * s[..., a] * s[..., b]
    return H


def cubic_tables(nk=32, broadening=0.02, n_bins=400):
    """(eps, D, D v^2, W_meV) of the 3-band model on an nk^3 midpoint grid of the period cube [0, 4 pi)^3.

    Energies are shifted to the band centre and divided by the total bandwidth
    W_meV; v = dE/dk from Hellmann-Feynman with central differences of H(k);
    delta functions broadened by Gaussians of width ``broadening`` (units of W).
    """
    nk = int(require_positive("nk", nk, "give the number of k points per direction, e.g. nk=32"))
    broadening = require_positive("broadening", broadening, "give a Gaussian width in units of W, e.g. 0.02")
    g = 4 * np.pi * (np.arange(nk) + 0.5) / nk
    k = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    E, U = np.linalg.eigh(_tb_hamiltonian(k))
    h = 1e-5
    v2 = np.zeros_like(E)
    for a in range(3):
        dk = np.zeros(3)
        dk[a] = h
        dH = (_tb_hamiltonian(k + dk) - _tb_hamiltonian(k - dk)) / (2 * h)
        v2 += np.einsum("kin,kij,kjn->kn", U, dH, U) ** 2
    W = float(E.max() - E.min())
    x = (E.ravel() - 0.5 * (E.max() + E.min())) / W
    v2 = v2.ravel() / W**2
    eps = np.linspace(-0.5 - 3 * broadening, 0.5 + 3 * broadening, n_bins)
    # bin the states finely (width broadening/20), then broaden the bins: O(states + bins^2)
    edges = np.linspace(-0.5, 0.5, int(20 / broadening) + 2)
    centres = 0.5 * (edges[1:] + edges[:-1])
    n, _ = np.histogram(x, edges)
    nv2, _ = np.histogram(x, edges, weights=v2)
    gauss = np.exp(-0.5 * ((eps[:, None] - centres) / broadening) ** 2) / (broadening * np.sqrt(2 * np.pi) * x.size)
    return eps, gauss @ n, gauss @ nv2, W


def cubic(nk=32, broadening=0.02):
    """The cubic p-band model (Fig. 2c): tabulated D and sigma~ ~ D v^2 (constant tau)."""
    eps, D, Dv2, _ = cubic_tables(nk, broadening)
    return from_table(eps, D, Dv2, name=f"cubic:nk={nk}")


def _options(spec, text, allowed):
    out = {}
    for item in filter(None, text.split(",")):
        key, sep, val = item.partition("=")
        if not sep or key not in allowed:
            raise InputError(f"DoS {spec!r}: unknown option {item!r}; allowed: {', '.join(allowed)}", "dos")
        out[key] = val
    return out


def make_dos(spec="semicircle"):
    """Parse 'semicircle[:W=1]', 'cosine[:tau=const|dos,eta=0.05]', 'cubic[:nk=32,broadening=0.02]', 'file:PATH'."""
    name, _, rest = str(spec).partition(":")
    if name == "file":
        if not rest:
            raise InputError("DoS 'file:' needs a path; give file:PATH", "dos")
        return from_file(rest)
    if name == "semicircle":
        return semicircle(**_options(spec, rest, ("W",)))
    if name == "cosine":
        o = _options(spec, rest, ("tau", "eta"))
        return cosine(tau=o.get("tau", "const"), eta=o.get("eta", 0.05))
    if name == "cubic":
        o = _options(spec, rest, ("nk", "broadening"))
        return cubic(nk=o.get("nk", 32), broadening=o.get("broadening", 0.02))
    raise InputError(f"unknown DoS {spec!r}; use semicircle, cosine:tau=const|dos, cubic:nk=N or file:PATH", "dos")
