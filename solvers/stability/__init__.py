"""Linear stability engines: inertia of A, lambda_c, and the gamma spectrum (seed 000 Eq. (14)).

One module per idea; every name is re-exported here (``from ephkin.solvers.stability import ...``), lazily: a
name's module is imported when the name is first asked for, so that the studies' help texts can read the limits
of :mod:`.common` without loading the engines (scipy.optimize, scipy.sparse, the linear problem):

* :mod:`.common` -- the option prefix ``-stab_``, size limits and tolerances, :func:`make_problem`, the
  memory check, the one KSP preonly + Cholesky (MUMPS) set-up (:func:`cholesky_ksp`);
* :mod:`.counting` -- the number of negative gamma (Sylvester's law, docs/theory.md §3): LDL^T inertia of
  A_hat (LAPACK or MUMPS; above DENSE_MAX the window split), Cholesky certificates, spectrum slicing,
  :func:`count_unstable`;
* :mod:`.window` -- A_hat split at the window where it is indefinite (Haynsworth): the exact inertia and A_hat^-1
  above DENSE_MAX from FFT products, no L x L matrix (:class:`AhatWindow`);
* :mod:`.smallest` -- mu_min(A_hat): matrix-free SLEPc on the FFT shell (:func:`ahat_shell`), or dense LAPACK;
* :mod:`.lambda_c` -- the root lambda_c of mu_min(lambda) (Newton + inertia check, or bisection), and on a
  graded grid;
* :mod:`.continuum` -- the continuous spectrum of a continuous alpha^2F: its edges, the discrete modes below;
* :mod:`.matrix_free` -- the slow modes (gamma nearest 0) matrix-free, ladder null modes deflated;
* :mod:`.shift_invert` -- gamma near a target, the unstable gamma and the poles (largest |gamma|, above DENSE_MAX
  too, A_hat^-1 by the window split) by shift-and-invert (options ``-stab_``, ``-stab_unstable_``, ``-stab_pole_``);
* :mod:`.dense` -- every gamma by dense LAPACK (reference, small L);
* :mod:`.residual` -- the backward error of a computed eigenpair of Eq. (14), the same on every path;
* :mod:`.summary` -- what the stability command reports, matrix-free or dense, one result dict.

All PETSc objects are created on the point's communicator (``solvers.bridge.comm``: COMM_SELF, or a rank group
of ``ephkin sweep --group-size K``), inside the ``try`` whose ``finally`` destroys them.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The names each submodule exports, in the order of the list above.
_EXPORTS = {
    "common": ("PREFIX", "DENSE_MAX", "SUMMARY_DENSE_MAX", "LC_DENSE_MAX", "NULL_TOL", "NULL_GAMMA_REL",
               "GAMMA_TARGET_REL", "DAVIDSON_GAP", "CONTINUUM_MARGIN", "CONTINUUM_KEYS", "RESIDUAL_TOL",
               "make_problem", "check_memory", "cholesky_ksp"),
    "counting": ("inertia", "positive_definite", "one_negative", "count_unstable", "n_negative_slicing",
                 "window_report"),
    "window": ("WINDOW_MEM_MAX", "AhatWindow", "window_fits"),
    "smallest": ("SmallestEigenvalue", "DenseSmallest", "mu_min_dense", "ahat_shell"),
    "lambda_c": ("lambda_c_linear", "lambda_c_graded", "initial_size"),
    "continuum": ("continuum_edges", "discrete_gammas", "discrete_mask", "n_discrete"),
    "matrix_free": ("slow_modes", "slow_modes_memory", "m_null_space"),
    "shift_invert": ("gamma_spectrum", "unstable_gammas", "pole_gammas"),
    "dense": ("gamma_dense", "m_definite", "dense_refusal", "nonzero_gammas"),
    "residual": ("pencil_norms", "eigen_residuals", "flagged"),
    "summary": ("dense_summary", "stability_summary"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    """A re-exported name, from its submodule (imported now, once: the value is kept in this namespace)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
