"""One way to build and solve a SLEPc EPS (the ``solve_eigensystem`` shape of slepc4py's demos).

:func:`create_eps` configures an eigensolver for A x = mu B x under an options
prefix: problem type, which eigenpairs, dimensions, tolerances, the spectral
transformation (type, a direct KSP, its PC -- a factorisation, MUMPS where
available, or a Python preconditioner context) and option defaults that are
pushed, read by ``setFromOptions`` and removed again (user values win).
:func:`solve_eigensystem` is create + solve + the converged pairs as numpy
arrays + destroy.  Objects live on the current point's communicator.
:func:`solve` is ``EPSSetUp`` + ``EPSSolve`` with the failures told apart: an error while setting up
with a code of a wrong/incompatible option (``solvers.failures.PETSC_INPUT_ERRORS``: lobpcg without ST
precond) propagates as it is (bad input on the command line, exit 2); an error inside the solve, or
fewer converged pairs than asked for, raises :class:`~ephkin.solvers.failures.SolverFailed` (status
"solver_failed", exit 4), never a silently short list.
"""

from __future__ import annotations

import numpy as np

from . import progress
from .bridge import comm, destroy, gather
from .failures import PETSC_INPUT_ERRORS, SolverFailed, petsc_error_reason, reason_name
from .options import option_defaults
from .petsc_env import init_petsc

__all__ = ["create_eps", "eigenpairs", "solve", "solve_eigensystem"]


def create_eps(A, B=None, *, prefix, problem_type, which, nev=1, eps_type=None, target=None, interval=None,
               tol=1e-12, max_it=1000, conv_abs=False, st_type=None, pc_type=None, pc_context=None, mumps=False,
               ksp_type="preonly", defaults=None):
    """A configured EPS for A x = mu B x (``B=None``: standard problem).

    ``problem_type``/``which``/``eps_type``: SLEPc names ("GHEP", "SMALLEST_REAL", "krylovschur"...);
    ``st_type`` ("sinvert", "precond"...) gets a KSP (``ksp_type``: preonly, or cg to 1e-12 for a matrix-free
    B) with ``pc_type`` ("lu", "cholesky", "python" with ``pc_context``), factorised by MUMPS when
    ``mumps`` and PETSc has it.  ``defaults``
    are option defaults under ``prefix``, read by ``setFromOptions`` and removed again.
    """
    PETSc, SLEPc = init_petsc()
    eps = SLEPc.EPS().create(comm=comm())
    try:  # the EPS is the caller's once returned; destroyed here if its set-up fails (e.g. a bad -PREFIX option)
        eps.setOptionsPrefix(prefix)
        eps.setOperators(A, B)
        # the same random start for every solve: a result must not depend on which solves ran before it in the
        # process (sweep points resumed after a kill, the number of ranks)
        eps.getBV().getRandomContext().setSeed(0x5EED)
        eps.setProblemType(getattr(SLEPc.EPS.ProblemType, problem_type))
        if eps_type is not None:
            eps.setType(eps_type)
        eps.setWhichEigenpairs(getattr(SLEPc.EPS.Which, which))
        if interval is not None:
            eps.setInterval(*interval)
        else:
            eps.setDimensions(nev, PETSc.DECIDE)
        if target is not None:
            eps.setTarget(target)
        if conv_abs:  # absolute residual test: an eigenvalue that crosses 0 never meets a relative one
            eps.setConvergenceTest(SLEPc.EPS.Conv.ABS)
        eps.setTolerances(tol, max_it)
        if st_type is not None:
            _configure_st(PETSc, eps.getST(), st_type, pc_type, pc_context, mumps, ksp_type)
        with option_defaults(prefix, defaults):
            eps.setFromOptions()
        monitor = progress.eps_monitor(f"SLEPc {prefix}", nev)
        if monitor is not None:  # a long solve says that it moves (stderr), only when someone listens
            eps.setMonitor(monitor)
    except BaseException:
        eps.destroy()
        raise
    return eps


def _configure_st(PETSc, st, st_type, pc_type, pc_context, mumps, ksp_type):
    """The spectral transformation of :func:`create_eps` (its own frame: the borrowed ST/KSP/PC references die
    here, before the options are read, so an error there leaves none of them alive in a traceback)."""
    st.setType(st_type)
    if pc_type is not None:
        ksp = st.getKSP()
        ksp.setType(ksp_type)
        if ksp_type != "preonly":
            ksp.setTolerances(rtol=1e-12, atol=1e-300, max_it=10000)
        pc = ksp.getPC()
        pc.setType(pc_type)
        if pc_context is not None:
            pc.setPythonContext(pc_context)
        if mumps and PETSc.Sys.hasExternalPackage("mumps"):
            pc.setFactorSolverType("mumps")


def solve(eps, wanted=None):
    """Set up and solve ``eps``; returns the number of converged pairs.  ``wanted``: the pairs that must
    converge (default: the EPS's nev; 0 for none, e.g. an interval).  Raises SolverFailed with SLEPc's
    converged reason by name (``DIVERGED_ITS``) when fewer converge, or with the PETSc error for an error
    inside the solve; a set-up error with a code of :data:`PETSC_INPUT_ERRORS` propagates unchanged."""
    PETSc, SLEPc = init_petsc()
    prefix = "-" + (eps.getOptionsPrefix() or "")
    try:
        eps.setUp()
    except PETSc.Error as exc:
        if exc.ierr in PETSC_INPUT_ERRORS:  # the solver cannot be used for this problem as configured
            raise
        raise SolverFailed(petsc_error_reason(exc), f"SLEPc failed setting up the eigensolver; check the "
                           f"{prefix}eps_/{prefix}st_ options") from None
    try:
        eps.solve()
    except PETSc.Error as exc:
        raise SolverFailed(petsc_error_reason(exc), f"SLEPc failed inside the eigensolve; check the "
                           f"{prefix}eps_/{prefix}st_ options") from None
    n = eps.getConverged()
    wanted = eps.getDimensions()[0] if wanted is None else wanted
    if n < wanted:
        name = reason_name(SLEPc.EPS.ConvergedReason, eps.getConvergedReason())
        raise SolverFailed(name, f"SLEPc converged {n} of the {wanted} eigenpairs asked for in "
                           f"{eps.getIterationNumber()} iterations; raise {prefix}eps_max_it or {prefix}eps_ncv")
    return n


def eigenpairs(eps, k, scale=None):
    """The first min(k, converged) eigenpairs: (real values, vectors as columns of a numpy array,
    each multiplied by ``scale`` when given)."""
    n = min(k, eps.getConverged())
    A, _ = eps.getOperators()
    vals, vecs, vr = [], [], None
    try:
        vr = A.createVecRight()
        for i in range(n):
            vals.append(eps.getEigenpair(i, vr).real)
            v = gather(vr).copy()
            vecs.append(v if scale is None else scale * v)
    finally:
        destroy(vr)
    return np.asarray(vals), (np.array(vecs).T if vecs else np.zeros((A.getSize()[0], 0)))


def solve_eigensystem(A, B=None, *, k=None, scale=None, keep_defaults=False, **kw):
    """Solve A x = mu B x with :func:`create_eps` (keywords as there); return :func:`eigenpairs` of the
    first ``k`` converged pairs (default: nev, or every pair of an ``interval``).  With ``keep_defaults``
    the option defaults stay in the database through the solve (spectrum slicing creates its
    sub-solvers from the database then).  The EPS is destroyed before returning."""
    with option_defaults(kw["prefix"], kw.get("defaults") if keep_defaults else None):
        eps = None
        try:
            eps = create_eps(A, B, **kw)
            solve(eps, 0 if kw.get("interval") is not None else None)
            if k is None:
                k = eps.getConverged() if kw.get("interval") is not None else max(kw.get("nev", 1),
                                                                                   eps.getDimensions()[0])
            return eigenpairs(eps, k, scale)
        finally:
            destroy(eps)
