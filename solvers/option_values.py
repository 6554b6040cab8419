"""The values of the user's PETSc options, checked before any solve: a solver type that this PETSc/SLEPc build
does not have (``-kin_ts_type foo``, a PC type of an external package that was not built) and a number option
given something that is not a number (``-kin_ts_max_steps abc``) are bad input -- refused at once, with the
option and the valid choices, instead of failing inside every point of a sweep.

Types are looked up in PETSc's own registries (the ``PetscFunctionList`` of each class: ``TSList``, ``KSPList``,
``PCList``, ``SNESList``, ``SNESLineSearchList``; SLEPc's ``EPSList``, ``STList``, ``BVList``, ``DSList``,
``RGList``), which hold exactly the types this build can create -- petsc4py's ``PETSc.PC.Type`` also lists
types whose packages were not built (``hpddm``, ``spai`` in Debian's 3.18).  Where the library symbols cannot
be found, the petsc4py/slepc4py ``Type`` constants are used instead.  Options this module does not know are left
to PETSc (an error it raises while the solver is configured is still reported as bad input, ``solvers.cli``).
"""

from __future__ import annotations

import ctypes
import re

from ephkin.pde.errors import InputError

from .options import _is_petsc_option

__all__ = ["bad_option_value", "check_option_values", "rejected_option"]

#: Object kinds whose ``-PREFIX..._KIND_type`` values are checked: (library, registry, its initialiser,
#: petsc4py/slepc4py class holding the ``Type`` constants).  Longer kinds first (``snes_linesearch`` before
#: ``snes``).
_KINDS = {
    "snes_linesearch": ("petsc", "SNESLineSearchList", "SNESInitializePackage", ("PETSc", "SNES", "LineSearch")),
    "ts": ("petsc", "TSList", "TSInitializePackage", ("PETSc", "TS")),
    "ksp": ("petsc", "KSPList", "KSPInitializePackage", ("PETSc", "KSP")),
    "pc": ("petsc", "PCList", "PCInitializePackage", ("PETSc", "PC")),
    "snes": ("petsc", "SNESList", "SNESInitializePackage", ("PETSc", "SNES")),
    "eps": ("slepc", "EPSList", "EPSInitializePackage", ("SLEPc", "EPS")),
    "st": ("slepc", "STList", "STInitializePackage", ("SLEPc", "ST")),
    "bv": ("slepc", "BVList", "BVInitializePackage", ("SLEPc", "BV")),
    "ds": ("slepc", "DSList", "DSInitializePackage", ("SLEPc", "DS")),
    "rg": ("slepc", "RGList", "RGInitializePackage", ("SLEPc", "RG")),
}

#: How the messages name each kind.
_SHOWN = {"snes_linesearch": "SNES line search"}

#: Options that PETSc reads as integers (PetscOptionsGetInt), by the end of their name.
_INTEGER = (
    "max_steps", "max_it", "max_funcs", "max_fail", "max_reject", "max_snes_failures", "max_linear_solve_fail",
    "nev", "ncv", "mpd", "restart", "levels", "bdf_order", "lag_jacobian", "lag_preconditioner",
)  # fmt: skip
#: Options that PETSc reads as reals (PetscOptionsGetReal, or a comma-separated list of reals), by the end of
#: their name.
_REAL = (
    "rtol", "atol", "stol", "divtol", "dtol", "tol", "max_time", "dt", "time_step", "target", "dt_min", "dt_max",
    "safety", "reject_safety", "clip", "scale_solve_failed", "damping", "shift", "interval", "threshold",
)  # fmt: skip
#: The words PETSc reads in place of a number (case-insensitive; PetscOptionsStringToInt/Real).
_WORDS = {"default", "petsc_default", "decide", "petsc_decide", "determine", "petsc_determine"}
_INFINITY = {"infinity", "petsc_infinity", "-infinity", "-petsc_infinity", "inf", "-inf"}
_INT_RE = re.compile(r"^[+-]?\d+$")
_REAL_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _libraries():
    """{"petsc": CDLL, "slepc": CDLL} of the loaded libraries (the ones petsc4py/slepc4py use)."""
    libs = {}
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            for line in fh:
                path = line.split()[-1]
                for key in ("petsc", "slepc"):
                    if f"lib{key}" in path.rsplit("/", 1)[-1] and key not in libs:
                        libs[key] = ctypes.CDLL(path)
    except OSError:
        pass
    return libs


def _registered(kind):
    """The names of the ``kind`` types this build registered, or None when the registry cannot be read."""
    lib_key, registry, initialise, _ = _KINDS[kind]
    lib = _libraries().get(lib_key)
    petsc = _libraries().get("petsc")
    try:
        if lib is None or petsc is None or getattr(lib, initialise)() != 0:
            return None
        head = ctypes.c_void_p.in_dll(lib, registry)
        names, count = ctypes.POINTER(ctypes.c_char_p)(), ctypes.c_int(0)
        get = petsc.PetscFunctionListGet
        # PetscFunctionListGet(list, const char ***array, int *n): n counts the closing NULL too; the array is
        # PETSc-allocated and left to the process (a few pointers per checked option); the names are the registry's
        if get(head, ctypes.byref(names), ctypes.byref(count)) != 0:
            return None
        return sorted({names[i].decode() for i in range(count.value) if names[i] is not None})
    except (AttributeError, ValueError, OSError):
        return None


def _constants(kind):
    """The type names petsc4py/slepc4py declare for ``kind`` (may list types this build lacks), or None where
    they declare none (petsc4py 3.18 has no SNESLineSearch class)."""
    from .petsc_env import init_petsc

    modules = dict(zip(("PETSc", "SLEPc"), init_petsc()))
    module, *path = _KINDS[kind][3]
    cls = modules[module]
    for name in path + ["Type"]:
        cls = getattr(cls, name, None)
        if cls is None:
            return None
    return sorted({v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, str)})


def _type_kind(name):
    """The object kind of a ``..._type`` option name (without the dash), or None."""
    if not name.endswith("_type"):
        return None
    head = "_" + name[: -len("_type")]
    return next((k for k in _KINDS if head.endswith("_" + k)), None)


def _ends_with(name, words):
    return any(name == w or name.endswith("_" + w) for w in words)


def _number(value, integer):
    text = value.strip().lower()
    if text in _WORDS or (not integer and text in _INFINITY):
        return True
    return bool((_INT_RE if integer else _REAL_RE).match(text))


def _pairs(petsc_argv):
    """(option name without its dash, its value or None) of a PETSc argv."""
    out = []
    for i, tok in enumerate(petsc_argv):
        if _is_petsc_option(tok):
            nxt = petsc_argv[i + 1] if i + 1 < len(petsc_argv) else None
            out.append((tok[1:], None if nxt is None or _is_petsc_option(nxt) else nxt))
    return out


def bad_option_value(petsc_argv):
    """(option, value, reason) for the first option of ``petsc_argv`` whose value this PETSc cannot take -- an
    unregistered solver type (the reason names the valid ones) or a non-number for a number option -- else None.
    PETSc must be initialised (``petsc_env.init_petsc``)."""
    for name, value in _pairs(petsc_argv):
        kind = _type_kind(name)
        if kind is not None:
            shown = _SHOWN.get(kind, kind.upper())
            known = _registered(kind)
            valid = known if known is not None else _constants(kind)
            if valid is not None and value not in valid:
                build = " of this PETSc/SLEPc build" if known is not None else ""
                return name, value or "", f"no such {shown} type{build}; choose one of {', '.join(valid)}"
        elif _ends_with(name, _INTEGER) or _ends_with(name, _REAL):
            integer = _ends_with(name, _INTEGER)
            items = (value or "").split(",")
            if not all(_number(v, integer) for v in items):
                return name, value or "", f"not {'an integer' if integer else 'a number'}; give one"
    return None


def check_option_values(petsc_argv, label=None):
    """Raise InputError for the first option of ``petsc_argv`` whose value this PETSc cannot take (see
    :func:`bad_option_value`), naming it as ``label(name, value)`` does (default ``-name value``).  Starts
    PETSc (with no options of its own) when there are options to check."""
    if not any(_is_petsc_option(t) for t in petsc_argv):
        return
    from .petsc_env import init_petsc

    init_petsc()
    bad = bad_option_value(petsc_argv)
    if bad is not None:
        name, value, why = bad
        raise InputError(f"{label(name, value) if label else f'-{name} {value}'.rstrip()}: {why}")


def rejected_option(exc, petsc_opts):
    """The one-line message for a PETSc error caused by the user's PETSc options ``petsc_opts`` while a solver
    was configured (an unknown type, a value out of range, a word that is not one of an option's choices;
    ``solvers.failures.PETSC_INPUT_ERRORS``), or None for any other exception.  What :func:`check_option_values`
    cannot know before the solve is refused here, as bad input all the same."""
    from .failures import PETSC_INPUT_ERRORS

    if getattr(exc, "ierr", None) not in PETSC_INPUT_ERRORS or not petsc_opts:
        return None
    lines = [ln.strip(" [0]") for ln in str(exc).splitlines() if ln.strip()]
    what = lines[-1] if lines else f"PETSc error {exc.ierr}"
    pairs = [(o, v) for o, v in zip(petsc_opts, petsc_opts[1:] + [""]) if o.startswith("-") and v and v[0] != "-"]
    given = [f"{o} {v}" for o, v in pairs if v in what] or [f"{o} {v}" for o, v in pairs if o.endswith("_type")]
    given = given or [" ".join(petsc_opts)]
    if exc.ierr == 56:  # ERR_SUP: a solver that cannot work with this problem's set-up (lobpcg without ST precond)
        return f"PETSc cannot use the option {given[0]} here: {what}; drop it (use the default) or choose another type"
    return (
        f"PETSc rejected the option {given[0]}: {what}; fix the value (the valid types are listed by "
        "adding -help to the command)"
    )
