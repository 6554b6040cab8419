"""PETSc options on the ephkin command line: split, pass through, report unused.

Users tune solvers with ordinary PETSc options under the model's prefix, e.g.
``ephkin stability ... -stab_eps_type lobpcg -stab_st_type sinvert``.  Tokens
that look like PETSc options (one dash, then a letter and more word
characters) are taken out of the argument list before argparse sees it and
handed to PETSc; after the solve, options that no PETSc object read are
reported (PetscOptionsUsed), one line each, so a typo never passes silently.
:func:`petsc_options` does all of it around a block: push, report on success, pop always.
"""

from __future__ import annotations

import ctypes
import re
import sys
from contextlib import contextmanager

_PETSC_OPT = re.compile(r"^-[A-Za-z][A-Za-z0-9_]+$")
_OURS = {"-o", "-h"}


def _is_number(tok):
    """True for anything float() reads: -1e3, -.5, -inf, -nan, -Infinity (values, never option names)."""
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _is_petsc_option(tok):
    return bool(_PETSC_OPT.match(tok)) and tok not in _OURS and not _is_number(tok)


def split_petsc_options(argv):
    """Split ``argv`` into (ephkin arguments, PETSc options with their values).

    A token that reads as a number (``-1e3``, ``-.5``, ``-inf``, ``-nan``) is a value:
    it stays with the preceding ephkin option (``--T0 -inf`` is T0 = -inf, which the
    physics layer then rejects by name), or is the value of a preceding PETSc option.
    """
    ours, petsc = [], []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if _is_petsc_option(tok):
            petsc.append(tok)
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            if nxt is not None and not _is_petsc_option(nxt) and not nxt.startswith("--") and nxt not in _OURS:
                petsc.append(nxt)
                i += 1
        elif _is_number(tok) and tok.startswith("-") and ours and ours[-1].startswith("--") and "=" not in ours[-1]:
            # argparse takes "-inf", "-1e3", "-nan" for option names ("expected one argument"):
            # attach the value to its option, "--T0=-inf"
            ours[-1] = f"{ours[-1]}={tok}"
        else:
            ours.append(tok)
        i += 1
    return ours, petsc


def _libpetsc():
    """The already loaded libpetsc (same options database as petsc4py)."""
    with open("/proc/self/maps", encoding="utf-8") as fh:
        for line in fh:
            if "libpetsc" in line:
                return ctypes.CDLL(line.split()[-1])
    return None


def unused_options(petsc_argv):
    """The options in ``petsc_argv`` that no PETSc object has read (PetscOptionsUsed)."""
    names = [t for t in petsc_argv if _is_petsc_option(t)]
    if not names:
        return []
    try:
        lib = _libpetsc()
    except OSError:
        lib = None
    if lib is None:
        return []
    out = []
    for name in names:
        flg = ctypes.c_int(0)
        if lib.PetscOptionsUsed(None, name[1:].encode(), ctypes.byref(flg)) == 0 and not flg.value:
            out.append(name)
    return out


#: The first PETSc object under each engine prefix (``-stab_eps_nev``, ``-kin_ts_type``): an option under the
#: prefix without an object name most likely meant this one.
_FIRST_OBJECT = {"stab_": "eps_", "kin_": "ts_", "nac_": "ts_", "aval_": "snes_"}
#: Objects nested inside another under the same prefix: SLEPc's linear solves live in its spectral
#: transformation (``-stab_st_ksp_type``), so ``-stab_ksp_*`` is read by nothing.
_NESTED = {"stab_": {"ksp_": "st_ksp_", "pc_": "st_pc_"}}
#: Object names that may follow an engine prefix.
_OBJECTS = ("eps_", "st_", "bv_", "ds_", "rg_", "ts_", "snes_", "ksp_", "pc_", "mat_", "lc_", "count_", "slow_",
            "ts_adapt_", "snes_linesearch_")
#: Options PETSc reads when it starts or ends (PetscInitialize/PetscFinalize), not when a solver reads its prefix
#: (-log_view, -help, -options_left, -malloc_debug, -info, -version ...): given to PETSc's initialisation, kept
#: for the whole process, never reported as unused and never hinted.
_GLOBAL = ("help", "log_", "options_", "malloc", "info", "version", "memory_", "on_error", "fp_trap", "no_signal")


def split_global(petsc_argv):
    """(global options with their values, the solvers' options with theirs) of a PETSc argv."""
    glob, solvers, target = [], [], None
    for tok in petsc_argv:
        if _is_petsc_option(tok):
            target = glob if tok[1:].startswith(_GLOBAL) else solvers
        (target if target is not None else solvers).append(tok)
    return glob, solvers


def misplaced_hint(name, prefixes):
    """A guess at what an unused option ``name`` meant, ``" (did you mean -X?)"``, or ``""``."""
    rest = name.lstrip("-")
    if rest.startswith(_GLOBAL):
        return ""
    for p in prefixes:
        if rest.startswith(p):
            tail = rest[len(p):]
            for wrong, right in _NESTED.get(p, {}).items():
                if tail.startswith(wrong):
                    return f" (did you mean -{p}{right}{tail[len(wrong):]}?)"
            if not tail.startswith(_OBJECTS) and p in _FIRST_OBJECT:
                return f" (did you mean -{p}{_FIRST_OBJECT[p]}{tail}?)"
            return ""
    if prefixes and rest.startswith(_OBJECTS):  # the engine's prefix left out: -eps_nev for -stab_eps_nev
        return f" (did you mean -{prefixes[0]}{rest}?)"
    return ""


#: Every option :func:`report_unused` found unused in this process (``-options_left`` lists them again at exit).
REPORTED_UNUSED = []


def report_unused(petsc_argv, prefixes, stream=None):
    """Warn (one line each, on stderr) about PETSc options that were not used, with a guess at a misplaced one;
    return them."""
    stream = stream or sys.stderr
    bad = unused_options(petsc_argv)
    REPORTED_UNUSED.extend(bad)
    for name in bad:
        print(f"ephkin: warning: PETSc option {name} was not used (unknown, or not under the prefixes "
              f"{', '.join('-' + p for p in prefixes)} read by this command){misplaced_hint(name, list(prefixes))}",
              file=stream)
    return bad


def push_options(PETSc, petsc_argv):
    """Insert the options into PETSc's database (also when PETSc was initialised earlier in the process)."""
    if petsc_argv:
        PETSc.Options().insertString(" ".join(petsc_argv))


def pop_options(PETSc, petsc_argv):
    """Remove the options again, so that they cannot leak into a later solve in the same process."""
    opts = PETSc.Options()
    for name in petsc_argv:
        if _is_petsc_option(name):
            opts.delValue(name[1:])


@contextmanager
def option_defaults(prefix, defaults):
    """Push ``defaults`` ({key: value}) under ``prefix`` for the options the user did not set, and remove
    exactly those again on exit (the dolfinx ``fem/petsc.py`` idiom): call ``setFromOptions`` (and, for
    objects that read the database later, the solve) inside the block.  User values always win."""
    from .petsc_env import init_petsc

    PETSc, _ = init_petsc()
    opts, pushed = PETSc.Options(), []
    for key, val in (defaults or {}).items():
        if not opts.hasName(prefix + key):
            opts.setValue(prefix + key, val)
            pushed.append(prefix + key)
    try:
        yield
    finally:
        for name in pushed:
            opts.delValue(name)


class PushedOptions:
    """What :func:`petsc_options` yields: ``report`` (default True) -- set it False inside the block when the
    solves ran elsewhere (another rank of a sweep), so that no unused option is reported here."""

    def __init__(self, petsc_argv, prefixes, report):
        self.options, self.prefixes, self.report = list(petsc_argv or ()), tuple(prefixes or ()), report
        self.unused = []


@contextmanager
def petsc_options(petsc_argv, prefixes=(), report=True, stream=None, init_argv=("ephkin",)):
    """The user's PETSc options (``-stab_eps_type lobpcg`` ...) in PETSc's database for the duration of the block.

    Pushes ``petsc_argv`` (initialising PETSc with ``init_argv`` if needed; nothing, and no PETSc start-up, when
    there are none), yields a :class:`PushedOptions`, reports the options no PETSc object read (one line each
    on ``stream``, naming ``prefixes``; the names are kept in its ``unused``) when the block ends without an
    exception and its ``report`` is still True, and pops every pushed option in ``finally`` -- on success and
    on error alike, so none of them leaks into a later solve of the same process.
    """
    state = PushedOptions(petsc_argv, prefixes, report)
    if not state.options:
        yield state
        return
    from .petsc_env import init_petsc

    PETSc, _ = init_petsc(list(init_argv))
    try:
        push_options(PETSc, state.options)
        yield state
        if state.report:
            state.unused = report_unused(state.options, list(state.prefixes), stream)
    finally:
        pop_options(PETSc, state.options)
