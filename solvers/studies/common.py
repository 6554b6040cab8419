"""Parameter groups that several studies share (declared once): the alpha^2F spectrum and its units, the
folded energy grid of the linear and kinetic problems, and e-e collisions."""

from __future__ import annotations

import dataclasses
from typing import Any

from ephkin.pde.errors import InputError
from ephkin.pde.syntax import ALPHA2F_HELP, P_EE_HELP  # the help texts alone: the parsers load scipy

from .base import Params, param

#: The alpha^2F spec syntax (``pde.spectra``), for help texts.
ALPHA2F_FORMS_HELP = f"alpha^2F: {ALPHA2F_HELP} (or, from Python, a pde.spectra shape)"
#: The energy unit of every study with a spectrum ("energy" in the units of a Result's fields).
UNITS_HELP = (
    "energy units: g (g = 1, frequencies scale with lambda; the default) or plain (the spectrum's own "
    "frequency unit; Einstein: units of Omega)"
)
#: The default transition probability P(omega) of the e-e collisions (Eq. (S22)).
P_EE_DEFAULT = "gaussian:0.3"
#: Unit label of energies and temperatures in results: g, or the spectrum's own unit with units="plain".
ENERGY = "energy"


def check_readable(name: str, spec: Any) -> None:
    """Raise InputError (param ``name``) unless the file of a ``file:PATH[:COL]`` spec is readable (the file is
    read when the study runs)."""
    if not isinstance(spec, str) or not spec.startswith("file:"):
        return
    import os

    path = spec[5:]
    if not os.path.isfile(path) and ":" in path:
        path = path.rsplit(":", 1)[0]  # file:PATH:COL
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        why = "no such file" if not os.path.exists(path) else "not a readable file"
        raise InputError(f"{name} {spec}: cannot read the file ({why}); give a readable text file", name)


def check_spectrum(value: Any, name: str = "spectrum") -> None:
    """A spectrum spec parses; a ``file:`` spec only needs a readable file here.  pde.spectra shapes (from
    Python) pass."""
    if not isinstance(value, str):
        return
    if value.startswith("file:"):
        check_readable(name, value)
        return
    from ephkin.pde.spectra import parse_spectrum

    parse_spectrum(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpectrumShapeParams(Params):
    """alpha^2F and the energy unit."""

    spectrum: str = param(help=ALPHA2F_FORMS_HELP, metavar="ALPHA2F", objects=True)
    units: str = param("g", help=UNITS_HELP, choices=("g", "plain"))

    def check_more(self) -> None:
        check_spectrum(self.spectrum)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpectrumParams(SpectrumShapeParams):
    """alpha^2F, the energy unit and the coupling."""

    lam: float | None = param(
        None,
        help="electron-phonon coupling lambda (default: the spectrum's own, 1 for built-in shapes)",
        positive=True,
        metavar="LAMBDA",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnergyGridParams(Params):
    """The folded energy grid (docs/theory.md section 1)."""

    refine: int = param(1, help="divide the default grid step by this integer", positive=True)
    grid_step: float | None = param(
        None, help="energy grid step eps (overrides the default)", unit=ENERGY, positive=True
    )
    cutoff: float | None = param(
        None,
        help="energy cutoff Lambda of the folded grid (default max(2 omega_max + 30 T0, 6 g))",
        unit=ENERGY,
        positive=True,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class KernelParams(Params):
    """The discretisation of the kernel of A (Eq. (S16)/(S20))."""

    kernel: str = param(
        "exact",
        choices=("exact", "paper"),
        help="kernel of A, Eq. (S16)/(S20): exact (the corrected discretisation, docs/kernel.md) "
        "or paper (the seed's, suppressed by eps^2; reproduces seed 000 Table S1 column 2)",
    )
    pv: str | None = param(
        None,
        choices=("subtracted", "dropped"),
        help="principal value at the kernel's poles: subtracted (pole subtracted analytically, "
        "third order; default for kernel exact) or dropped (the seed's rule, first order; "
        "default for kernel paper)",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ElectronElectronParams(Params):
    """Electron-electron collisions, Eq. (15) and (S22)-(S25)."""

    a_ee: float = param(
        0.0, nonnegative=True, help="weight a_ee of electron-electron collisions in Eq. (15) (0: e-ph only)"
    )
    p_ee: str = param(P_EE_DEFAULT, metavar="P", help=f"transition probability P(omega) of Eq. (S22): {P_EE_HELP}")

    def p_ee_object(self) -> Any:
        """The transition probability (None without e-e collisions)."""
        from ephkin.pde.electron_electron import make_p_ee

        return make_p_ee(self.p_ee) if self.a_ee > 0 else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimeSeriesParams(Params):
    """How a long time-dependent run is recorded as it goes (``studies/tracking.py``)."""

    flush_every: float = param(
        10.0,
        unit="s",
        positive=True,
        metavar="SECONDS",
        help="with -o: close the current HDF5 chunk of the time series, add it to the XDMF and rewrite summary.json "
        "every SECONDS of wall time -- at most this much is lost to a kill -9",
    )


#: Most points of a one-dimensional scan or table a command computes (``zinv --points``, ``avalanche curve
#: --E-range ... N``): ten million values of a closed form take minutes; beyond, a typo (1e9) would run for days.
MAX_SCAN = 10_000_000


def require_memory(param: str, estimate: float, what: str, advice: str) -> None:
    """Refuse (InputError naming ``param``) before allocating ``estimate`` bytes that exceed 80% of the memory
    this machine has available, with the estimate in the message."""
    from ..stability.common import check_memory

    check_memory(estimate, what, param, advice)


def require_scan(param: str, count: float, limit: int = MAX_SCAN) -> None:
    """Refuse a scan of ``count`` points above ``limit`` (InputError naming ``param``)."""
    if count > limit:
        raise InputError(
            f"{param}: {count:.0f} points, more than this command computes (at most {limit}); give fewer", param
        )
