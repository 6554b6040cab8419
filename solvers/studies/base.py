"""Typed studies: one definition of every parameter and every result.

A *study* is one computation a user can ask for (``lambda-c``, ``stability``, ``evolve``, ...).  It is three
things, declared once in its own module under ``solvers/studies``:

``Params``
    a frozen dataclass whose fields are made with :func:`param`: the default, the unit, the allowed range
    or choices and the help text of every parameter.  Constructing one validates it (:meth:`Params.check`):
    bad input raises :class:`~ephkin.pde.errors.InputError` naming the parameter.
``run(params, *, progress=None, petsc_options=None) -> Result``
    the computation, calling the engines of ``solvers/`` and the physics of ``pde/``.
``Result``
    a dataclass (subclass of :class:`Result`) with ``status``, ``message``, scalars whose fields carry a
    unit, numpy arrays for plots (fields made with ``array=True``) and solver statistics; ``to_dict()`` and
    ``to_json()`` give the JSON of the command line.

Everything else is generated from these: the command-line flags and their help (``solvers/cli``), the
run-file schema and its validation (:meth:`Params.from_mapping`), a sweep point's identity
(:meth:`Params.identity`) and the Python API (``ephkin.solvers.api``).  See docs/adding-a-command.md.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import NDArray

from ephkin.pde.errors import MAGNITUDE, InputError  # MAGNITUDE: the bound of every number a user gives

__all__ = ["param", "out", "Params", "Result", "Study", "ParamInfo", "Progress", "Array", "solver_failures"]

#: A real array of a result (energies, distributions, eigenvectors).
Array = NDArray[np.float64]

#: A progress callback: one line of text (the command line prints it on stderr, rank 0 only).
Progress = Callable[[str], None]

_MISSING: Any = dataclasses.MISSING


def param(
    default: Any = _MISSING,
    *,
    help: str,
    unit: str | None = None,
    positive: bool = False,
    nonnegative: bool = False,
    choices: tuple[Any, ...] | None = None,
    allow_inf: bool = False,
    flag: str | None = None,
    metavar: str | tuple[str, ...] | None = None,
    const: Any = None,
    cli: bool = True,
    objects: bool = False,
) -> Any:
    """A field of a :class:`Params` dataclass, with everything the flags, run files and docs need.

    Parameters
    ----------
    default
        The default value; omit it for a required parameter.  Mutable defaults are not allowed (use tuples).
    help
        One sentence for ``--help``, the run-file schema and the API docstring (without the default).
    unit
        The unit of a number ("g" for energies/temperatures in units of g, "1/Gamma_eph", "W", ...).
    positive, nonnegative
        Range checks, applied to every element of a tuple; ``None`` (not given) is never checked.
    choices
        The allowed values.
    allow_inf
        A float that may be ``inf`` (given as ``inf`` on the command line and in run files).
    flag
        The command-line flag when it is not ``--`` + the name with ``_`` -> ``-``.
    metavar, const
        As in :mod:`argparse` (``const``: the value of a bare flag whose value is optional).
    cli
        False for parameters that only the Python API takes (callables, objects).
    objects
        A string parameter that also takes Python objects from the API (a ``pde.spectra`` shape for a
        spectrum spec); the identity of such a value is its ``str``.
    """
    meta = {
        "help": help,
        "unit": unit,
        "positive": positive,
        "nonnegative": nonnegative,
        "choices": choices,
        "allow_inf": allow_inf,
        "flag": flag,
        "metavar": metavar,
        "const": const,
        "cli": cli,
        "objects": objects,
    }
    if isinstance(default, (list, dict, set)):
        raise TypeError("param: use a tuple, not a mutable default")
    return dataclasses.field(default=default, metadata=meta)


def out(
    *,
    unit: str | None = None,
    help: str = "",
    array: bool = False,
    omit_none: bool = True,
    default: Any = None,
    key: str | None = None,
) -> Any:
    """A field of a :class:`Result` dataclass.

    ``unit``: the unit of the value (reported by :meth:`Result.units`); ``array``: a numpy array or other
    object for plots and tables, left out of ``to_dict()`` (the JSON); ``omit_none``: a value of None is
    left out of ``to_dict()`` (the entry does not apply to this run); ``key``: the name in ``to_dict()`` when
    it is not the field's (``lam`` -> "lambda", a Python keyword)."""
    meta = {"unit": unit, "help": help, "array": array, "omit_none": omit_none, "key": key}
    if isinstance(default, (list, dict)):
        factory: Callable[[], Any] = lambda: type(default)(default)  # noqa: E731  (a fresh copy per result)
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    """Everything about one parameter of a study, read from its :func:`param` field."""

    name: str
    type: Any  # the resolved annotation
    base: type  # float, int, str or bool (the element type of a tuple)
    default: Any  # dataclasses.MISSING when required
    optional: bool  # None allowed
    nargs: int | str | None  # None: a scalar; an int: a fixed-length tuple; "+": a tuple of any length
    meta: Mapping[str, Any]

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    @property
    def flag(self) -> str:
        return self.meta["flag"] or "--" + self.name.replace("_", "-")

    @property
    def help(self) -> str:
        return str(self.meta["help"])

    @property
    def unit(self) -> str | None:
        unit: str | None = self.meta["unit"]
        return unit


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(type without None, whether None is allowed) of an annotation."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return tp, False


def _describe(name: str, tp: Any, f: dataclasses.Field[Any]) -> ParamInfo:
    inner, optional = _unwrap(tp)
    nargs: int | str | None = None
    base = inner
    if typing.get_origin(inner) is tuple:
        args = typing.get_args(inner)
        if len(args) == 2 and args[1] is Ellipsis:
            nargs, base = "+", args[0]
        else:
            nargs, base = len(args), args[0]
    if base not in (float, int, str, bool):
        raise TypeError(f"parameter {name}: unsupported type {tp!r}")
    default = f.default if f.default is not _MISSING else _MISSING
    return ParamInfo(name, tp, base, default, optional, nargs, f.metadata)


T = TypeVar("T", bound="Params")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """Base class of every study's parameters (a frozen, keyword-only dataclass).

    Subclasses declare their fields with :func:`param` and may override :meth:`check_more` for conditions
    between fields.  Instances are validated when constructed."""

    def __post_init__(self) -> None:
        self.check()

    # -- the schema -------------------------------------------------------------------------------------------
    @classmethod
    def info(cls) -> tuple[ParamInfo, ...]:
        """The parameters, in declaration order."""
        cached = cls.__dict__.get("_info_cache")
        if cached is None:
            hints = typing.get_type_hints(cls)
            cached = tuple(_describe(f.name, hints[f.name], f) for f in dataclasses.fields(cls))
            setattr(cls, "_info_cache", cached)  # noqa: B010  (a class attribute the dataclass does not declare)
        return cached

    @classmethod
    def schema(cls) -> dict[str, dict[str, Any]]:
        """The run-file and JSON schema: name -> type, default, unit, choices, help."""
        out: dict[str, dict[str, Any]] = {}
        for p in cls.info():
            entry = {
                "type": (f"tuple[{p.base.__name__}]" if p.nargs else p.base.__name__)
                + (" | None" if p.optional else ""),
                "help": p.help,
            }
            if not p.required:
                entry["default"] = _plain(p.default)
            else:
                entry["required"] = True
            for key in ("unit", "choices"):
                if p.meta[key] is not None:
                    entry[key] = list(p.meta[key]) if key == "choices" else p.meta[key]
            out[p.name] = entry
        return out

    # -- validation -------------------------------------------------------------------------------------------
    def check(self) -> None:
        """Validate every field against its declaration (type, finiteness, sign, choices), then
        :meth:`check_more`.  Raises InputError naming the parameter."""
        for p in self.info():
            value = getattr(self, p.name)
            if value is None:
                if not p.optional:
                    raise InputError(f"{p.name} is required; give a value", p.name)
                continue
            values = value if p.nargs else (value,)
            if p.nargs and not isinstance(value, tuple):
                raise InputError(f"{p.name} must be a list of numbers (got {value!r})", p.name)
            if isinstance(p.nargs, int) and len(values) != p.nargs:
                raise InputError(f"{p.name} takes {p.nargs} values (got {len(values)})", p.name)
            if p.nargs == "+" and not values:
                raise InputError(f"{p.name} needs at least one value", p.name)
            for v in values:
                _check_value(p, v)
        self.check_more()

    def check_more(self) -> None:
        """Conditions between fields (override); raise InputError naming the parameter."""

    # -- construction -----------------------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls: type[T], values: Mapping[str, Any], where: str = "") -> T:
        """Parameters from a mapping (a run-file point, JSON): keys as field names or flags without dashes
        (``T_in``, ``T-in``); values converted to the declared types.  Unknown keys and wrong types raise
        InputError naming the key (prefixed by ``where``)."""
        known = {p.name: p for p in cls.info() if p.meta["cli"]}
        kw: dict[str, Any] = {}
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in known:
                raise InputError(f"{where}unknown parameter {key!r} (known: {', '.join(sorted(known))})", name)
            kw[name] = _convert(known[name], value, where)
        for p in cls.info():
            if p.required and p.name not in kw:
                raise InputError(f"{where}{p.name} is required; give a value", p.name)
        return cls(**kw)

    def replace(self: T, **changes: Any) -> T:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every parameter (defaults included) as plain JSON values: the provenance of a result."""
        return {p.name: _plain(getattr(self, p.name)) for p in self.info() if p.meta["cli"]}

    def identity(self) -> str:
        """A sweep point's identity: the canonical JSON of :meth:`to_dict` (two points are the same
        computation exactly when their identities are equal)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def _check_value(p: ParamInfo, v: Any) -> None:
    name, meta = p.name, p.meta
    if p.base is bool:
        if not isinstance(v, bool):
            raise InputError(f"{name} must be true or false (got {v!r})", name)
        return
    if p.base in (int, float):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise InputError(f"{name} must be a number (got {v!r})", name)
        if p.base is int and int(v) != v:
            raise InputError(f"{name} must be an integer (got {v!r})", name)
        if math.isnan(v) or (math.isinf(v) and not (meta["allow_inf"] and v > 0)):
            raise InputError(f"{name} must be finite (got {v!r})", name)
        size = abs(float(v))
        if math.isfinite(size) and size != 0 and not 1.0 / MAGNITUDE <= size <= MAGNITUDE:
            raise InputError(
                f"{name} = {v!r} is outside the numbers ephkin computes with (magnitude 1e-100 to "
                "1e100); give a physical value",
                name,
            )
        if meta["positive"] and not v > 0:
            raise InputError(f"{name} must be > 0 (got {v!r}); give a positive value", name)
        if meta["nonnegative"] and not v >= 0:
            raise InputError(f"{name} must be >= 0 (got {v!r}); give a value >= 0", name)
    elif not isinstance(v, str) and not meta["objects"]:
        raise InputError(f"{name} must be a string (got {v!r})", name)
    if meta["choices"] is not None and v not in meta["choices"]:
        raise InputError(f"{name} must be one of {', '.join(map(str, meta['choices']))} (got {v!r})", name)


def _convert(p: ParamInfo, value: Any, where: str) -> Any:
    """A run-file / JSON value as the declared type (ints for floats, "inf" for allow_inf floats, lists for
    tuples); anything else is left for :meth:`Params.check` to reject."""

    def one(v: Any) -> Any:
        if p.base is float and isinstance(v, str) and p.meta["allow_inf"]:
            if v.strip().lower() in ("inf", "infinity"):
                return math.inf
            try:  # a number beside "inf" in a run file's list is a string too (zeta = ["2", "20", "inf"])
                return float(v)
            except ValueError:
                return v
        if p.base is float and isinstance(v, int) and not isinstance(v, bool):
            return float(v)
        return v

    if value is None:
        return None
    if p.nargs:
        if not isinstance(value, (list, tuple)):
            value = [value] if p.nargs == "+" else value
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where}{p.name} takes {p.nargs} values (got {value!r})", p.name)
        return tuple(one(v) for v in value)
    return one(value)


def _plain(v: Any) -> Any:
    """A parameter or result value as plain JSON (tuples -> lists, inf/nan -> strings, numpy -> Python)."""
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (np.floating, float)) and not isinstance(v, bool):
        f = float(v)
        return f if math.isfinite(f) else str(f)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if v is None or isinstance(v, (str, int, bool, float)):
        return v
    return str(v)  # an object given from Python (a spectrum shape): its description


def _py(v: Any) -> Any:
    """A result value with numpy scalars and arrays as Python numbers and lists (floats kept as they are)."""
    if isinstance(v, (tuple, list)):
        return [_py(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _py(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return _py(v.tolist())
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


@dataclasses.dataclass(kw_only=True)
class Result:
    """Base class of every study's result (cf. scipy's ``OdeResult``).

    Attributes
    ----------
    status : str
        The outcome in one word: "ok" for computations without a verdict; the physics verdict where there
        is one ("stable", "unstable", "relaxes", "runaway"); "solver_failed" when a solver stopped without
        converging or PETSc raised an error inside the solve (then the numbers are not physics; the command
        line exits with status 4).
    message : str
        One line saying what happened, for people (for "solver_failed": what to change).
    solver_reason : str or None
        With "solver_failed": PETSc's converged reason by name (``DIVERGED_NONLINEAR_SOLVE``), or
        "PETSc error N: ..." for an error inside the solve.
    stats : dict
        Solver statistics (steps, iterations, matrix-vector products, seconds).

    Subclasses add their own fields with :func:`out`; ``extra`` holds the entries a study reports only
    in some cases (diagnostics that depend on the path taken), which ``to_dict`` merges in.
    """

    status: str = out(help="outcome: ok, a physics verdict, or solver_failed", omit_none=False, default="ok")
    message: str = out(help="one line saying what happened", default="")
    solver_reason: str | None = out(help="why the solver failed: PETSc's converged reason by name (solver_failed)")
    stats: dict[str, Any] = out(help="solver statistics", default={})
    extra: dict[str, Any] = out(help="entries that apply to some runs only", default={})

    #: Keys of ``to_dict`` that come first (the parameters echoed by the command line), in order.
    _order: ClassVar[tuple[str, ...]] = ()

    def to_dict(self, arrays: bool = False) -> dict[str, Any]:
        """The result as plain JSON values: every field that applies (None-valued optional fields and, unless
        ``arrays``, the plot arrays left out), ``stats`` and ``extra`` merged in.  ``message`` is left out when
        empty."""
        d: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("stats", "extra"):
                continue
            v = getattr(self, f.name)
            if f.metadata.get("array") and not arrays:
                continue
            if v is None and f.metadata.get("omit_none", True):
                continue
            if f.name == "message" and not v:
                continue
            d[f.metadata.get("key") or f.name] = v if f.metadata.get("array") else _py(v)
        d.update({k: _py(v) for k, v in self.stats.items()})
        d.update({k: _py(v) for k, v in self.extra.items() if arrays or not k.startswith("_")})
        return d

    def absorb(self, values: dict[str, Any]) -> None:
        """Take an engine's result dict: entries that are fields of this result set the field, the others go
        to ``extra``."""
        names = {
            (f.metadata.get("key") or f.name): f.name
            for f in dataclasses.fields(self)
            if f.name not in ("stats", "extra")
        }
        for key, value in values.items():
            if key in names:
                setattr(self, names[key], value)
            else:
                self.extra[key] = value

    def to_json(self) -> str:
        """:meth:`to_dict` as one JSON object (non-finite numbers as null)."""
        from ..provenance import to_jsonable

        return json.dumps(to_jsonable(self.to_dict()))

    @classmethod
    def field_units(cls) -> dict[str, str]:
        """The unit of every field that has one (``energy``: units of g, or the spectrum's own unit with
        ``units="plain"``)."""
        return {
            f.metadata.get("key") or f.name: f.metadata["unit"]
            for f in dataclasses.fields(cls)
            if f.metadata.get("unit")
        }

    def __getitem__(self, key: str) -> Any:
        """``result["lambda_c"]``: a field (by its ``to_dict`` name), a statistic or an extra entry."""
        if key in self.extra:
            return self.extra[key]
        if key in self.stats:
            return self.stats[key]
        for f in dataclasses.fields(self):
            if key in (f.name, f.metadata.get("key")) and f.name not in ("stats", "extra"):
                v = getattr(self, f.name)
                if v is None and f.metadata.get("omit_none", True):
                    break  # does not apply to this run: absent, as from to_dict()
                return v
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


R = TypeVar("R", bound=Result)


def solver_failures(run: Callable[..., R]) -> Callable[..., R]:
    """Decorate a study's ``run``: a :class:`~ephkin.solvers.failures.SolverFailed` raised by an engine (an EPS
    that did not converge the pairs asked for, a TS that gave up) becomes the study's result with status
    "solver_failed", ``solver_reason`` and the suggestion as ``message`` (its other fields unset)."""
    import functools

    from ..failures import SOLVER_FAILED, SolverFailed

    result_cls: type[R] = typing.get_type_hints(run)["return"]

    @functools.wraps(run)
    def wrapped(*args: Any, **kwargs: Any) -> R:
        try:
            return run(*args, **kwargs)
        except SolverFailed as exc:
            return result_cls(status=SOLVER_FAILED, message=exc.message, solver_reason=exc.reason)

    return wrapped


@dataclasses.dataclass(frozen=True)
class Study:
    """A registered computation: its name (the command, "nac sigma"), parameters, run function, one-line
    help, the PETSc option prefixes its engines read and whether a run file may name it."""

    name: str
    params: type[Params]
    run: Callable[..., Result]
    help: str
    prefixes: tuple[str, ...] = ()
    epilog: str | None = None
    runfile: bool = True
    #: parameters the API function also takes by position, in order (``api.evolve("einstein", 1.0, 0.2, ...)``)
    positional: tuple[str, ...] = ()
