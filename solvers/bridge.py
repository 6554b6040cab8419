"""The communicator a point is solved on, and the glue between numpy operators and distributed PETSc objects.

A single job solves on ``COMM_SELF``.  ``ephkin sweep --group-size K`` splits
COMM_WORLD into groups of K ranks (defcon style) and solves each point on its
group's communicator: every PETSc object (Vec, Mat, KSP, EPS, TS) is then
distributed over the K ranks by contiguous row blocks, factorisations go through
MUMPS, and the numpy operators of ``pde/`` are evaluated on each rank from the
gathered vector -- except the FFT kernel products, the bulk of the work at large L,
which :func:`sharing` splits by row blocks among the ranks (``pde.fftops``).

* :func:`comm` -- the PETSc communicator for the current point;
* :func:`solving_on` -- a context manager that sets it (the sweep uses it);
* :func:`gather` -- the full numpy array of a (possibly distributed) Vec, on every rank;
* :func:`scatter` -- write the locally owned part of a full numpy array into a Vec;
* :func:`aij`, :func:`vec` -- a distributed AIJ Mat (from a dense ndarray or scipy sparse) or Vec;
* :func:`sharing` -- the FFT products of ``pde.fftops.ToeplitzHankel`` operators shared among the ranks;
* :func:`on_leader` -- a step (creating -o, a check of the file system) done by rank 0, its outcome on every rank;
* :func:`ranks` -- the number of ranks solving the point;
* :func:`writes` -- whether this rank writes the outputs (rank 0 of the point's communicator);
* :func:`destroy` -- destroy the PETSc objects given (None skipped): the ``finally`` of every engine.

Ownership (the dolfinx idiom): whoever creates a PETSc object destroys it, in the ``finally`` of the ``try``
inside which it was created (``A = None; try: A = aij(...) ... finally: destroy(A)``); a function that
creates and returns one (:func:`aij`, :func:`vec`, ``eps.create_eps``, ``ts.build_ts``) destroys it itself
if its set-up fails.  An object dropped without ``destroy()`` is not freed by petsc4py 3.18: it waits in
PETSc's garbage until a collective ``garbage_cleanup`` (tests/test_petsc_ownership.py counts them).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import numpy as np

from .petsc_env import init_petsc

__all__ = ["comm", "solving_on", "gather", "scatter", "aij", "set_rows", "vec", "parallel", "destroy", "sharing",
           "concat_rows", "on_leader", "ranks", "writes"]

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


def ranks():
    """The number of ranks of the point's communicator (1 when none is set).  Never starts PETSc."""
    return _current[-1].getSize() if _current else 1


def writes():
    """True on the rank that writes the outputs: rank 0 of the point's communicator (every rank of a sweep
    solving its own points; a group's leader; rank 0 of ``mpirun -n K ephkin COMMAND``).  Never starts PETSc."""
    return not _current or _current[-1].getRank() == 0


def on_leader(step):
    """``step()`` run by rank 0 of the point's communicator only, its outcome on every rank: its return value,
    or the same exception raised everywhere (an InputError as it is, an OSError as an OSError with its errno,
    filename and message) -- so that a refusal seen by rank 0 alone (-o not writable) stops every rank before
    they diverge."""
    if not _current or _current[-1].getSize() == 1:
        return step()
    m = _current[-1].tompi4py()
    outcome = None
    if m.Get_rank() == 0:
        try:
            outcome = ("ok", step())
        except OSError as exc:
            from .safefile import CannotWrite

            # a "cannot write" refusal (a link, a held lock) travels whole: its message is the line to print
            whole = isinstance(exc, CannotWrite)
            outcome = ("raise", exc) if whole else ("os", (exc.errno, exc.strerror, exc.filename))
        except Exception as exc:  # InputError and the like: pickled as they are
            outcome = ("raise", exc)
    kind, value = m.bcast(outcome, root=0)
    if kind == "os":
        raise OSError(*value)
    if kind == "raise":
        raise value
    return value


def gather(x):
    """The whole vector ``x`` as a numpy array on every rank of its communicator (a view when serial): one
    Allgatherv, its counts from the Vec's layout (no second collective)."""
    c = x.getComm()
    if c.getSize() == 1:
        return x.array_r
    loc = np.ascontiguousarray(x.array_r)
    counts = np.diff(x.getOwnershipRanges())
    out = np.empty(int(counts.sum()), dtype=loc.dtype)
    c.tompi4py().Allgatherv(loc, [out, counts])
    return out


def _concat(mpi_comm):
    """concat(a, sizes): every rank's ``a`` joined along the last axis in rank order (rank s gives sizes[s]
    entries there), by one Allgatherv -- the exchange ``pde.fftops.ToeplitzHankel.distribute`` asks for."""

    def concat(a, sizes):
        a = np.ascontiguousarray(a)
        lead = a.shape[:-1]
        rows = int(np.prod(lead))
        counts = [rows * int(k) for k in sizes]
        buf = np.empty(sum(counts), dtype=a.dtype)
        mpi_comm.Allgatherv(a.ravel(), [buf, counts])
        if rows == 1:  # one vector: the ranks' pieces are already in order
            return buf.reshape(lead + (-1,))
        parts = np.split(buf, np.cumsum(counts)[:-1])
        return np.concatenate([q.reshape(lead + (int(k),)) for q, k in zip(parts, sizes)], axis=-1)

    return concat


def concat_rows(c, sizes):
    """exchange(a): on every rank of ``c``, the 1-d arrays ``a`` of all its ranks joined in rank order (rank s
    gives sizes[s] entries), by one Allgatherv."""
    concat = _concat(c.tompi4py())
    return lambda a: concat(a, sizes)


@contextmanager
def sharing(*ops):
    """Within the block, the FFT products of the ``pde.fftops.ToeplitzHankel`` operators ``ops`` (None skipped)
    are shared among the ranks of the point's communicator by row blocks (PETSc's layout of a Vec): each rank
    transforms one block, one Allgatherv exchanges the spectra and one the output blocks (``pde.fftops``).
    Every rank must then make the same products in the same order, as it does inside a PETSc solve on the
    group.  Serial: nothing changes."""
    ops = [op for op in ops if op is not None]
    c = comm() if _current else None
    if c is None or c.getSize() == 1 or not ops:
        yield
        return
    m = c.tompi4py()
    try:
        for op in ops:
            bounds = [_split(c.getSize(), r, op.L)[0] for r in range(c.getSize())] + [op.L]
            op.distribute(bounds, m.Get_rank(), _concat(m))
        yield
    finally:
        for op in ops:
            op.distribute(None, 0, None)


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
    """Destroy each PETSc object given; None (never created) is skipped.

    Called while an exception propagates (a ``finally`` after SIGTERM -> KeyboardInterrupt inside a solver's
    callback, or a solver error), a failure to destroy is not raised: an object left mid-operation by the
    interrupted solve (SLEPc's EPS with a dense submatrix still borrowed: PETSc error 58) would otherwise replace
    the exception on its way -- "interrupted" became "internal error" -- and the other objects would be left."""
    propagating = sys.exc_info()[1] is not None
    for obj in objs:
        if obj is None:
            continue
        try:
            obj.destroy()
        except Exception:
            if not propagating:
                raise


def _row_range(c, N):
    """PETSc's default (PETSC_DECIDE) ownership range of N rows on communicator ``c``."""
    return _split(c.getSize(), c.getRank(), N)


def _split(size, rank, N):
    """Rows lo..hi - 1 of rank ``rank`` among ``size`` in PETSc's default layout of N rows."""
    n = N // size + (1 if rank < N % size else 0)
    lo = rank * (N // size) + min(rank, N % size)
    return lo, lo + n
