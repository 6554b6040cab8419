"""Command-line flags generated from a study's ``Params`` (``solvers/studies/base.py``): one flag per
field, with the field's type, default, choices, unit and help.  No computation here."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..studies.base import ParamInfo, Params, Study
from .common import finite, nonnegative_or_inf, params_from_args  # noqa: F401  (re-exported)


def _fmt_default(v: Any) -> str:
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:g}"
    if isinstance(v, tuple):
        return " ".join(_fmt_default(x) for x in v)
    return str(v)


def help_text(p: ParamInfo) -> str:
    """The field's help with its unit and default, as ``--help`` prints it."""
    text = p.help
    if p.unit and "units of" not in text:
        text += f" [{p.unit}]"
    if not p.required and p.default is not None and p.default is not False and "(default" not in text:
        text += f" (default {_fmt_default(p.default)})"
    return text


def add_params(parser: argparse.ArgumentParser, params: type[Params]) -> None:
    """One argparse argument per command-line field of ``params``."""
    for p in params.info():
        if not p.meta["cli"]:
            continue
        kw: dict[str, Any] = {"dest": p.name, "help": help_text(p)}
        if p.base is bool and p.optional:
            # tri-state (None: decide by the problem's size): --name / --no-name
            kw.update(action=argparse.BooleanOptionalAction, default=p.default)
        elif p.base is bool:
            kw.update(action="store_true", default=p.default)
        else:
            if p.base is float:
                kw["type"] = nonnegative_or_inf if p.meta["allow_inf"] else finite
            elif p.base is int:
                kw["type"] = int
            if p.meta["choices"] is not None:
                kw["choices"] = p.meta["choices"]
            if p.nargs is not None:
                kw["nargs"] = p.nargs
            if p.meta["const"] is not None:
                kw.update(nargs="?", const=p.meta["const"])
            if p.meta["metavar"] is not None:
                kw["metavar"] = p.meta["metavar"]
            if p.required:
                kw["required"] = True
            else:
                kw["default"] = p.default
        parser.add_argument(p.flag, **kw)


def add_study(
    sub: Any,
    study: Study,
    handler: Any,
    name: str | None = None,
    epilog: str | None = None,
    output: str = "summary.json, CSV tables and PNG plots",
) -> argparse.ArgumentParser:
    """The command of ``study``: its flags generated from the study's ``Params``, ``--json`` and ``-o``; the
    values are checked by constructing the ``Params`` before anything runs (and for every point of a run
    file before any point is computed).  ``handler(args)`` runs the study and writes the files."""
    from .common import add_command, add_output

    def validate(args: argparse.Namespace) -> None:
        params_from_args(study, args)

    p = add_command(
        sub,
        name or study.name.split()[-1],
        handler,
        study.help,
        study.prefixes,
        runfile=study.runfile,
        validate=validate,
        epilog=epilog or study.epilog,
    )
    p.set_defaults(study=study)
    add_params(p, study.params)
    add_output(p, output)
    return p


def petsc_for(args: argparse.Namespace) -> list[str] | None:
    """The PETSc options of the command (or of a run file's [petsc] table, which ``run``/``sweep`` have set
    around all points: the study's run then leaves them to its caller)."""
    return list(getattr(args, "petsc_options", None) or []) or None


def generic_handler(study: Study) -> Any:
    """The handler of a study no family module maps by hand: the result (``--json``), and with -o its
    summary.json and its 1-d arrays of equal length as one CSV table (``<command>.csv``)."""
    import dataclasses

    import numpy as np

    from .common import finish, output_dir, progress, write_csv

    def handler(args: argparse.Namespace) -> dict[str, Any]:
        params = params_from_args(study, args)
        out = output_dir(args.output)
        result = study.run(params, progress=progress, petsc_options=petsc_for(args))
        files = []
        if out:
            cols = {
                f.name: np.asarray(getattr(result, f.name))
                for f in dataclasses.fields(result)
                if f.metadata.get("array") and getattr(result, f.name) is not None
            }
            cols = {k: v for k, v in cols.items() if v.ndim == 1 and v.dtype.kind in "fiu"}
            sizes = {v.size for v in cols.values()}
            if cols and len(sizes) == 1:
                import os

                name = study.name.replace(" ", "_") + ".csv"
                files.append(write_csv(os.path.join(out, name), list(cols), zip(*cols.values())))
        return finish(args, result.to_dict(), files)  # type: ignore[no-any-return]

    return handler


def add_unmapped_studies(sub: Any, studies: dict[str, Study]) -> None:
    """Declare every study that no family module declared, with :func:`generic_handler` (a new study module is
    a command, a run-file model and an API function without touching the CLI)."""
    declared = set(sub.choices)
    for name, study in studies.items():
        words = name.split()
        if len(words) == 1 and name not in declared:
            add_study(sub, study, generic_handler(study))
        elif len(words) == 2 and words[0] in sub.choices:
            fam = sub.choices[words[0]]
            actions = next(a for a in fam._actions if isinstance(a, argparse._SubParsersAction))
            if words[1] not in actions.choices:
                add_study(actions, study, generic_handler(study))
