"""``avalanche replica``: the lattice avalanche criterion (docs/avalanche.md): lambda_lat(E) = 1 for the replica
map of the biased chain with Gamma-damped propagators (the seed's Eq. (10) on the lattice), beside the analytic
Eq. (11) at the lattice mass m = 1/2."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .avalanche_common import ENERGY, FIELD, BathParams, check_e_range
from .base import Progress, Result, Study, out, param


@dataclasses.dataclass(frozen=True, kw_only=True)
class AvalancheReplicaParams(BathParams):
    """Parameters of :func:`run` (``ephkin avalanche replica``)."""

    delta: float = param(1.0, unit=ENERGY, help="band bottom above the bath Fermi level")
    E_range: tuple[float, float, float] = param(
        (1e-4, 0.05, 16.0), unit=FIELD, metavar=("EMIN", "EMAX", "N"), help="log scan of fields: EMIN EMAX N"
    )
    generation: str = param(
        "band_edge",
        choices=("band_edge", "perron"),
        help="band_edge: ratio of the first two generations from a band-bottom source (the "
        "seed's Eq. (A6) construction, default); perron: spectral radius of the replica map",
    )

    def check_more(self) -> None:
        check_e_range(self.E_range, limit=10_000)  # a lattice replica map per point: ~0.1-1 s each


@dataclasses.dataclass(kw_only=True)
class AvalancheReplicaResult(Result):
    """Result of :func:`run`: the lattice and analytic avalanche fields; status "avalanche" (lambda_lat
    crosses 1 in the scan) or "no-avalanche" (``reason``)."""

    gamma: float = out(unit=ENERGY, help="bath dephasing rate")
    g_ep: float = out(unit=ENERGY, help="electron-phonon coupling")
    omega0: float = out(unit=ENERGY, help="phonon energy")
    delta: float = out(unit=ENERGY, help="band bottom above the bath Fermi level")
    T: float = out(unit=ENERGY, help="bath temperature")
    generation: str = out(help="band_edge or perron")
    E_av_lattice: float | None = out(unit=FIELD, omit_none=False, help="lower field with lambda_lat(E) = 1")
    E_av_upper_lattice: float | None = out(unit=FIELD, omit_none=False, help="upper field with lambda_lat(E) = 1")
    E_av_analytic: float | None = out(unit=FIELD, omit_none=False, help="E_av of Eq. (11) at m = 1/2")
    E_av_upper_analytic: float | None = out(unit=FIELD, omit_none=False, help="E_av_upper of Eq. (11) at m = 1/2")
    ratio_lattice_over_analytic: float | None = out(omit_none=False, help="E_av_lattice / E_av_analytic")
    scan: dict[str, Any] = out(default={}, help="E, lambda_lat of the scan (lists)")
    reason: str | None = out(help="why lambda_lat has no crossing in the scan")


def run(
    params: AvalancheReplicaParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> AvalancheReplicaResult:
    """The crossing of lambda_lat(E) = 1 on the log scan ``E_range``, and Eq. (11) beside it."""
    from ephkin.pde import avalanche as av
    from ephkin.pde import keldysh

    p = params
    lo, hi, num = p.E_range
    lat = keldysh.lattice_avalanche_field(
        p.gamma, p.g_ep, p.omega0, p.delta, lo, hi, n_scan=int(num), T=p.T, generation=p.generation
    )
    ana = av.criterion(0.5, p.g_ep, p.gamma, p.omega0, p.T)
    res = AvalancheReplicaResult(
        gamma=p.gamma,
        g_ep=p.g_ep,
        omega0=p.omega0,
        delta=p.delta,
        T=p.T,
        generation=p.generation,
        E_av_lattice=lat["E_av"],
        E_av_upper_lattice=lat["E_av_upper"],
        E_av_analytic=ana["E_av"],
        E_av_upper_analytic=ana["E_av_upper"],
        ratio_lattice_over_analytic=lat["E_av"] / ana["E_av"] if lat["E_av"] and ana["E_av"] else None,
        scan={"E": np.asarray(lat["E"]).tolist(), "lambda_lat": np.asarray(lat["ratio"]).tolist()},
        reason=lat.get("reason"),
    )
    if res.E_av_lattice is None:
        res.status, res.message = "no-avalanche", res.reason or "no crossing of lambda_lat = 1"
    else:
        res.status = "avalanche"
        ana_text = f"{res.E_av_analytic:.4g}" if res.E_av_analytic is not None else "no root"
        res.message = f"lambda_lat(E) = 1 at E = {res.E_av_lattice:.4g} (Eq. (11): {ana_text})"
    return res


STUDY = Study(
    "avalanche replica",
    AvalancheReplicaParams,
    run,
    "lattice avalanche criterion: lambda_lat(E) = 1 for the replica map of the chain with Gamma-damped "
    "propagators (Eq. (10) on the lattice), beside Eq. (11)",
    positional=("gamma", "g_ep", "omega0"),
)
