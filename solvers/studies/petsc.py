"""PETSc options owned by one study run (the dolfinx idiom): the user's options are set for the run, read by
the engines under the study's prefixes (``setFromOptions``), reported when unused, and removed in ``finally``
-- on success and on error (``solvers.options.petsc_options``) -- so that nothing leaks into a later run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def petsc_scope(options: Sequence[str] | None, prefixes: Sequence[str]) -> Iterator[None]:
    """``options`` (a PETSc argv such as ``["-kin_ts_type", "beuler"]``) for the block.  Options that a caller
    has already set for several runs (a run file's [petsc] table, set by ``run``/``sweep`` around all its
    points) are left to that caller, which reports and removes them once."""
    from ..options import petsc_options

    opts = list(options or ())
    if opts:
        from ..petsc_env import init_petsc

        PETSc, _ = init_petsc(["ephkin"])
        present = PETSc.Options().getAll()  # (hasName would mark them used: unused ones would go unreported)
        names = [o[1:] for o in opts if o.startswith("-") and not o[1:2].isdigit()]
        if names and all(n in present for n in names):
            opts = []
    with petsc_options(opts, prefixes):
        yield
