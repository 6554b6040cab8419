"""Progress of long engine phases, reported to whoever runs them (py-pde's progress tracker, scoped).

A study's run (or the command line) installs a sink with :func:`reporting`; engines call :func:`report` at the
start of each long phase and attach :func:`eps_monitor` to their SLEPc solves.  Nothing is printed here and
nothing at all happens without a sink (the API's default), so engines stay silent in notebooks unless asked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("ephkin_progress", default=None)

#: Seconds between two reports of the same running solve (an EPS's iterations), and how long a phase runs before
#: it is announced: often enough to show that a long solve moves, rarely enough not to flood a batch log.
#: EPHKIN_PROGRESS_EVERY overrides it (0: every report at once).
EVERY_S = float(os.environ.get("EPHKIN_PROGRESS_EVERY", "2.0"))


@contextmanager
def reporting(sink: Callable[[str], None] | None) -> Iterator[None]:
    """Engines' progress goes to ``sink`` (one line per call) within the block; None: silent.  A phase announced
    by :func:`report` is printed only once it has run for :data:`EVERY_S` seconds (a watcher thread), so quick
    commands print nothing and a refusal during a phase's set-up stays the only line."""
    token = _SINK.set(sink)
    watcher = _Watcher(sink) if sink is not None and EVERY_S > 0 else None
    _WATCHERS.append(watcher)
    try:
        yield
    finally:
        _WATCHERS.pop()
        if watcher is not None:
            watcher.stop()
        _SINK.reset(token)


class _Watcher:
    """Prints the current phase's line when it has lasted EVERY_S seconds (checked every tenth of that)."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        import threading

        self.sink, self.phase, self.since, self.shown = sink, None, 0.0, True
        self.lock, self.done = threading.Lock(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="ephkin-progress", daemon=True)
        self.thread.start()

    def announce(self, message: str) -> None:
        with self.lock:
            self.phase, self.since, self.shown = message, time.monotonic(), False

    def flush(self) -> None:
        """Print the pending phase now (a monitor is about to report inside it)."""
        with self.lock:
            if self.phase is not None and not self.shown:
                self.shown = True
                self.sink(self.phase)

    def _run(self) -> None:
        while not self.done.wait(EVERY_S / 10):
            with self.lock:
                if self.phase is not None and not self.shown and time.monotonic() - self.since >= EVERY_S:
                    self.shown = True
                    self.sink(self.phase)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=1.0)


_WATCHERS: list[_Watcher | None] = []


def active() -> bool:
    return _SINK.get() is not None


def report(message: str) -> None:
    """The start of a long phase, printed if it lasts (see :func:`reporting`), if someone listens."""
    sink = _SINK.get()
    if sink is None:
        return
    watcher = _WATCHERS[-1] if _WATCHERS else None
    if watcher is None:
        sink(message)
    else:
        watcher.announce(message)


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
            if _WATCHERS and _WATCHERS[-1] is not None:
                _WATCHERS[-1].flush()  # the phase this solve belongs to, first
            first = f", first unconverged error {err[nconv]:.1e}" if nconv < min(nev, len(err)) else ""
            sink(f"{label}: iteration {its}, {nconv} of {nev} converged{first} ({now - t0:.0f} s)")

    return monitor
