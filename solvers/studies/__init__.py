"""Typed studies: one module per computation, each a ``Params`` dataclass, a ``run`` function and a
``Result`` dataclass (``base.py``), declared as the module's ``STUDY``.  :data:`STUDIES` maps each command
name to its :class:`~.base.Study`; the command line (``solvers/cli``), run files, sweeps and the Python API
(``ephkin.solvers.api``) are generated from it.  A new module with a ``STUDY`` is found by itself
(docs/adding-a-command.md): adding a computation touches its study, its engine and one test."""

from __future__ import annotations

import importlib
import pkgutil

from .base import Params, Result, Study

__all__ = ["STUDIES", "Params", "Result", "Study", "study"]


def _discover() -> dict[str, Study]:
    found: dict[str, Study] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        st = getattr(module, "STUDY", None)
        if isinstance(st, Study):
            if st.name in found:
                raise RuntimeError(f"two studies named {st.name!r}: {found[st.name].run.__module__} and {info.name}")
            found[st.name] = st
    return found


#: Every study by its command name ("evolve", "nac sigma"): discovered on first use, so that a command that imports
#: its own study module (``from ephkin.solvers.studies import evolve``) does not import the others (start-up).
STUDIES: dict[str, Study]
_found: dict[str, Study] = {}


def __getattr__(name: str) -> dict[str, Study]:
    if name == "STUDIES":
        if not _found:
            _found.update(_discover())
        return _found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def study(name: str) -> Study:
    """The study of the command ``name``."""
    return __getattr__("STUDIES")[name]
