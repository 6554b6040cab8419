"""Linear stability engines: inertia of A, lambda_c, and the gamma spectrum (seed 000 Eq. (14)).

One module per idea; every name is re-exported here (``from ephkin.solvers.stability import ...``):

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

from .common import (
                     CONTINUUM_KEYS,
                     CONTINUUM_MARGIN,
                     DENSE_MAX,
                     GAMMA_TARGET_REL,
                     JACOBI_SHIFT,
                     LC_DENSE_MAX,
                     NULL_GAMMA_REL,
                     NULL_TOL,
                     PREFIX,
                     RESIDUAL_TOL,
                     SUMMARY_DENSE_MAX,
                     check_memory,
                     cholesky_ksp,
                     make_problem,
)
from .continuum import continuum_edges, discrete_gammas, discrete_mask, n_discrete
from .counting import (
                     count_unstable,
                     inertia,
                     n_negative_slicing,
                     one_negative,
                     positive_definite,
                     window_report,
)
from .dense import dense_refusal, gamma_dense, m_definite, nonzero_gammas
from .lambda_c import lambda_c_graded, lambda_c_linear
from .matrix_free import m_null_space, slow_modes, slow_modes_memory
from .residual import eigen_residuals, flagged, pencil_norms
from .shift_invert import gamma_spectrum, pole_gammas, unstable_gammas
from .smallest import DenseSmallest, SmallestEigenvalue, ahat_shell, mu_min_dense
from .summary import dense_summary, stability_summary
from .window import WINDOW_MEM_MAX, AhatWindow, window_fits

__all__ = [
    # common
    "PREFIX", "DENSE_MAX", "SUMMARY_DENSE_MAX", "LC_DENSE_MAX", "NULL_TOL", "NULL_GAMMA_REL", "GAMMA_TARGET_REL",
    "JACOBI_SHIFT", "CONTINUUM_MARGIN", "CONTINUUM_KEYS", "RESIDUAL_TOL", "make_problem", "check_memory",
    "cholesky_ksp",
    # counting
    "inertia", "positive_definite", "one_negative", "count_unstable", "n_negative_slicing", "window_report",
    # window
    "WINDOW_MEM_MAX", "AhatWindow", "window_fits",
    # smallest
    "SmallestEigenvalue", "DenseSmallest", "mu_min_dense", "ahat_shell",
    # lambda_c
    "lambda_c_linear", "lambda_c_graded",
    # continuum
    "continuum_edges", "discrete_gammas", "discrete_mask", "n_discrete",
    # matrix_free
    "slow_modes", "slow_modes_memory", "m_null_space",
    # shift_invert
    "gamma_spectrum", "unstable_gammas", "pole_gammas",
    # dense
    "gamma_dense", "m_definite", "dense_refusal", "nonzero_gammas",
    # residual
    "pencil_norms", "eigen_residuals", "flagged",
    # summary
    "dense_summary", "stability_summary",
]
