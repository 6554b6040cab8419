"""Find and initialise PETSc/SLEPc.

Debian installs petsc4py/slepc4py under ``$PETSC_DIR/lib/python3/dist-packages``
and finds them through a .pth file that reads PETSC_DIR when the interpreter
starts.  :func:`ensure_paths` defaults PETSC_DIR/SLEPC_DIR to Debian's trees
(``/usr/lib/petscdir/petsc*/*-real``) unless the user set them -- a user's own
PETSc always wins -- and puts the bindings on ``sys.path``.
"""

from __future__ import annotations

import glob
import os
import sys

_TREES = {"PETSC_DIR": "/usr/lib/petscdir/petsc*/*-real", "SLEPC_DIR": "/usr/lib/slepcdir/slepc*/*-real"}


def ensure_paths():
    """Default PETSC_DIR/SLEPC_DIR to the Debian trees and make the bindings importable."""
    for var, pattern in _TREES.items():
        if not os.environ.get(var):
            hits = sorted(glob.glob(pattern))
            if hits:
                os.environ[var] = hits[-1]
        root = os.environ.get(var)
        if root:
            site = os.path.join(root, "lib", "python3", "dist-packages")
            if os.path.isdir(site) and site not in sys.path:
                sys.path.append(site)


_INITIALISED = []


def init_petsc(argv=None):
    """Initialise petsc4py and slepc4py once, with command-line options ``argv``; return (PETSc, SLEPc).

    Later calls return the same modules without re-initialising: calling
    slepc4py.init again on one rank of an MPI job makes the job hang at exit.
    Options for later solves go in through ``solvers.options.push_options``.
    """
    if _INITIALISED:
        return _INITIALISED[0]
    ensure_paths()
    import petsc4py

    petsc4py.init(argv)
    from petsc4py import PETSc

    try:
        import slepc4py

        slepc4py.init(argv)
        from slepc4py import SLEPc
    except ImportError:
        SLEPc = None
    _INITIALISED.append((PETSc, SLEPc))
    return PETSc, SLEPc


def versions():
    """Versions of the numerical stack, and whether MUMPS is available to PETSc."""
    import numpy
    import scipy

    from ephkin.pde import __version__

    out = {
        "ephkin": __version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "PETSC_DIR": os.environ.get("PETSC_DIR"),
        "SLEPC_DIR": os.environ.get("SLEPC_DIR"),
    }
    try:
        PETSc, SLEPc = init_petsc()
        out["petsc"] = "%d.%d.%d" % PETSc.Sys.getVersion()
        out["petsc4py"] = __import__("petsc4py").__version__
        out["mumps"] = bool(PETSc.Sys.hasExternalPackage("mumps"))
        out["slepc"] = "%d.%d.%d" % SLEPc.Sys.getVersion() if SLEPc else None
        out["slepc4py"] = __import__("slepc4py").__version__ if SLEPc else None
    except ImportError as exc:
        out.update(petsc=None, slepc=None, mumps=False, petsc_error=str(exc))
    try:
        import mpi4py
        from mpi4py import MPI

        out["mpi4py"] = mpi4py.__version__
        out["mpi"] = MPI.Get_library_version().splitlines()[0].strip()
        out["mpi_size"] = MPI.COMM_WORLD.Get_size()
    except ImportError as exc:
        out.update(mpi4py=None, mpi=None, mpi_error=str(exc))
    for mod in ("matplotlib", "meshio", "h5py"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = None
    return out
