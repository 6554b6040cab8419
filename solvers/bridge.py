"""The communicator a point is solved on, and the glue between numpy operators and distributed PETSc objects.

A single job solves on ``COMM_SELF``.  ``ephkin sweep --group-size K`` splits
COMM_WORLD into groups of K ranks (defcon style) and solves each point on its
group's communicator: every PETSc object (Vec, Mat, KSP, EPS, TS) is then
distributed over the K ranks by contiguous row blocks, factorisations go through
MUMPS, and the numpy operators of ``pde/`` are evaluated redundantly on each
rank from the gathered vector (they are FFT/sparse, O(L log L), cheap next to
the factorisations and eigen solves that PETSc parallelises).

* :func:`comm` -- the PETSc communicator for the current point;
* :func:`solving_on` -- a context manager that sets it (the sweep uses it);
* :func:`gather` -- the full numpy array of a (possibly distributed) Vec, on every rank;
* :func:`scatter` -- write the locally owned part of a full numpy array into a Vec;
* :func:`aij`, :func:`vec` -- a distributed AIJ Mat (from a dense ndarray or scipy sparse) or Vec;
* :func:`destroy` -- destroy the PETSc objects given (None skipped): the ``finally`` of every engine.

Ownership (the dolfinx idiom): whoever creates a PETSc object destroys it, in the ``finally`` of the ``try``
inside which it was created (``A = None; try: A = aij(...) ... finally: destroy(A)``); a function that
creates and returns one (:func:`aij`, :func:`vec`, ``eps.create_eps``, ``ts.build_ts``) destroys it itself
if its set-up fails.  An object dropped without ``destroy()`` is not freed by petsc4py 3.18: it waits in
PETSc's garbage until a collective ``garbage_cleanup`` (tests/test_petsc_ownership.py counts them).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .petsc_env import init_petsc

__all__ = ["comm", "solving_on", "gather", "scatter", "aij", "set_rows", "vec", "parallel", "destroy"]

_current = []


def comm():
    """PETSc communicator for the point being solved (COMM_SELF unless a sweep group set one)."""
    PETSc, _ = init_petsc()
    return _current[-1] if _current else PETSc.COMM_SELF


def parallel():
    """True when the current point is solved on more than one rank."""
    return comm().getSize() > 1


@contextmanager
def solving_on(petsc_comm):
    """Solve every point inside the ``with`` block on ``petsc_comm``."""
    _current.append(petsc_comm)
    try:
        yield petsc_comm
    finally:
        _current.pop()


def gather(x):
    """The whole vector ``x`` as a numpy array on every rank of its communicator (a view when serial)."""
    c = x.getComm()
    if c.getSize() == 1:
        return x.array_r
    m = c.tompi4py()
    loc = np.ascontiguousarray(x.array_r)
    counts = m.allgather(loc.size)
    out = np.empty(int(sum(counts)), dtype=loc.dtype)
    m.Allgatherv(loc, [out, counts])
    return out


def scatter(full, y):
    """y[owned rows] = full[owned rows]."""
    lo, hi = y.getOwnershipRange()
    y.array[:] = full[lo:hi]


def aij(mat, drop=None, values=True):
    """A PETSc AIJ Mat on :func:`comm` from a dense ndarray (entries |a| <= drop dropped) or scipy sparse.

    Each rank inserts only its own block of rows (PETSc's default layout).  With
    ``values=False`` only the nonzero pattern is preallocated (fill it with :func:`set_rows`).
    """
    import scipy.sparse as sp

    PETSc, _ = init_petsc()
    c = comm()
    A = PETSc.Mat().create(comm=c)
    try:  # the Mat is the caller's once returned; destroyed here if its set-up fails
        A.setSizes([[PETSc.DECIDE, mat.shape[0]], [PETSc.DECIDE, mat.shape[1]]])
        A.setType(PETSc.Mat.Type.AIJ)
        lo, hi = _row_range(c, mat.shape[0])
        if isinstance(mat, np.ndarray):
            block = mat[lo:hi]
            keep = np.abs(block) > (0.0 if drop is None else drop)
            csr = sp.csr_matrix((block[keep], np.nonzero(keep)), shape=block.shape)
        else:
            csr = sp.csr_matrix(mat)[lo:hi]
        csr.sort_indices()
        ij = (csr.indptr.astype(PETSc.IntType), csr.indices.astype(PETSc.IntType))
        A.setPreallocationCSR(ij + (np.ascontiguousarray(csr.data),) if values else ij)
        if values:
            A.assemble()
    except BaseException:
        A.destroy()
        raise
    return A


def set_rows(A, csr):
    """Overwrite the owned rows of the assembled AIJ ``A`` with those of the scipy CSR ``csr`` (all rows given)."""
    PETSc, _ = init_petsc()
    lo, hi = A.getOwnershipRange()
    loc = csr[lo:hi] if A.getComm().getSize() > 1 else csr
    A.zeroEntries()
    A.setValuesCSR(loc.indptr.astype(PETSc.IntType, copy=False), loc.indices.astype(PETSc.IntType, copy=False),
                   loc.data)
    A.assemble()


def vec(full):
    """A Vec on :func:`comm` holding ``full`` (each rank stores its own rows)."""
    PETSc, _ = init_petsc()
    x = PETSc.Vec().create(comm=comm())
    try:
        x.setSizes([PETSc.DECIDE, full.size])
        x.setType(PETSc.Vec.Type.STANDARD)
        scatter(full, x)
    except BaseException:
        x.destroy()
        raise
    return x


def destroy(*objs):
    """Destroy each PETSc object given; None (never created) is skipped."""
    for obj in objs:
        if obj is not None:
            obj.destroy()


def _row_range(c, N):
    """PETSc's default (PETSC_DECIDE) ownership range of N rows on communicator ``c``."""
    size, rank = c.getSize(), c.getRank()
    n = N // size + (1 if rank < N % size else 0)
    lo = rank * (N // size) + min(rank, N % size)
    return lo, lo + n
