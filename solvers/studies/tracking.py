"""What a time-dependent study does besides integrating (py-pde's trackers): progress every tenth of the run,
and the time series written as the run goes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .base import Array, Progress


def tenth_reporter(progress: Progress | None, label: str) -> Callable[[float, float], None]:
    """``report(t, t_end)`` for an integrator: one line ``"<label>: t = ... / t_end"`` every tenth of t_end and
    at the end (nothing without ``progress``)."""
    last = {"t": -1.0}

    def report(t: float, t_end: float) -> None:
        if progress is not None and (t - last["t"] >= 0.1 * t_end or t >= t_end):
            last["t"] = t
            progress(f"{label}: t = {t:.4g} / {t_end:g}")

    return report


@contextmanager
def snapshots(
    xdmf_dir: str | None, grid: Array, chunk_s: float, E_units: str = "energy", t_units: str = "time"
) -> Iterator[Any]:
    """An XDMF/HDF5 time-series writer on ``grid`` into ``xdmf_dir`` (None without one), closed when the block
    ends, also on error: an HDF5 chunk is closed every ``chunk_s`` seconds, so a kill -9 loses at most that."""
    if xdmf_dir is None:
        yield None
        return
    from ..xdmf import SnapshotWriter

    writer = SnapshotWriter(xdmf_dir, grid, chunk_s=chunk_s, E_units=E_units, t_units=t_units)
    try:
        yield writer
    finally:
        writer.close()
