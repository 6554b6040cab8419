"""Initial electron distributions f(E, t = 0) for the kinetic equation (docs/theory.md §10.8).

The kinetic equation lives on the folded grid E_i = i eps, i = 1..L, with f(-E) = 1 - f(E) and f(0) = 1/2
(Eq. (S28)): every state is particle-hole symmetric, so the chemical potential stays at 0 and the particle
number int (f - f0) dE over the full line vanishes identically, whatever f is on E > 0.  An initial state is
therefore a function on E > 0; three are offered (``parse_initial``):

* ``thermal``: f0(E, T_in), Eq. (S29) (the default);
* ``pulse:E0:WIDTH:AMPLITUDE``: a photoexcited state, electrons added at +E0 and as many holes at -E0,
      f(E) = f0(E, T_in) + A [G(E - E0) - G(E + E0)],   G(x) = exp(-x^2 / (2 W^2)),
  whose change is odd in E: on the full line the hole Gaussian at -E0 is the mirror image of the electron one,
  so the particle number is kept exactly (on the grid as in the continuum), and f(0) = 1/2 stays.  For E > 0
  the change is >= 0, so f >= 0 holds; f <= 1 is checked on the grid (always true for A <= 1/2);
* ``file:PATH``: a table of two columns E, f on any grid (``#`` comments, whitespace or commas), linearly
  interpolated onto the kinetic grid; outside the table's range f is the thermal f0(E, T_in) (the tails of
  T_in: a table that covers the window where the state is non-thermal is enough).  Rows with E < 0 must be
  the mirror image f(-E) = 1 - f(E) of the rows with E > 0 (to 1e-6): the folded grid cannot hold anything
  else.  Values must be finite and 0 <= f <= 1.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .eliashberg import fermi
from .errors import InputError
from .syntax import INITIAL_HELP
from .textfile import read_lines

__all__ = ["INITIAL_HELP", "InitialState", "parse_initial", "read_distribution"]

#: Rows at E < 0 of an initial-state table must satisfy f(-E) = 1 - f(E) to this absolute tolerance.
MIRROR_TOL = 1e-6

_SPLIT = re.compile(r"[,\s]+")


def read_distribution(path: str, name: str = "initial") -> tuple[np.ndarray, np.ndarray]:
    """(E, f) of a two-column text table, sorted by E: finite, 0 <= f <= 1, distinct energies, at least two rows.
    Any other line is an error naming the file and its line number (InputError, param ``name``)."""
    where = f"{name} file:{path}"
    lines = read_lines(path, where, name, "E, f")
    rows = []
    for lineno, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        cells = [c for c in _SPLIT.split(text) if c]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            values = []
        if len(values) != 2:
            raise InputError(f"{where}: line {lineno} is not two numbers E, f ({raw.strip()!r}); fix the table", name)
        rows.append(values)
    if len(rows) < 2:
        raise InputError(f"{where}: {len(rows)} row(s); give at least two rows E, f", name)
    data = np.array(rows)
    if not np.all(np.isfinite(data)):
        bad = int(np.nonzero(~np.all(np.isfinite(data), axis=1))[0][0])
        raise InputError(f"{where}: row {bad + 1} is not finite ({rows[bad]}); give finite E and f", name)
    order = np.argsort(data[:, 0], kind="stable")
    E, f = data[order, 0], data[order, 1]
    if np.any(np.diff(E) == 0):
        twice = E[np.nonzero(np.diff(E) == 0)[0][0]]
        raise InputError(f"{where}: energy {twice:g} appears twice; give distinct E", name)
    if np.any(f < 0) or np.any(f > 1):
        i = int(np.argmax((f < 0) | (f > 1)))
        raise InputError(f"{where}: f = {f[i]:g} at E = {E[i]:g} is outside [0, 1]; an occupation is 0 <= f <= 1",
                         name)
    return E, f


class InitialState:
    """An initial distribution: ``kind`` ("thermal", "pulse" or "file"), its spec, and :meth:`on_grid`."""

    def __init__(self, spec: str, kind: str, pulse=None, table=None):
        self.spec, self.kind, self.pulse, self.table = spec, kind, pulse, table

    def __str__(self):
        return self.spec

    def on_grid(self, E, T_in, name="initial"):
        """f on the folded grid energies ``E`` (> 0) at initial temperature ``T_in`` (the thermal part or tails);
        InputError (param ``name``) unless 0 <= f <= 1 there."""
        E = np.asarray(E, dtype=float)
        if not T_in > 0:
            raise InputError(f"T_in must be > 0 (got {T_in}); give the initial electron temperature", "T_in")
        f = fermi(E, T_in)
        if self.kind == "pulse":
            E0, W, A = self.pulse
            # odd in E: electrons at +E0, the mirror holes at -E0 (docs/theory.md §10.8)
            f = f + A * (np.exp(-0.5 * ((E - E0) / W) ** 2) - np.exp(-0.5 * ((E + E0) / W) ** 2))
            if np.max(f) > 1.0:
                i = int(np.argmax(f))
                raise InputError(
                    f"{name} {self.spec}: f = {f[i]:.6g} > 1 at E = {E[i]:.6g} (f0(T_in) plus the pulse); "
                    "lower AMPLITUDE (at most 1/2 always holds)",
                    name,
                )
        elif self.kind == "file":
            tE, tf = self.table
            pos = tE > 0
            if not np.any(pos):
                raise InputError(f"{name} {self.spec}: no row with E > 0; the folded grid needs f at E > 0", name)
            inside = (E >= tE[pos][0]) & (E <= tE[pos][-1])
            f = np.where(inside, np.interp(E, tE[pos], tf[pos]), f)  # f0(T_in) outside the table
        return f

    def check(self, T_in, name="initial"):
        """Refuse (as :meth:`on_grid`) a pulse whose f exceeds 1 anywhere on E > 0, before any grid is built: f is
        sampled at W/400 up to E0 + 10 W, beyond which it is f0(T_in) < 1/2 (the grid is checked again)."""
        if self.kind == "pulse":
            E0, W, _ = self.pulse
            self.on_grid(np.linspace(0.0, E0 + 10.0 * W, int(4000 * (E0 / W + 10)) + 1)[1:], T_in, name)


def _number(text, what, spec, name):
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{name} {spec}: {what} must be a number > 0 (got {text!r}); e.g. pulse:1.0:0.1:0.05", name)
    return v


def parse_initial(spec: str, name: str = "initial") -> InitialState:
    """The :class:`InitialState` of ``thermal``, ``pulse:E0:WIDTH:AMPLITUDE`` or ``file:PATH`` (read and checked
    here: finite, 0 <= f <= 1, rows at E < 0 the mirror image of those at E > 0).  InputError (param ``name``)
    otherwise."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"{name} must be thermal, pulse:E0:WIDTH:AMPLITUDE or file:PATH (got {spec!r})", name)
    spec = spec.strip()
    if spec == "thermal":
        return InitialState(spec, "thermal")
    if spec.startswith("pulse:"):
        parts = spec[6:].split(":")
        if len(parts) != 3:
            raise InputError(f"{name} {spec}: give pulse:E0:WIDTH:AMPLITUDE (three numbers > 0)", name)
        E0, W, A = (_number(t, w, spec, name) for t, w in zip(parts, ("E0", "WIDTH", "AMPLITUDE")))
        return InitialState(spec, "pulse", pulse=(E0, W, A))
    if spec.startswith("file:"):
        E, f = read_distribution(spec[5:], name)
        neg = E < 0
        if np.any(neg) and np.any(E > 0):
            mirror = 1.0 - np.interp(-E[neg], E[E > 0], f[E > 0])
            inside = (-E[neg] >= E[E > 0][0]) & (-E[neg] <= E[E > 0][-1])
            if np.any(np.abs(mirror - f[neg])[inside] > MIRROR_TOL):
                i = int(np.argmax(np.where(inside, np.abs(mirror - f[neg]), 0.0)))
                raise InputError(
                    f"{name} {spec}: f({E[neg][i]:g}) = {f[neg][i]:g} but 1 - f({-E[neg][i]:g}) = {mirror[i]:g}; the "
                    "folded grid holds particle-hole symmetric states only (f(-E) = 1 - f(E)): give the rows E > 0",
                    name,
                )
        return InitialState(spec, "file", table=(E, f))
    raise InputError(f"{name} must be thermal, pulse:E0:WIDTH:AMPLITUDE or file:PATH (got {spec!r})", name)
