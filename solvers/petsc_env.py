"""Find, check and initialise PETSc/SLEPc -- lazily, and with a one-line answer when they are unusable.

Debian installs petsc4py/slepc4py under ``$PETSC_DIR/lib/python3/dist-packages``
(``$SLEPC_DIR/...`` for slepc4py), which no interpreter searches by default.
:func:`ensure_paths` defaults PETSC_DIR/SLEPC_DIR to Debian's trees
(``/usr/lib/petscdir/petsc*/*-real``) unless the user set them -- a user's own
PETSc always wins -- and puts the bindings on ``sys.path``.

Nothing here imports petsc4py.PETSc, mpi4py.MPI, matplotlib or scipy at module
level: the equilibrium commands run with numpy/scipy alone.  :func:`init_petsc`
raises :class:`PetscUnavailable` (an :class:`~ephkin.pde.errors.InputError`, so
the command line prints one line and exits 2) when petsc4py/slepc4py are missing
or were built for another numpy ABI.  :func:`versions` (``ephkin info``,
provenance) reports versions and locations without initialising PETSc or MPI
(no ``orted`` is spawned) unless they are already initialised in this process.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
import sys

from ephkin.pde.errors import InputError

_TREES = {"PETSC_DIR": "/usr/lib/petscdir/petsc*/*-real", "SLEPC_DIR": "/usr/lib/slepcdir/slepc*/*-real"}

#: Debian packages of the PETSc stack (the PETSc engines' install line).
DEB_PETSC = ("python3-petsc4py-real", "python3-slepc4py-real", "python3-mpi4py", "openmpi-bin")
APT_LINE = "sudo apt-get install " + " ".join(DEB_PETSC)
_ROUTES = ("then use a venv made with --system-site-packages (`make test` in the ephkin checkout does it); "
           "or set PETSC_DIR/SLEPC_DIR to your own PETSc/SLEPc build with petsc4py/slepc4py")

#: How each source of PETSC_DIR/SLEPC_DIR was found ("environment" or "default").
_DIR_SOURCE = {}


class PetscUnavailable(InputError):
    """petsc4py/slepc4py are missing, or unusable in this environment (e.g. built for another numpy).

    ``reason`` is ``"missing"``, ``"numpy-abi"`` or ``"broken"``; the message is one line
    that says what is wrong and the install/fix line.
    """

    def __init__(self, message, reason="missing"):
        super().__init__(message)
        self.reason = reason


def ensure_paths():
    """Default PETSC_DIR/SLEPC_DIR to the Debian trees and make the bindings importable.

    Returns ``{"PETSC_DIR": ..., "SLEPC_DIR": ...}`` as resolved (None where there is none).
    """
    out = {}
    for var, pattern in _TREES.items():
        if os.environ.get(var):
            _DIR_SOURCE.setdefault(var, "environment")
        else:
            hits = sorted(glob.glob(pattern))
            if hits:
                os.environ[var] = hits[-1]
                _DIR_SOURCE[var] = "default (Debian tree)"
        root = os.environ.get(var) or None
        out[var] = root
        if root:
            site = os.path.join(root, "lib", "python3", "dist-packages")
            if os.path.isdir(site) and site not in sys.path:
                sys.path.append(site)
    return out


def _find(name):
    """Directory of the top-level package ``name`` as the import system would find it (not imported)."""
    import importlib.util

    if name in sys.modules:
        f = getattr(sys.modules[name], "__file__", None)
        return os.path.dirname(f) if f else None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(spec.origin)


def _dist_version(name, pkgdir=None):
    """Version of distribution ``name`` (no import); next to ``pkgdir`` if given, read from the names of
    the ``*.dist-info``/``*.egg-info`` directories there (one directory listing; parsing the metadata
    of every distribution in dist-packages took ~15 ms per call), else from its metadata."""
    import importlib.metadata as md

    try:
        if pkgdir:
            want, found = name.lower().replace("-", "_"), None
            for dist, version in _installed(os.path.dirname(pkgdir)):
                if dist == want:
                    return version
                if dist.startswith(want + "."):  # Debian's "h5py._debian_h5py_serial"
                    found = version
            return found
        return md.version(name)
    except Exception:  # noqa: BLE001 -- metadata is best effort
        return None


@functools.cache
def _installed(site):
    """(normalised name, version) of each ``NAME-VERSION.dist-info`` / ``.egg-info`` directory in ``site``."""
    out = []
    for entry in os.listdir(site):
        m = re.match(r"^(.+?)-(\d[^-]*?)(?:-py\d[.\d]*)?\.(?:dist|egg)-info$", entry)
        if m:
            out.append((m.group(1).lower().replace("-", "_"), m.group(2)))
    return tuple(out)


def _numpy_version():
    """The numpy this interpreter imports (without importing it if it is not imported yet)."""
    if "numpy" in sys.modules:
        return sys.modules["numpy"].__version__
    return _dist_version("numpy", _find("numpy"))


def _major(version):
    try:
        return int(str(version).split(".")[0])
    except (TypeError, ValueError):
        return None


def _dpkg(*args):
    if not shutil.which("dpkg-query"):
        return None
    try:
        r = subprocess.run(["dpkg-query", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


def numpy_required(petsc4py_dir=None):
    """The numpy petsc4py was built for: ``{"version", "series", "source"}`` or None when unknown.

    For Debian's petsc4py (a file owned by a dpkg package) this is Debian's python3-numpy, whose
    C ABI (``python3-numpy-abiN``) the package depends on; otherwise the numpy of the system
    interpreter (``sys.base_prefix``), read from its files, as a best guess.
    """
    if petsc4py_dir is None:
        ensure_paths()
        petsc4py_dir = _find("petsc4py")
    if petsc4py_dir:
        owner = _dpkg("-S", os.path.join(os.path.realpath(petsc4py_dir), "__init__.py"))
        if owner:
            pkg = owner.split(":")[0].strip()
            deb = _dpkg("-W", "-f", "${Version}", "python3-numpy")
            deps = _dpkg("-W", "-f", "${Depends}", pkg) or ""
            if deb:
                ver = re.sub(r"^\d+:", "", deb.strip()).split("-")[0].split("+")[0]
                abi = re.search(r"python3-numpy-abi(\d+)", deps)
                series = f"{_major(ver)}.x" + (f" (numpy C ABI {abi.group(1)})" if abi else "")
                return {"version": ver, "series": series,
                        "source": f"Debian python3-numpy (dependency of {pkg})", "debian": True}
    for site in (os.path.join(sys.base_prefix, "lib", "python3", "dist-packages"),
                 os.path.join(sys.base_prefix, "lib", "python{}.{}".format(*sys.version_info[:2]), "site-packages")):
        vfile = os.path.join(site, "numpy", "version.py")
        try:
            with open(vfile) as fh:
                m = re.search(r"""^(?:__)?version(?:__)?\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]""", fh.read(), re.M)
        except OSError:
            continue
        if m:
            return {"version": m.group(1), "series": f"{_major(m.group(1))}.x",
                    "source": f"system numpy ({site}); petsc4py is not a Debian package, so this is a guess",
                    "debian": False}
    return None


def _abi_message(where, need, have, detail=""):
    ver = need["version"] if need else None
    what = f"numpy {ver} ({need['source']})" if need else "the numpy it was built with"
    # scipy/matplotlib named too: pip then re-resolves them for that numpy (a recent scipy needs numpy 2)
    fix = [f"pip install 'numpy=={ver}' scipy matplotlib (in this environment)" if ver else
           "install the numpy petsc4py was built with in this environment",
           "or use the Makefile's venv (`make test`: --system-site-packages, numpy pinned by constraints)",
           f"or point PETSC_DIR/SLEPC_DIR at a PETSc build with petsc4py for numpy {have}"]
    if need and need.get("debian"):
        fix.insert(1, "or make a venv with --system-site-packages and no pip numpy")
    return (f"petsc4py ({where}) was built for {what} but this environment imports numpy {have}"
            + (f" ({detail})" if detail else "") + ". Fix: " + "; ".join(fix))


def _missing_message(names, dirs):
    where = ", ".join(f"{k}={v or 'unset'}" for k, v in dirs.items())
    return (f"the PETSc engines need {' and '.join(names)}, not importable here ({where}, python {sys.executable}). "
            f"Install: {APT_LINE}; {_ROUTES}; or pip install 'ephkin[petsc]' (builds PETSc from source)")


def check_petsc():
    """Raise :class:`PetscUnavailable` if petsc4py/slepc4py are missing or (known to be) ABI-incompatible.

    Imports nothing heavy: looks the packages up, and compares numpy majors when this environment
    has numpy >= 2 and petsc4py's numpy is known (Debian's package says so).
    """
    dirs = ensure_paths()
    missing = [n for n in ("petsc4py", "slepc4py") if not _find(n)]
    if missing:
        raise PetscUnavailable(_missing_message(missing, dirs), "missing")
    have = _numpy_version()
    if (_major(have) or 0) >= 2:
        need = numpy_required(_find("petsc4py"))
        if need and need.get("debian") and _major(need["version"]) != _major(have):
            raise PetscUnavailable(_abi_message(_find("petsc4py"), need, have), "numpy-abi")


_ABI_SIGNS = ("numpy.dtype size changed", "numpy.ndarray size changed", "binary incompatibility",
              "numpy.core.multiarray failed to import", "_ARRAY_API", "compiled using NumPy",
              "numpy.core._multiarray_umath")


def _import_failure(name, exc):
    """Turn an exception raised while importing ``name``'s extension into PetscUnavailable."""
    text = " ".join(str(exc).split())
    where = _find(name) or name
    if "failed to map segment" in text or "Cannot allocate memory" in text:
        return MemoryError(f"loading {name}: {text}")  # ulimit -v too small for PETSc's libraries: the machine's
    if any(s in text for s in _ABI_SIGNS) or isinstance(exc, ValueError):
        return PetscUnavailable(_abi_message(where, numpy_required(_find("petsc4py")), _numpy_version(), text),
                                "numpy-abi")
    return PetscUnavailable(f"{name} ({where}) failed to import: {text}. Reinstall: {APT_LINE}; {_ROUTES}",
                            "broken")


def _import_quietly(importer, name):
    """Run ``importer()``; numpy 2's multi-line 'compiled using NumPy 1.x' banner goes into the message."""
    import io

    err, sys.stderr = sys.stderr, io.StringIO()
    try:
        return importer()
    except (ImportError, ValueError, AttributeError, RuntimeError, SystemError) as exc:
        raise _import_failure(name, exc) from exc
    finally:
        sys.stderr = err


#: address space (bytes) that loading and initialising PETSc, SLEPc and MPI needs beyond what the command has mapped
#: (numpy, SciPy and their BLAS already loaded): `ephkin stability` (VmSize ~312 MiB before) starts with 148 MiB
#: left and fails to with 138 MiB or less -- a failed mmap, a std::bad_alloc, a PETSc error 55 reported as a broken
#: install, or a segmentation fault in Open MPI (Debian's PETSc 3.18, Open MPI 4.1).  Refused below, with a margin.
PETSC_START_BYTES = 160 * 2**20


def check_start_headroom():
    """Raise MemoryError (the machine's: "cannot allocate memory ...", exit 1) when the address-space limit
    (ulimit -v, RLIMIT_AS) leaves less than PETSC_START_BYTES for starting PETSc, SLEPc and MPI."""
    from ephkin.pde.grids import address_space_left

    left = address_space_left()
    if left is not None and left < PETSC_START_BYTES:
        raise MemoryError(
            f"starting PETSc, SLEPc and MPI needs about {PETSC_START_BYTES >> 20} MiB more address space; the limit "
            f"(ulimit -v) leaves {left >> 20} MiB"
        )


_INITIALISED = []

#: Open MPI's MPI_Init in a process not started by mpirun (a "singleton") forks an ``orted`` daemon and waits
#: for it, in case the process later calls MPI_Comm_spawn or connects to another job -- neither of which ephkin
#: does: ~0.1-0.2 s of every serial PETSc command's start-up (measured, docs/benchmarks.md "Start-up (issue
#: 26)").  An isolated singleton starts MPI without it.  Under mpirun the variable is not read; a value the
#: user set wins; other MPI libraries ignore it.
_SINGLETON_ENV = ("OMPI_MCA_ess_singleton_isolated", "1")


def init_petsc(argv=None):
    """Initialise petsc4py and slepc4py once, with command-line options ``argv``; return (PETSc, SLEPc).

    Raises :class:`PetscUnavailable` (one line: what is missing or mismatched, and the install
    line) when they cannot be used.  Later calls return the same modules without
    re-initialising: calling slepc4py.init again on one rank of an MPI job makes the job hang at
    exit.  Options for later solves go in through ``solvers.options.push_options``.
    """
    if _INITIALISED:
        return _INITIALISED[0]
    check_petsc()
    check_start_headroom()
    os.environ.setdefault(*_SINGLETON_ENV)
    import petsc4py
    import slepc4py

    # Python keeps its own signal handling (SIGPIPE -> BrokenPipeError, SIGTERM -> cleanup, Ctrl-C ->
    # KeyboardInterrupt): PETSc's handler would turn each into an MPI_Abort
    argv = list(argv or ["ephkin"]) + ["-no_signal_handler"]

    def petsc():
        petsc4py.init(argv)
        from petsc4py import PETSc

        return PETSc

    def slepc():
        slepc4py.init(argv)
        from slepc4py import SLEPc

        return SLEPc

    PETSc = _import_quietly(petsc, "petsc4py")
    SLEPc = _import_quietly(slepc, "slepc4py")
    _INITIALISED.append((PETSc, SLEPc))
    return PETSc, SLEPc


def initialised_with(name):
    """True if PETSc runs in this process and its options hold ``name`` (e.g. "help"); never starts PETSc."""
    if not _INITIALISED:
        return False
    PETSc = _INITIALISED[0][0]
    return name in PETSc.Options().getAll()


def petsc_available():
    """True if :func:`init_petsc` can be expected to work (cheap: nothing is imported)."""
    try:
        check_petsc()
    except PetscUnavailable:
        return False
    return True


# ------------------------------------------------------------------ versions
def _library_path(ext_dir, stem, roots):
    """Path of the shared library ``lib<stem>*.so*`` that the extension in ``ext_dir`` links to."""
    if not ext_dir:
        return None
    sofiles = glob.glob(os.path.join(ext_dir, "lib", "*", "*.so")) + glob.glob(os.path.join(ext_dir, "lib", "*.so"))
    name = None
    for so in sofiles:
        try:
            with open(so, "rb") as fh:
                m = re.search(rb"lib" + stem.encode() + rb"[A-Za-z0-9_]*\.so[0-9.]*", fh.read())
        except OSError:
            continue
        if m:
            name = m.group(0).decode()
            break
    if not name:
        return None
    import sysconfig

    dirs = [os.path.join(r, "lib") for r in roots if r]
    dirs += os.environ.get("LD_LIBRARY_PATH", "").split(":")
    multi = sysconfig.get_config_var("MULTIARCH") or ""
    dirs += [os.path.join("/usr/lib", multi), "/usr/lib64", "/usr/lib", "/usr/local/lib"]
    for d in dirs:
        p = os.path.join(d, name) if d else None
        if p and os.path.exists(p):
            return os.path.realpath(p)
    return None


def _lib_version(path):
    m = re.search(r"\.so\.(\d+(?:\.\d+)*)$", path or "")
    return m.group(1) if m else None


def _has_symbol(path, symbol):
    import mmap

    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(symbol.encode()) >= 0
    except (OSError, ValueError):
        return None


def mpi_library_version():
    """The MPI library's version string (first line, no trailing NUL), without initialising MPI."""
    text = None
    if "mpi4py.MPI" in sys.modules:
        text = sys.modules["mpi4py.MPI"].Get_library_version()
    else:
        import ctypes
        import ctypes.util

        for name in ("libmpi.so.40", "libmpi.so.12", ctypes.util.find_library("mpi")):
            if not name:
                continue
            try:
                lib = ctypes.CDLL(name, mode=getattr(os, "RTLD_GLOBAL", 0))
            except OSError:
                continue
            buf, n = ctypes.create_string_buffer(8192), ctypes.c_int(0)
            if lib.MPI_Get_library_version(buf, ctypes.byref(n)) == 0:
                text = buf.raw[: n.value].decode(errors="replace")
                break
    if not text:
        return None
    lines = [ln.strip() for ln in text.replace("\x00", "").splitlines() if ln.strip()]
    return lines[0].rstrip(",") if lines else None


def _mpi_size():
    if "mpi4py.MPI" in sys.modules:
        MPI = sys.modules["mpi4py.MPI"]
        if MPI.Is_initialized() and not MPI.Is_finalized():
            return MPI.COMM_WORLD.Get_size()
    for var in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 1


def versions(install=True):
    """Versions and locations of the numerical stack, and whether PETSc has MUMPS.

    ``install``: also the numpy petsc4py was built for (``numpy_required_*``, from dpkg: ~0.1 s),
    which ``ephkin info`` shows to diagnose an install; a run's provenance leaves it out.

    Reads package metadata and library files: nothing heavy is imported and neither PETSc nor
    MPI is initialised (no ``orted``), unless this process has already initialised them, in
    which case the live libraries answer.  ``petsc_error`` is the one-line reason the PETSc
    engines would not run (None when they should).
    """
    from ephkin.pde import __version__

    dirs = ensure_paths()
    p4 = _find("petsc4py")
    s4 = _find("slepc4py")
    m4 = _find("mpi4py")
    need = numpy_required(p4) if p4 and install else None
    out = {
        "ephkin": __version__,
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "numpy": _numpy_version(),
        "scipy": _dist_version("scipy", _find("scipy")),
        "PETSC_DIR": dirs["PETSC_DIR"],
        "PETSC_DIR_source": _DIR_SOURCE.get("PETSC_DIR"),
        "SLEPC_DIR": dirs["SLEPC_DIR"],
        "SLEPC_DIR_source": _DIR_SOURCE.get("SLEPC_DIR"),
        "petsc4py": _dist_version("petsc4py", p4) if p4 else None,
        "petsc4py_path": p4,
        "slepc4py": _dist_version("slepc4py", s4) if s4 else None,
        "slepc4py_path": s4,
    }
    if install:
        out.update(numpy_required_by_petsc4py=need["version"] if need else None,
                   numpy_required_series=need["series"] if need else None,
                   numpy_required_source=need["source"] if need else None)
    try:
        check_petsc()
        out["petsc_error"] = None
    except PetscUnavailable as exc:
        out["petsc_error"] = str(exc)
    if _INITIALISED:
        PETSc, SLEPc = _INITIALISED[0]
        out["petsc"] = "{}.{}.{}".format(*PETSc.Sys.getVersion())
        out["slepc"] = "{}.{}.{}".format(*SLEPc.Sys.getVersion())
        out["mumps"] = bool(PETSc.Sys.hasExternalPackage("mumps"))
        out["petsc_initialised"] = True
    else:
        libp = _library_path(p4, "petsc", [dirs["PETSC_DIR"]])
        libs = _library_path(s4, "slepc", [dirs["SLEPC_DIR"]])
        out["petsc"] = _lib_version(libp) or (out["petsc4py"] if p4 else None)
        out["slepc"] = _lib_version(libs) or (out["slepc4py"] if s4 else None)
        out["mumps"] = _has_symbol(libp, "MatMumpsSetIcntl") if libp else (None if p4 else False)
        out["petsc_initialised"] = False
    out["mpi4py"] = _dist_version("mpi4py", m4) if m4 else None
    try:
        out["mpi"] = mpi_library_version()
    except Exception as exc:  # noqa: BLE001 -- a diagnostic must not fail
        out["mpi"], out["mpi_error"] = None, str(exc)
    out["mpi_size"] = _mpi_size()
    for mod in ("matplotlib", "meshio", "h5py"):
        out[mod] = _dist_version(mod, _find(mod))
    return out


if __name__ == "__main__":  # python -m ephkin.solvers.petsc_env: the same report, as JSON
    import json

    json.dump(versions(), sys.stdout, indent=1)
    sys.stdout.write("\n")
