"""What ``nac sigma`` and ``nac evolve`` share (seed 001, docs/theory.md sections 7, 8): the band, the bath and the
phonon parameters of Eqs. (2)-(7), and the head of both results (the model's parameters).  Energies are in units
of the bandwidth W, times in 1/Gamma_eph."""

from __future__ import annotations

import dataclasses
from typing import Any

from ephkin.pde.errors import InputError

from .base import Params, Result, out, param
from .common import check_readable

#: Unit of energies and temperatures (the bandwidth W) and of times (1/Gamma_eph) in seed 001.
W = "W"
TIME = "1/Gamma_eph"

DOS_HELP = "semicircle[:W=1] (the trial DoS) | cosine[:tau=const|dos,eta=0.05] | cubic[:nk=32] | file:PATH"


#: Memory per unit of ``refine`` of the NAC energy grid (bytes; see BandParams.check_more).
NAC_BYTES_PER_REFINE = 360e3


@dataclasses.dataclass(frozen=True, kw_only=True)
class BandParams(Params):
    """The band, the bath and the phonon of Eqs. (2)-(7) (both ``nac`` actions)."""

    dos: str = param("semicircle", help=DOS_HELP, metavar="DOS")
    mu: float | None = param(None, unit=W, help="chemical potential mu (or --filling)")
    filling: float | None = param(None, help="band filling in (0, 1) (default 0.5)")
    T: float = param(0.003, unit=W, positive=True, help="bath and initial temperature T")
    omega_p: float = param(unit=W, positive=True, help="phonon energy omega_p")
    gamma_in: float = param(0.0, unit="Gamma_eph", nonnegative=True, help="inelastic rate Gamma_in, Eq. (6)")
    field: float = param(0.0, unit=W, help="DC field F = eEv_F sqrt(tau_tr/Gamma_eph), Eq. (7)")
    delta_omega: float = param(0.0, unit=W, nonnegative=True, help="dispersive phonon width, Eq. (52)")
    refine: float = param(1.0, positive=True, help="energy-grid density factor")
    rtol: float = param(1e-8, positive=True, help="TS relative tolerance")

    def check_more(self) -> None:
        if self.filling is not None and not 0 < self.filling < 1:
            raise InputError(f"filling must lie in (0, 1) (got {self.filling}); e.g. 0.5 for half filling", "filling")
        if self.filling is not None and self.mu is not None:
            raise InputError("give either mu or filling, not both", "mu")
        check_readable("dos", self.dos)
        from .common import require_memory

        # measured with the trial DoS (omega_p = 0.5, mu = 0): refine 10^3 -> 253 MB, 10^4 -> 1.8 GB, i.e. about
        # 180 kB per unit of refine; twice that covers the evolution's history and other DoS
        require_memory(
            "refine",
            NAC_BYTES_PER_REFINE * self.refine,
            f"the energy grid with refine = {self.refine:g}",
            "give a smaller refine",
        )

    def band(self) -> dict[str, Any]:
        """The keywords of ``solvers.nac.make_model`` besides omega_p."""
        return dict(
            dos=self.dos,
            mu=self.mu,
            filling=self.filling,
            T=self.T,
            gamma_in=self.gamma_in,
            field=self.field,
            delta_omega=self.delta_omega,
            refine=self.refine,
        )


@dataclasses.dataclass(kw_only=True)
class BandResult(Result):
    """The model's parameters at the head of every ``nac`` result (``solvers.nac.describe``)."""

    dos: str = out(help="the band's DoS")
    omega_p: float = out(unit=W, help="phonon energy")
    T: float = out(unit=W, help="bath temperature")
    mu: float = out(unit=W, help="chemical potential")
    filling: float = out(help="band filling")
    gamma_in: float = out(unit="Gamma_eph", help="inelastic rate Gamma_in")
    field: float = out(unit=W, help="DC field F of Eq. (7)")
    delta_omega: float = out(unit=W, help="dispersive phonon width")
    N: float = out(help="particle number int D f")
