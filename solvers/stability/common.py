"""What every stability engine shares: the option prefix, the size limits and tolerances (each defined once),
the linear problem on the default grid, the memory check, and the one direct-solver set-up (KSP preonly + PC
Cholesky, factorised by MUMPS).

The limits are read by the studies' help texts, so this module imports no engine, no scipy and no PETSc at
import time (``ephkin --help`` and the equilibrium commands load it); :func:`make_problem` and
:func:`cholesky_ksp` import what they use."""

from __future__ import annotations

from ephkin.pde.errors import InputError
from ephkin.pde.grids import DENSE_MAX, available_memory, default_grid

from .. import prefixes

PREFIX = prefixes.STABILITY
# DENSE_MAX (pde.grids): largest L for the dense eigen/inertia paths -- the same L x L LAPACK limit as pde's
SUMMARY_DENSE_MAX = 1200  # largest L at which the stability command's "auto" takes one dense eigh (no PETSc)
# largest L (lambda_c.initial_size's L0) at which lambda_c_linear's "auto" takes LAPACK: up to here the dense
# solves and the Cholesky certificate, O(L^3), cost less than SLEPc's O(L log L) solves plus PETSc's and MPI's
# start-up, measured as whole processes (benchmarks/startup.py --only threshold, modes:40-60, T0 0.18-0.217 x
# refine 1-4: dense/SLEPc wall medians 0.61-0.92 up to L = 1499, 1.13-2.5 from L = 1668 on; docs/benchmarks.md
# "Start-up (issue 26)")
LC_DENSE_MAX = 1500
NULL_TOL = 1e-10  # eigenvalues of M_hat <= NULL_TOL max diag(M_hat) are ladder null modes (docs/theory.md §5)
# a computed gamma (or mu = 1/gamma of a deflated pencil) with |value| <= NULL_GAMMA_REL max(1, max |values|) is a
# ladder null mode of M (gamma = 0): those come out at round-off, ~1e-16 x the scale times the conditioning of
# the pencil, and the genuine modes of Eq. (14) lie many decades above 1e-9 of the largest
NULL_GAMMA_REL = 1e-9
# the default shift-and-invert target of gamma_spectrum, -GAMMA_TARGET_REL max diag(M_hat): just below 0, so
# that the null modes of M come out as gamma = 0 and M - target A stays nonsingular (far below any nonzero gamma)
GAMMA_TARGET_REL = 1e-9
# the matrix-free mu_min preconditioner is Davidson's, 1/(|diag A_hat - sigma| + DAVIDSON_GAP), sigma at or below
# the Rayleigh quotient of the start vector: it amplifies the energies where diag A_hat ~ Z0^-1 sits near mu_min,
# where the lowest eigenvector lives.  mu_min sits at the edge of a quasi-continuum (the values of Z0^-1 near its
# minimum, a spacing ~ 1/L), so the unshifted 1/(|diag| + 0.05) took ~L/130 iterations (840 at L = 108082, 11 s);
# the gap 1e-3 of diag's O(1) scale bounds the preconditioner by 1000 (57-82 iterations at any L, measured)
DAVIDSON_GAP = 1e-3
# discrete modes are counted up to (1 - CONTINUUM_MARGIN) x the edge of the continuous spectrum: on a grid the
# continuum's samples reach O(eps) below the edge of the local rates (Pb model, refine 1: 0.058268 < 0.058270)
CONTINUUM_MARGIN = 1e-3
# a computed eigenpair whose backward error (stability.residual: ||M_hat x - gamma A_hat x|| over
# (||M_hat|| + |gamma| ||A_hat||) ||x||) exceeds RESIDUAL_TOL is flagged (gamma_flagged), on every path.  Dense
# LAPACK is backward stable, ~L eps (<= 1e-13 measured); the SLEPc solves stop at a relative residual of 1e-10
# (slow modes) or 1e-12 (shift-and-invert) of their transformed problem (1/gamma, deflated, (M - t A)^-1 A),
# which reaches the pencil's backward error through the conditioning of the transformation -- hence a factor
# 100 over the looser one.  Measured: <= 4e-13 on both paths (modes:40-60 at lambda 1-5, refine 1-4 with ladder
# null modes, Lorentzian and Pb alpha^2F, targets in the bulk, the pole region and the continuum); a relative
# 1e-4 error in phi gives ~1e-5.  A looser -stab_eps_tol can make SLEPc's pairs flagged: that is the point.
RESIDUAL_TOL = 1e-8
CONTINUUM_KEYS = ("gamma_continuum_edge", "gamma_continuum_edge_negative", "n_discrete_positive",
                  "n_discrete_negative")

__all__ = ["PREFIX", "DENSE_MAX", "SUMMARY_DENSE_MAX", "LC_DENSE_MAX", "NULL_TOL", "NULL_GAMMA_REL",
           "GAMMA_TARGET_REL", "DAVIDSON_GAP", "CONTINUUM_MARGIN", "CONTINUUM_KEYS", "RESIDUAL_TOL", "make_problem",
           "check_memory", "cholesky_ksp"]


def make_problem(shape, lam, T0, units="g", kernel="exact", refine=1, grid_step=None, cutoff=None, points=None,
                 a_ee=0.0, p_ee=None, pv=None):
    """The LinearizedProblem at coupling ``lam`` on the default grid (see pde.grids.default_grid)."""
    from ephkin.pde.linearized import LinearizedProblem

    spec = shape.with_lambda(lam, units)
    grid = default_grid(spec, T0, refine, grid_step, cutoff, points)
    return LinearizedProblem(spec, T0, grid, kernel, a_ee, p_ee, pv)


def check_memory(estimate, what, param, advice):
    """Raise InputError(param) before allocating ``estimate`` bytes if they exceed 80 % of MemAvailable."""
    avail = available_memory()
    if avail is not None and estimate > 0.8 * avail:
        raise InputError(f"{what} needs about {estimate / 2**20:.0f} MiB but this process has "
                         f"{avail / 2**20:.0f} MiB of memory available (MemAvailable, ulimit -v, the job's cgroup); "
                         f"{advice}", param)


def cholesky_ksp(A, require_mumps=False, icntl=None, cntl=None):
    """A set-up direct solver for the symmetric AIJ ``A`` on :func:`comm`: KSP preonly + PC Cholesky, factorised
    by MUMPS when PETSc has it (``require_mumps``: always -- PETSc's error when it has not), with the MUMPS
    controls ``icntl``/``cntl`` ({index: value}, e.g. ICNTL(24) null-pivot detection) set before the
    factorisation.  The caller owns (destroys) the KSP; on an error here it is destroyed before raising."""
    from ..bridge import comm
    from ..petsc_env import init_petsc

    PETSc, _ = init_petsc()
    ksp = PETSc.KSP().create(comm=comm())
    try:
        ksp.setOperators(A)
        ksp.setType("preonly")
        _cholesky_pc(PETSc, ksp.getPC(), require_mumps, icntl, cntl)
        ksp.setUp()
        return ksp
    except BaseException:
        ksp.destroy()
        raise


def _cholesky_pc(PETSc, pc, require_mumps, icntl, cntl):
    """PC Cholesky (+ MUMPS and its controls) on ``pc`` (a borrowed reference: it dies with this frame)."""
    pc.setType("cholesky")
    if require_mumps or PETSc.Sys.hasExternalPackage("mumps"):
        pc.setFactorSolverType("mumps")
    if icntl or cntl:
        pc.setFactorSetUpSolverType()
        F = pc.getFactorMatrix()
        for i, v in (icntl or {}).items():
            F.setMumpsIcntl(i, v)
        for i, v in (cntl or {}).items():
            F.setMumpsCntl(i, v)
