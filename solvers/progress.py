"""Progress of long engine phases, reported to whoever runs them (py-pde's progress tracker, scoped).

A study's run (or the command line) installs a sink with :func:`reporting`; engines call :func:`report` at the
start of each long phase and attach :func:`eps_monitor` to their SLEPc solves.  Nothing is printed here and
nothing at all happens without a sink (the API's default), so engines stay silent in notebooks unless asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("ephkin_progress", default=None)

#: Seconds between two reports of the same running solve (an EPS's iterations): often enough to show that a
#: long solve moves, rarely enough not to flood a batch log.
EVERY_S = 2.0


@contextmanager
def reporting(sink: Callable[[str], None] | None) -> Iterator[None]:
    """Engines' progress goes to ``sink`` (one line per call) within the block; None: silent."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def active() -> bool:
    return _SINK.get() is not None


def report(message: str) -> None:
    """One line of progress (the start of a long phase), if someone listens."""
    sink = _SINK.get()
    if sink is not None:
        sink(message)


def eps_monitor(label: str, nev: int) -> Callable[..., None] | None:
    """A SLEPc ``EPS.setMonitor`` callback reporting ``label``'s iterations and converged pairs at most every
    :data:`EVERY_S` seconds (None without a sink: no monitor, no cost)."""
    sink = _SINK.get()
    if sink is None:
        return None
    t0, last = time.monotonic(), [time.monotonic()]

    def monitor(eps: Any, its: int, nconv: int, eig: Any, err: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= EVERY_S:
            last[0] = now
            first = f", first unconverged error {err[nconv]:.1e}" if nconv < min(nev, len(err)) else ""
            sink(f"{label}: iteration {its}, {nconv} of {nev} converged{first} ({now - t0:.0f} s)")

    return monitor
