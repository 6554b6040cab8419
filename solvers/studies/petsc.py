"""PETSc options owned by one study run (the dolfinx idiom): the user's options are set for the run, read by
the engines under the study's prefixes (``setFromOptions``), reported when unused, and removed in ``finally``
-- on success and on error (``solvers.options.petsc_options``) -- so that nothing leaks into a later run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

#: Option names a caller has set for several runs (a run file's [petsc] table around all its points): the
#: caller reports and removes them once, the runs leave them alone.
_OWNED: ContextVar[frozenset[str]] = ContextVar("ephkin_petsc_owned", default=frozenset())


def _names(options: Sequence[str]) -> frozenset[str]:
    return frozenset(o for o in options if o.startswith("-") and not o[1:2].isdigit() and o[1:2] != ".")


@contextmanager
def owned_by_caller(options: Sequence[str]) -> Iterator[None]:
    """Within the block, runs given ``options`` leave their setting, reporting and removal to the caller."""
    token = _OWNED.set(_names(options))
    try:
        yield
    finally:
        _OWNED.reset(token)


@contextmanager
def petsc_scope(options: Sequence[str] | None, prefixes: Sequence[str]) -> Iterator[None]:
    """``options`` (a PETSc argv such as ``["-kin_ts_type", "beuler"]``) for the block: set, reported when no
    solver read them (not under ``prefixes``), removed in ``finally`` -- unless a caller owns them
    (:func:`owned_by_caller`)."""
    from ..options import petsc_options

    opts = list(options or ())
    names = _names(opts)
    if names and names <= _OWNED.get():
        opts = []
    with petsc_options(opts, prefixes):
        yield


def wants_petsc(options: Sequence[str] | None, prefixes: Sequence[str]) -> bool:
    """True when the user tunes or asks about a PETSc solver (an option under one of ``prefixes``, or ``-help``):
    an "auto" solver choice then takes the PETSc path, whose options are read (and listed by -help)."""
    if any(o == "-help" or any(o.startswith("-" + p) for p in prefixes) for o in options or ()):
        return True
    from ..petsc_env import initialised_with

    return bool(initialised_with("help"))  # `ephkin ... -help`: PETSc was started with it
