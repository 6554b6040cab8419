"""Solver failures: a solve that PETSc/SLEPc could not finish is its own outcome, never physics.

A study's ``status`` is "solver_failed" (:data:`SOLVER_FAILED`) when a TS, SNES, KSP or EPS stopped
without converging or a PETSc error was raised inside its solve; the numbers are then not physics.  The
result carries PETSc's converged reason *by name* (``DIVERGED_NONLINEAR_SOLVE``, ``DIVERGED_ITS``), or for
a PETSc error its code and the last line of its message, in ``solver_reason``, and a one-line suggestion
in ``message``.  The command line exits with :data:`EXIT_SOLVER_FAILED` (4) for such a result.

An error that the user's own PETSc option causes while the solver is configured (an unknown type, a value
out of range, an eigensolver that cannot work with the problem's spectral transformation) is bad input
instead (exit 2, ``solvers.cli``): :data:`PETSC_INPUT_ERRORS` are its codes.

Engines raise :class:`SolverFailed` where the failure ends the computation (``nac``'s TS, an EPS), or
return the status themselves (``evolution``: the instability is a result; ``avalanche``: the SNES's
reason); the studies' ``run`` turn the exception into their result (``studies.base.solver_failures``).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXIT_SOLVER_FAILED",
    "PETSC_INPUT_ERRORS",
    "NOT_PHYSICS",
    "SOLVER_FAILED",
    "STOPPED_EARLY",
    "SolverFailed",
    "petsc_error_reason",
    "reason_name",
    "ts_failure",
]

#: ``Result.status`` of a solve that did not converge.
SOLVER_FAILED = "solver_failed"
#: ``Result.status`` of a time integration that stopped before t_end without a verdict (a step limit such as
#: -kin_ts_max_steps): what it reached is not a result.
STOPPED_EARLY = "stopped_early"
#: Statuses that are not physics: printed, but the command exits with EXIT_SOLVER_FAILED and a sweep records the
#: point as failed.
NOT_PHYSICS = frozenset({SOLVER_FAILED, STOPPED_EARLY})
#: Exit status of a command whose result has ``status == SOLVER_FAILED``.
EXIT_SOLVER_FAILED = 4
#: PETSc error codes that a wrong or incompatible option causes: ERR_SUP (56, e.g. an eigensolver that needs
#: another spectral transformation), ARG_WRONG (62), ARG_OUTOFRANGE (63), ARG_INCOMP (75), ERR_USER_INPUT (83, a
#: word that is not one of an option's choices: -kin_ts_exact_final_time foo), ARG_UNKNOWN_TYPE (86).
PETSC_INPUT_ERRORS = frozenset({56, 62, 63, 75, 83, 86})
#: TS types that integrate explicitly (they refuse the implicit form F(t, x, xdot) = 0 of a DAE).
EXPLICIT_TS = frozenset({"euler", "rk", "ssp", "mprk"})


class SolverFailed(Exception):
    """A solver stopped without converging: ``reason`` is PETSc's converged reason by name (or "PETSc
    error N: ..."), ``message`` one line with a suggestion."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{message} ({reason})")
        self.reason, self.message = reason, message


def reason_name(enum: Any, code: int) -> str:
    """The name of a converged reason ``code`` in a petsc4py/slepc4py ``ConvergedReason`` class
    (``PETSc.TS.ConvergedReason``, ``SLEPc.EPS.ConvergedReason`` ...); "reason N" when it has none."""
    names = [k for k, v in vars(enum).items() if not k.startswith("_") and v == code]
    # ITERATING/CONVERGED_ITERATING are aliases: the longer name says more
    return max(names, key=len) if names else f"reason {code}"


def petsc_error_lines(exc: Any) -> list[str]:
    """The lines of a PETSc error's message without the rank prefixes ("[0] ")."""
    out = []
    for ln in str(exc).splitlines():
        ln = ln.strip()
        if ln.startswith("[") and "]" in ln:
            ln = ln[ln.index("]") + 1 :].strip()
        if ln:
            out.append(ln)
    return out


def petsc_error_reason(exc: Any) -> str:
    """"PETSc error N: the last line of its message" for a ``PETSc.Error``."""
    lines = petsc_error_lines(exc)
    last = lines[-1] if lines else ""
    code = getattr(exc, "ierr", "?")
    return f"PETSc error {code}" + (f": {last}" if last and last != f"error code {code}" else "")


def ts_failure(PETSc: Any, ts: Any, exc: Any = None) -> tuple[str, str]:
    """(solver_reason, message) of a TS whose solve failed: ``exc`` a PETSc error raised inside ``TSSolve``
    (TS raises error 91 for a step that failed beyond its limits: its converged reason names why), or None
    for a negative converged reason."""
    prefix = "-" + (ts.getOptionsPrefix() or "")
    kind = ts.getType()
    r = ts.getConvergedReason()
    if exc is not None and not (getattr(exc, "ierr", None) == 91 and r < 0):
        text = " ".join(petsc_error_lines(exc))
        if getattr(exc, "ierr", None) == 75 and (kind in EXPLICIT_TS or "explicit ODE integrator" in text):
            return petsc_error_reason(exc), (
                f"the TS type {kind} is explicit; this DAE needs an implicit method: drop {prefix}ts_type or use "
                "bdf/beuler/theta"
            )
        return petsc_error_reason(exc), (
            f"PETSc failed inside the time integration; check the {prefix}ts_/{prefix}snes_/{prefix}ksp_ options"
        )
    name = reason_name(PETSc.TS.ConvergedReason, r)
    if name == "DIVERGED_NONLINEAR_SOLVE":
        snes = ts.getSNES()
        sr = snes.getConvergedReason()
        why = f" (last Newton solve: {reason_name(PETSc.SNES.ConvergedReason, sr)})" if sr < 0 else ""
        return name, (
            f"Newton failed on more steps than {prefix}ts_max_snes_failures allows{why}; check the "
            f"{prefix}snes_/{prefix}ksp_ options, or allow more failures"
        )
    if name == "DIVERGED_STEP_REJECTED":
        return name, (
            f"too many rejected steps in a row; loosen rtol/atol or allow more with {prefix}ts_max_reject"
        )
    return name, f"the time integration stopped ({name}); check the {prefix}ts_ options"
