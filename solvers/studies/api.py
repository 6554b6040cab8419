"""The Python API generated from the studies: one function per study, ``f(*positional, **params) -> Result``,
with a signature and a numpydoc docstring (Parameters, Returns) made from the study's ``Params`` and
``Result`` declarations -- so ``help(api.evolve)`` cannot disagree with the command line."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

from ephkin.pde.errors import InputError

from .base import Result, Study


def _type_name(tp: Any) -> str:
    text = str(tp).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace(" | None", " or None").replace("NoneType", "None")


def _run_keywords(study: Study) -> list[inspect.Parameter]:
    """The keyword-only arguments of ``study.run`` besides ``params`` (progress, petsc_options, hooks)."""
    sig = inspect.signature(study.run)
    return [p for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]


_RUN_DOCS = {
    "progress": "called with one line of text as the computation goes (e.g. ``print``); None: silent",
    "petsc_options": "PETSc options for this run only, under the study's prefixes (e.g. ``['-kin_ts_type', "
    "'beuler']``); removed again afterwards, also on error",
    "on_step": "``on_step(t, values)`` at every accepted time step",
    "xdmf_dir": "a directory to write f(E, t) into as an XDMF/HDF5 time series as the run goes",
}


def docstring(study: Study) -> str:
    """The numpydoc docstring of the API function of ``study``."""
    lines = [study.help[0].upper() + study.help[1:] + ".", "", "Parameters", "----------"]
    hints = typing.get_type_hints(study.params)
    for p in study.params.info():
        default = "" if p.required else f", default {p.default!r}"
        lines.append(f"{p.name} : {_type_name(hints[p.name])}{default}")
        unit = f" [{p.unit}]" if p.unit else ""
        choices = f" One of {', '.join(map(repr, p.meta['choices']))}." if p.meta["choices"] else ""
        lines.append(f"    {p.help}{unit}.{choices}")
    for kw in _run_keywords(study):
        lines += [f"{kw.name} : optional", f"    {_RUN_DOCS.get(kw.name, '')}"]
    result_cls = typing.get_type_hints(study.run)["return"]
    lines += [
        "",
        "Returns",
        "-------",
        result_cls.__name__,
        "    " + " ".join((inspect.getdoc(result_cls) or "").split("\n\n")[0].split()),
    ]
    for f in dataclasses.fields(result_cls):
        key = f.metadata.get("key") or f.name
        unit = f" [{f.metadata['unit']}]" if f.metadata.get("unit") else ""
        kind = " (array, not in to_dict())" if f.metadata.get("array") else ""
        lines.append(f"    - ``{key}``{unit}{kind}: {f.metadata.get('help', '')}")
    lines += ["", "Raises", "------", "InputError", "    A parameter out of its range, naming the parameter."]
    return "\n".join(lines)


def api_function(study: Study, name: str) -> Callable[..., Result]:
    """``name(*args, **kw)``: the study's ``Params`` from the arguments (``study.positional`` also by
    position), then ``study.run``."""
    infos = {p.name: p for p in study.params.info()}
    run_kw = [p.name for p in _run_keywords(study)]

    def call(*args: Any, **kw: Any) -> Result:
        if len(args) > len(study.positional):
            raise TypeError(
                f"{name}() takes at most {len(study.positional)} positional arguments "
                f"({', '.join(study.positional)}); give the others by keyword"
            )
        for key, value in zip(study.positional, args):
            if key in kw:
                raise TypeError(f"{name}() got multiple values for argument {key!r}")
            kw[key] = value
        extra = {k: kw.pop(k) for k in run_kw if k in kw}
        unknown = set(kw) - set(infos)
        if unknown:
            raise TypeError(
                f"{name}() got unexpected keyword arguments {sorted(unknown)} (parameters: {', '.join(infos)})"
            )
        missing = [k for k, p in infos.items() if p.required and k not in kw]
        if missing:
            raise InputError(f"{missing[0]} is required; give a value", missing[0])
        values = {}
        for k, v in kw.items():
            if infos[k].nargs and isinstance(v, list):
                v = tuple(v)
            elif infos[k].nargs == "+" and v is not None and not isinstance(v, tuple):
                v = (v,)  # one value of a list parameter (api.lambda_c(spectrum, 0.18))
            values[k] = v
        from .. import progress

        with progress.reporting(extra.get("progress")):  # the engines' long phases go to the same callback
            return study.run(study.params(**values), **extra)

    params: list[inspect.Parameter] = []
    trailing_defaults = True
    for key in reversed(study.positional):  # a positional default is shown only when all after it have one
        p = infos[key]
        has = not p.required and trailing_defaults
        trailing_defaults = has
        params.insert(
            0,
            inspect.Parameter(
                key, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default if has else inspect.Parameter.empty
            ),
        )
    for p in infos.values():
        if p.name not in study.positional:
            params.append(
                inspect.Parameter(
                    p.name, inspect.Parameter.KEYWORD_ONLY, default=inspect.Parameter.empty if p.required else p.default
                )
            )
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None) for k in run_kw]
    call.__name__ = call.__qualname__ = name
    call.__doc__ = docstring(study)
    call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return call
