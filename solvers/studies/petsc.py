"""PETSc options owned by one study run (the dolfinx idiom): the user's options are set for the run, read by
the engines under the study's prefixes (``setFromOptions``), reported when unused, and removed in ``finally``
-- on success and on error -- so that nothing leaks into a later run in the same process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def petsc_scope(options: Sequence[str] | None, prefixes: Sequence[str]) -> Iterator[None]:
    """Push ``options`` (a PETSc argv such as ``["-kin_ts_type", "beuler"]``) for the block; on success warn
    about the ones no solver read (not under ``prefixes``); always remove them again.  No PETSc start-up when
    there are no options."""
    if not options:
        yield
        return
    from ..options import pop_options, push_options, report_unused
    from ..petsc_env import init_petsc

    PETSc, _ = init_petsc(["ephkin"])
    opts = list(options)
    names = [o[1:] for o in opts if o.startswith("-") and not o[1:2].isdigit()]
    present = PETSc.Options().getAll()  # (hasName would mark them used: unused ones would go unreported)
    if names and all(n in present for n in names):
        # already set by the caller for several runs (a run file's [petsc] table, owned by run/sweep):
        # the caller reports and removes them
        yield
        return
    push_options(PETSc, opts)
    try:
        yield
        report_unused(opts, list(prefixes))
    finally:
        pop_options(PETSc, opts)
