"""Continuing an earlier ``evolve -o DIR`` run (``evolve --restart DIR``): what was stored, and whether the new
run is the same problem.

An ``evolve -o DIR`` run leaves ``DIR/summary.json`` (its parameters under ``provenance.parameters``, written at
the start and kept while it runs; its ``status`` once finished) and ``DIR/f_E_t.h5``, the time series of f at
every accepted step (``solvers.xdmf``: ``/time``, ``/E``, ``/f``; after a kill -9 every closed chunk).  A
restart reads the parameters (:func:`read_run`), refuses a different problem (:func:`check_same`: only
``t_end`` -- and ``flush_every``, which only says how often files are closed -- may change), and replays the
stored steps row by row (:meth:`StoredRun.rows`, read lazily: the series never has to fit in memory) before the
integrator continues from the last one (``solvers.evolution.evolve(..., replay=...)``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ephkin.pde.errors import InputError

__all__ = ["RESTART_FREE", "StoredRun", "check_invocation", "check_petsc_options", "check_same", "read_run"]

#: Parameters a restart may change: the end time, the directory restarted from, and how often files are closed.
RESTART_FREE = ("t_end", "restart", "flush_every")
#: Defaults of parameters that runs written before they existed did not record.
_ABSENT = {"initial": "thermal", "restart": None}


class StoredRun:
    """What ``evolve -o DIR`` stored: ``parameters`` (provenance), ``status`` (None while running or after a
    kill), ``run_status``, ``time`` (every stored step), ``E`` (the grid) and the rows of f (:meth:`rows`)."""

    def __init__(self, directory: str, summary: dict[str, Any], time: np.ndarray, E: np.ndarray):
        self.directory, self.summary = directory, summary
        self.parameters: dict[str, Any] = dict(summary["provenance"]["parameters"])
        self.status: str | None = summary.get("status")
        self.run_status: str | None = summary.get("run_status")
        self.time, self.E = time, E
        self.h5_path = os.path.join(directory, "f_E_t.h5")

    def first(self) -> np.ndarray:
        """f at t = 0: the state the stored run started from."""
        import h5py

        with h5py.File(self.h5_path, "r") as h5:
            return np.asarray(h5["f"][0], dtype=float)

    def rows(self, block: int = 64) -> Iterator[tuple[float, np.ndarray]]:
        """(t, f) of every stored step in order, read ``block`` rows at a time."""
        import h5py

        with h5py.File(self.h5_path, "r") as h5:
            f = h5["f"]
            for lo in range(0, self.time.size, block):
                chunk = np.asarray(f[lo : lo + block], dtype=float)
                for i, row in enumerate(chunk):
                    yield float(self.time[lo + i]), row


def read_run(directory: str, name: str = "restart") -> StoredRun:
    """The run stored in ``directory`` (InputError, param ``name``, when it is not a usable ``evolve -o``
    directory: no summary.json with an evolve's parameters, no time series, a run that ended unstable or
    failed, or rows that are not finite)."""
    where = f"{name} {directory}"
    if not os.path.isdir(directory):
        raise InputError(f"{where}: no such directory; give the -o directory of an earlier evolve run", name)
    try:
        with open(os.path.join(directory, "summary.json"), encoding="utf-8") as fh:
            summary = json.load(fh)
        params = summary["provenance"]["parameters"]
        command = params["command"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            f"{where}: no summary.json with the parameters of an evolve run; give the -o directory of an earlier "
            "evolve run",
            name,
        ) from None
    if command != "evolve":
        raise InputError(f"{where}: the run stored there is '{command}', not evolve", name)
    status = summary.get("status")
    if status is not None and status != "stable":
        raise InputError(
            f"{where}: that run ended {status} at t = {summary.get('t_final')}; only a stable (or interrupted) "
            "run can be continued",
            name,
        )
    try:
        import h5py

        with h5py.File(os.path.join(directory, "f_E_t.h5"), "r") as h5:
            time, E = np.asarray(h5["time"], dtype=float), np.asarray(h5["E"], dtype=float)
            shape = h5["f"].shape
            last = np.asarray(h5["f"][-1], dtype=float) if shape[0] else None
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{where}: cannot read its time series f_E_t.h5 ({exc})", name) from None
    if time.size == 0 or last is None or shape != (time.size, E.size):
        raise InputError(f"{where}: its time series f_E_t.h5 holds no step to continue from", name)
    if not (np.all(np.isfinite(last)) and np.all(np.diff(time) > 0)):
        raise InputError(f"{where}: its time series is damaged (non-finite f or times not increasing)", name)
    return StoredRun(directory, summary, time, E)


def check_same(stored: StoredRun, current: dict[str, Any], name: str = "restart") -> None:
    """InputError (param ``name``) unless ``current`` (``Params.to_dict()``) is the stored run's problem: every
    parameter equal except :data:`RESTART_FREE`; and the new t_end beyond the last stored time."""
    old = {k: v for k, v in stored.parameters.items() if k not in ("command", "petsc_options")}
    for key, default in _ABSENT.items():
        old.setdefault(key, default)
    diff = [
        f"{k} = {old.get(k)!r} there, {current.get(k)!r} here"
        for k in sorted(set(old) | set(current))
        if k not in RESTART_FREE and old.get(k) != current.get(k)
    ]
    if diff:
        raise InputError(
            f"{name} {stored.directory}: a restart continues the same problem, and the parameters differ ("
            + "; ".join(diff)
            + "); only t_end may change",
            name,
        )
    t_last = float(stored.time[-1])
    if not current["t_end"] > t_last:
        raise InputError(
            f"{name} {stored.directory}: the stored run reached t = {t_last:g}; give t_end > {t_last:g}", name
        )


def check_petsc_options(stored: StoredRun, options: list[str] | None, name: str = "restart") -> None:
    """InputError unless the PETSc options (``-kin_...``) are those the stored run had (they set its solver)."""
    old = list(stored.parameters.get("petsc_options") or [])
    new = list(options or [])
    if old != new:
        raise InputError(
            f"{name} {stored.directory}: the stored run had the PETSc options {old or 'none'}, this one "
            f"{new or 'none'}; give the same",
            name,
        )


def check_invocation(directory: str, out: str | None, petsc_options: list[str] | None, name: str = "restart") -> None:
    """What the parameters alone do not say, checked before anything is written: the output directory ``out``
    is another than the one restarted from (the restarted run writes its whole series, the replayed steps and
    the new ones, while the stored one is read), and the PETSc options are the stored run's."""
    if out is not None and os.path.realpath(out) == os.path.realpath(directory):
        raise InputError(
            f"{name} {directory}: -o names the directory the run continues from; give a new -o directory "
            "(it receives the whole run: the stored steps and the new ones)",
            name,
        )
    check_petsc_options(read_run(directory, name), petsc_options, name)
