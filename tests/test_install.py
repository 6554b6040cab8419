"""Installation: the Makefile's dependency check, the pip route, and PETSc's one-line failures.

CI-safe: apt-get and sudo are replaced by failing stubs on PATH (a call is recorded, never
made); the non-root case runs as ``nobody`` (setpriv) when the suite runs as root.  The pip
route into a fresh venv without system site packages, on the newest numpy, is ``slow`` (``make test-pip``): it
needs PyPI (network) for the numpy/scipy/matplotlib/meshio/h5py wheels; a quick stand-in runs in ``make test``.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKEFILE = os.path.join(ROOT, "Makefile")
FAKE_PKG = "python3-ephkin-fake-missing"

needs_make = pytest.mark.skipif(shutil.which("make") is None or not os.path.exists(MAKEFILE),
                                reason="needs make and the checkout's Makefile")


def _stubs(tmp_path):
    """A PATH directory whose apt-get and sudo fail and record each call in ``calls``."""
    d = tmp_path / "stubs"
    d.mkdir()
    log = tmp_path / "calls"
    for name in ("apt-get", "sudo"):
        p = d / name
        p.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit 1\n')
        p.chmod(0o755)
    os.chmod(tmp_path, 0o777)  # the stubs must be able to write the log as `nobody`
    return d, log


def _env(stubdir):
    env = dict(os.environ)
    env["PATH"] = f"{stubdir}{os.pathsep}{env.get('PATH', '')}"
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    return env


def _venv_vars():
    """Makefile variables that make the check run the interpreter running these tests."""
    if sys.prefix != sys.base_prefix:  # a venv: the check uses $(VENV)/bin/python
        return [f"VENV={sys.prefix}"]
    return ["VENV=/nonexistent-ephkin-venv", f"PYTHON_SYS={sys.executable}"]


def _everything_present():
    from ephkin.solvers.petsc_env import ensure_paths

    ensure_paths()
    mods = ("petsc4py", "slepc4py", "mpi4py", "numpy", "scipy", "matplotlib", "meshio", "h5py", "mpmath",
            "pytest", "setuptools", "wheel")
    gone = [m for m in mods if importlib.util.find_spec(m) is None]
    if shutil.which(os.environ.get("MPIRUN", "mpirun")) is None:
        gone.append("mpirun")
    return gone


@needs_make
def test_deps_present_never_calls_apt(tmp_path):
    """(a) everything present, apt-get/sudo failing stubs on PATH: `make deps` exits 0 without calling them."""
    gone = _everything_present()
    if gone:
        pytest.skip(f"not everything is installed here ({', '.join(gone)}): the check would rightly ask apt")
    stubs, log = _stubs(tmp_path)
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "deps", *_venv_vars()],
                       env=_env(stubs), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not log.exists(), log.read_text()
    assert "installing" not in r.stdout


def _ancestors(path):
    """``path`` and every directory above it."""
    path = os.path.abspath(path)
    out = [path]
    while os.path.dirname(path) != path:
        path = os.path.dirname(path)
        out.append(path)
    return out


def _as_other_user():
    """argv prefix running a command as an unprivileged user without sudo (None if impossible)."""
    if os.geteuid() != 0:
        return []  # already not root; the sudo stub on PATH makes sudo unavailable
    if shutil.which("setpriv") is None:
        return None
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@needs_make
@pytest.mark.parametrize("target", ["deps", "test"])
def test_non_root_without_sudo_stops_with_install_line(target):
    """(b) a missing Debian package, not root, no sudo: stop at once with the one-line install instruction."""
    prefix = _as_other_user()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot become an unprivileged user")
    if not os.path.exists("/usr/bin/python3"):
        pytest.skip("needs Debian's /usr/bin/python3 (the check's default PYTHON_SYS)")
    import pathlib
    import tempfile

    # pytest's tmp_path is private to root, and so may be TMPDIR's parents (a checkout under `mktemp -d`, mode 700):
    # the unprivileged user must reach the directory, else /tmp (removed at the end)
    base = tempfile.gettempdir()
    if any(not os.stat(d).st_mode & 0o001 for d in _ancestors(base)):
        base = "/tmp"
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="ephkin-deps-", dir=base))
    os.chmod(tmp_path, 0o777)
    work = tmp_path / "checkout"
    work.mkdir()
    for f in ("Makefile", "pyproject.toml"):
        shutil.copy(os.path.join(ROOT, f), work / f)
    os.chmod(work, 0o777)
    try:
        stubs, log = _stubs(tmp_path)
        t0 = time.perf_counter()
        r = subprocess.run([*prefix, "make", "--no-print-directory", "-C", str(work), target,
                            f"DEP_IMPORTS=json:python3-minimal ephkin_fake_missing_module:{FAKE_PKG}",
                            "DEP_COMMANDS=sh:dash"],
                           env=_env(stubs), capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - t0
        assert r.returncode != 0
        ours = [ln for ln in r.stderr.splitlines() if ln.startswith("ephkin deps:")]
        assert len(ours) == 1, r.stderr
        line = ours[0]
        assert "not root" in line and f"apt-get install -y --no-install-recommends {FAKE_PKG}" in line
        assert "PETSC_DIR=" in line and "python3-minimal" not in line  # only what is missing
        assert not log.exists() or "apt-get" not in log.read_text()  # apt was never tried
        assert not (work / ".venv").exists() and elapsed < 30  # stopped at once: nothing else ran
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


@needs_make
def test_own_petsc_dir_is_not_sent_to_apt(tmp_path):
    """A user's PETSC_DIR without petsc4py: one message about that PETSC_DIR, no apt (even as root)."""
    if not os.path.exists("/usr/bin/python3"):
        pytest.skip("needs Debian's /usr/bin/python3")
    stubs, log = _stubs(tmp_path)
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "deps", "VENV=/nonexistent-ephkin-venv",
                        "PETSC_DIR=/opt/my-own-petsc", "DEP_COMMANDS=sh:dash",
                        "DEP_IMPORTS=ephkin_fake_missing_module:python3-petsc4py-real"],
                       env=_env(stubs), capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "your PETSC_DIR=/opt/my-own-petsc" in r.stderr and not log.exists(), r.stderr


# ------------------------------------------------------- PETSc: lazy, and one line when unusable
def _run_py(code, tmp_path, extra_path=(), env_extra=None, args=()):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, extra_path), ROOT, env.get("PYTHONPATH", "")])
    env.update(env_extra or {})
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=str(tmp_path))


BLOCK = """
import sys
for m in ("petsc4py", "slepc4py", "mpi4py"):
    sys.modules[m] = None  # import fails as if they were not installed
"""


def test_equilibrium_runs_without_petsc(tmp_path):
    """lambda-c with petsc4py/slepc4py/mpi4py unimportable: runs; stability: exit 2, one line, the apt line."""
    r = _run_py(BLOCK + """
from ephkin.solvers.cli import main
sys.exit(main(sys.argv[1:]))
""", tmp_path, args=["lambda-c", "--spectrum", "einstein", "--T0", "0.2", "--json"])
    assert r.returncode == 0, r.stderr
    assert abs(json.loads(r.stdout)["lambda_c"] - 1.27159) < 1e-4
    r = _run_py(BLOCK + """
from ephkin.solvers.cli import main
sys.exit(main(sys.argv[1:]))
""", tmp_path, args=["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.204", "--method", "linear", "--json"])
    assert r.returncode == 0, r.stderr  # L = 556: LAPACK, certified by Cholesky, no PETSc start-up
    out = json.loads(r.stdout)
    assert out["solver"] == "dense" and abs(out["lambda_c"] - 1.5569940673) < 1e-9
    r = _run_py(BLOCK + """
from ephkin.solvers.cli import main
sys.exit(main(sys.argv[1:]))
""", tmp_path, args=["avalanche", "criterion", "--gamma", "0.1", "--g-ep", "0.5", "--omega0", "0.2", "--json"])
    assert r.returncode == 0 and "E_av" in json.loads(r.stdout), r.stderr
    r = _run_py(BLOCK + """
from ephkin.solvers.cli import main
sys.exit(main(sys.argv[1:]))
""", tmp_path, args=["stability", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2"])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install python3-petsc4py-real" in lines[0], r.stderr
    assert "internal error" not in r.stderr


def _petsc_failure(tmp_path, prelude, **kw):
    """(reason, message) of the PetscUnavailable that init_petsc raises after ``prelude`` in a fresh interpreter."""
    r = _run_py(prelude + """
from ephkin.solvers.petsc_env import PetscUnavailable, init_petsc
try:
    init_petsc()
except PetscUnavailable as exc:
    print(exc.reason, "|", exc)
""", tmp_path, **kw)
    assert r.returncode == 0, r.stderr
    reason, msg = r.stdout.split("|", 1)
    return reason.strip(), msg


def test_petsc_unavailable_is_an_input_error(tmp_path):
    reason, msg = _petsc_failure(tmp_path, BLOCK + """
from ephkin.pde.errors import InputError
from ephkin.solvers.petsc_env import PetscUnavailable, petsc_available
assert issubclass(PetscUnavailable, InputError)
assert not petsc_available()
""")
    assert reason == "missing" and "petsc4py" in msg and "apt-get install" in msg


def test_numpy_abi_mismatch_is_one_line(tmp_path):
    """A petsc4py whose extension fails as a numpy-1 build does under numpy 2: PetscUnavailable naming numpy."""
    for name, mod in (("petsc4py", "PETSc"), ("slepc4py", "SLEPc")):
        pkg = tmp_path / "fake" / name
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("__version__ = '0.0'\ndef init(args=None):\n    pass\n")
        (pkg / f"{mod}.py").write_text(
            "raise ValueError('numpy.dtype size changed, may indicate binary incompatibility. '"
            "'Expected 96 from C header, got 88 from PyObject')\n")
    reason, msg = _petsc_failure(tmp_path, "", extra_path=[tmp_path / "fake"],
                                 env_extra={"PETSC_DIR": "/nonexistent", "SLEPC_DIR": "/nonexistent"})
    assert reason == "numpy-abi", msg
    assert "numpy.dtype size changed" in msg and "numpy" in msg and "Fix:" in msg and "\n" not in msg.strip()


def test_versions_is_cheap_and_clean(tmp_path):
    """versions(): resolved PETSC_DIR, no NUL in the MPI string, nothing heavy imported, MPI not initialised."""
    r = _run_py("""
import json, sys
from ephkin.solvers.petsc_env import versions
v = versions()
heavy = [m for m in ("petsc4py.PETSc", "slepc4py.SLEPc", "mpi4py.MPI", "matplotlib", "scipy", "meshio", "h5py")
         if m in sys.modules]
print(json.dumps({"v": v, "heavy": heavy}))
""", tmp_path, env_extra={"PETSC_DIR": "", "SLEPC_DIR": ""})
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    v = out["v"]
    assert out["heavy"] == []
    assert "\x00" not in (v["mpi"] or "")
    for k in ("PETSC_DIR", "SLEPC_DIR", "petsc4py_path", "numpy_required_by_petsc4py", "petsc", "mumps", "mpi"):
        assert k in v
    if v["petsc4py_path"]:
        assert v["PETSC_DIR"] and v["petsc"] and v["numpy_required_by_petsc4py"]


# ------------------------------------------------------------------------------- the pip route
#: The commands of the pip route that need no PETSc, each ending with one JSON object on stdout.
PURE_PYTHON = [
    ["nac", "sigma", "--omega-p", "0.5", "--zeta", "inf", "--json"],
    ["zinv", "--spectrum", "einstein", "--T0", "0.2", "--json"],
    ["spectrum", "--spectrum", "modes:40-60", "--json"],
    ["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.18", "--json"],
    ["cel", "--spectrum", "einstein", "--lam", "4.5", "--units", "plain", "--json"],
    ["avalanche", "criterion", "--gamma", "0.005", "--g-ep", "0.3", "--omega0", "0.3", "--json"],
]

#: Names numpy 2 no longer has in its main namespace (the NumPy 2.0 migration guide's list, and trapz, in1d,
#: row_stack, removed later).
NUMPY2_REMOVED = (
    "trapz in1d row_stack product cumproduct sometrue alltrue asfarray float_ complex_ cfloat clongfloat longcomplex "
    "longfloat singlecomplex string_ unicode_ Inf Infinity infty NaN NINF PINF NZERO PZERO round_ msort "
    "find_common_type issubclass_ issctype issubsctype obj2sctype sctype2char maximum_sctype mat recfromcsv "
    "recfromtxt safe_eval deprecate deprecate_with_doc disp who lookfor source byte_bounds set_string_function "
    "fastCopyAndTranspose cast geterrobj seterrobj compat add_newdoc_ufunc get_array_wrap format_parser "
    "compare_chararrays sctypes set_numeric_ops tracemalloc_domain"
).split()

#: ephkin's main() with NUMPY2_REMOVED missing for ephkin's own modules (numpy, scipy and matplotlib keep them:
#: pip gives them their numpy-2 versions anyway).
_NUMPY2_SHIM = """import sys
import numpy as np
removed = {n: getattr(np, n) for n in sys.argv[1].split() if hasattr(np, n)}
for n in removed:
    delattr(np, n)
previous = np.__getattr__
def __getattr__(name):
    if name in removed:
        if sys._getframe(1).f_globals.get("__name__", "").startswith("ephkin"):
            raise AttributeError(f"module 'numpy' has no attribute {name!r} (removed in numpy 2)")
        return removed[name]
    return previous(name)
np.__getattr__ = __getattr__
from ephkin.solvers.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _one_json(r, argv):
    assert r.returncode == 0, f"ephkin {' '.join(argv)}: exit {r.returncode}: {r.stderr}"
    assert r.stdout.count("\n") == 1, r.stdout
    return json.loads(r.stdout)


@pytest.mark.parametrize("argv", PURE_PYTHON, ids=lambda a: " ".join(a[:2]))
def test_pure_python_commands_use_nothing_numpy_2_removed(tmp_path, argv):
    """The quick stand-in of the pip route below (in make test): the commands that need no PETSc, with every name
    numpy 2 removed missing for ephkin's code -- what ruff's NPY201 checks in the source, checked on what the
    commands really call (pde/nac.py's np.trapz made nac sigma fail here, as it did under numpy 2.4)."""
    r = subprocess.run([sys.executable, "-c", _NUMPY2_SHIM, " ".join(NUMPY2_REMOVED)] + argv, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert _one_json(r, argv)


def test_the_numpy_2_stand_in_can_fail(tmp_path):
    """Under the stand-in, ephkin code calling np.trapz is an AttributeError; other modules keep the name."""
    probe = _NUMPY2_SHIM.replace("from ephkin.solvers.cli import main\nsys.exit(main(sys.argv[2:]))\n", "")
    probe += "g = {'__name__': 'ephkin.probe', 'np': np}\nexec('np.trapz([1.0, 2.0])', g)\n"
    for module, code in (("ephkin.probe", 1), ("scipy.probe", 0)):
        r = subprocess.run([sys.executable, "-c", probe.replace("ephkin.probe", module), " ".join(NUMPY2_REMOVED)],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert r.returncode == code, r.stderr
        assert ("'trapz' (removed in numpy 2)" in r.stderr) == bool(code)


def _source_copy(dest):
    """The checkout's tracked files (what pip installs from a clone) copied to ``dest``: pip builds in the source
    tree (build/, *.egg-info), which must not be the checkout."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in files.decode().split("\0"):
        if rel and os.path.isfile(os.path.join(ROOT, rel)):
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(dest, rel))
    return dest


@pytest.mark.slow  # needs PyPI (network) for the numpy/scipy/matplotlib/meshio/h5py wheels: make test-pip
def test_pip_install_into_fresh_venv(tmp_path):
    """(c) pip install . 'numpy>=2.4' into a venv without system site packages: the commands that need no PETSc
    exit 0 with one JSON object each, PETSc's exit 2 in one line.  Without PyPI it is skipped, unless
    EPHKIN_REQUIRE_PYPI is set (make test-pip, CI)."""
    src = _source_copy(str(tmp_path / "src"))
    v = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", str(v)], check=True, timeout=300)
    pip_env = dict(os.environ, PIP_CACHE_DIR=str(tmp_path / "pip-cache"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([str(v / "bin" / "pip"), "install", "-q", src, "numpy>=2.4"], capture_output=True, text=True,
                       timeout=1800, env=pip_env)
    offline = "NewConnectionError" in r.stderr or "No matching distribution" in r.stderr
    if r.returncode != 0 and offline and not os.environ.get("EPHKIN_REQUIRE_PYPI"):
        pytest.skip("no PyPI access: " + r.stderr.strip().splitlines()[-1])
    assert r.returncode == 0, r.stderr[-3000:]
    env = {k: val for k, val in os.environ.items() if k not in ("PYTHONPATH", "PETSC_DIR", "SLEPC_DIR")}
    numpy = subprocess.run([str(v / "bin" / "python"), "-c", "import numpy; print(numpy.__version__)"],
                           capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert tuple(int(x) for x in numpy.stdout.split(".")[:2]) >= (2, 4), numpy.stdout
    ephkin = str(v / "bin" / "ephkin")
    r = subprocess.run([ephkin, "--version"], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert r.returncode == 0 and r.stdout.startswith("ephkin "), r.stderr
    for argv in PURE_PYTHON:
        r = subprocess.run([ephkin] + argv, capture_output=True, text=True, env=env, timeout=300, cwd=str(tmp_path))
        res = _one_json(r, argv)
        if argv[0] == "lambda-c":
            assert round(res["lambda_c"], 5) == 1.13321
    for extra in ({}, {"PETSC_DIR": "/nonexistent", "SLEPC_DIR": "/nonexistent"}):
        r = subprocess.run([ephkin, "stability", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2"],
                           capture_output=True, text=True, env={**env, **extra}, timeout=300, cwd=str(tmp_path))
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1, r.stderr
        assert "internal error" not in lines[0]
        # petsc4py missing: the apt line; Debian's petsc4py under a pip numpy 2: the numpy it needs
        assert "apt-get install python3-petsc4py-real" in lines[0] or "pip install 'numpy==" in lines[0], lines[0]


def test_readme_lists_the_debian_packages_make_installs():
    """README's Debian package list is the Makefile's: every package `deps` may install (DEP_IMPORTS,
    DEP_COMMANDS, python3-venv), python3-hypothesis for the tests' property-based cases included."""
    import re

    text = open(MAKEFILE, encoding="utf-8").read().replace("\\\n", " ")
    make = {"python3-venv"}
    for var in ("DEP_IMPORTS", "DEP_COMMANDS"):
        value = re.search(rf"^{var} \?=(.*)$", text, re.M).group(1)
        make |= {pair.rsplit(":", 1)[1] for pair in value.split()}
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    line = next(ln for ln in readme.splitlines() if ln.startswith("- the Debian packages that are really missing"))
    listed = set(re.findall(r"`((?:python3-|openmpi-)[a-z0-9-]+)`", line))
    assert listed == make, f"README lacks {sorted(make - listed)}, lists extra {sorted(listed - make)}"
