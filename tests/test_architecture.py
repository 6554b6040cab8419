"""The package's shape: one import namespace, three floors, no import cycle.

Every import statement of every module (function-level ones included) is read
from the source with ``ast``; the floors are pde (physics) <- solvers (engines)
<- solvers.cli (the command layer), and an import may only go down or sideways.
"""

import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = {"pde": "ephkin.pde", "solvers": "ephkin.solvers"}


def _modules():
    """{dotted module name: path} of the installed package, from the source folders."""
    out = {}
    for folder, package in FOLDERS.items():
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            rel = os.path.relpath(dirpath, os.path.join(ROOT, folder))
            pkg = package if rel == "." else package + "." + rel.replace(os.sep, ".")
            for f in files:
                if f.endswith(".py"):
                    out[pkg if f == "__init__.py" else f"{pkg}.{f[:-3]}"] = os.path.join(dirpath, f)
    return out


MODULES = _modules()


def _imports(name, path):
    """Absolute names of every module imported by ``name`` (relative imports resolved)."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES)
    return out


GRAPH = {m: {i for i in _imports(m, p) if i in MODULES and i != m} for m, p in MODULES.items()}
RAW = {m: _imports(m, p) for m, p in MODULES.items()}


def _floor(module):
    """pde (physics) 0 <- solvers engines 1 <- studies and the API 2 <- cli 3."""
    if module.startswith("ephkin.solvers.cli"):
        return 3
    if module.startswith("ephkin.solvers.studies") or module == "ephkin.solvers.api":
        return 2
    return 1 if module.startswith("ephkin.solvers") else 0


def test_no_top_level_pde_or_solvers_imports():
    bad = [(m, i) for m, imps in RAW.items() for i in imps if i.split(".")[0] in ("pde", "solvers")]
    assert not bad, bad


def test_imports_only_go_down_a_floor():
    up = [(m, i) for m, imps in GRAPH.items() for i in imps if _floor(i) > _floor(m)]
    assert not up, f"imports that run up a floor: {up}"


def test_physics_layer_has_no_petsc():
    bad = [(m, i) for m, imps in RAW.items() if _floor(m) == 0 for i in imps
           if i.split(".")[0] in ("petsc4py", "slepc4py", "mpi4py", "matplotlib", "meshio", "h5py")]
    assert not bad, bad


def test_no_import_cycle():
    # Tarjan's strongly connected components; a package __init__ importing its own submodules is the
    # package assembling itself (a submodule importing its package's __init__ back would be a cycle)
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not sccs, f"import cycles: {sccs}"


def test_cycle_detection_can_fail():
    # the test above must see a cycle when there is one
    GRAPH["ephkin.pde.errors"].add("ephkin.pde.spectra")
    try:
        with pytest.raises(AssertionError):
            test_no_import_cycle()
    finally:
        GRAPH["ephkin.pde.errors"].discard("ephkin.pde.spectra")


def test_namespace_outside_the_checkout(tmp_path):
    code = ("import ephkin.pde, ephkin.solvers, ephkin.solvers.api, ephkin.solvers.cli\n"
            "import importlib.util as u\n"
            "assert u.find_spec('pde') is None and u.find_spec('solvers') is None\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_equilibrium_commands_do_not_load_petsc(tmp_path):
    code = ("import sys\nfrom ephkin.solvers.cli import main\n"
            "assert main(['lambda-c', '--spectrum', 'einstein', '--T0', '0.2', '--json']) == 0\n"
            "assert main(['zinv', '--strong-coupling', '--T0', '0.1827', '--json']) == 0\n"
            "heavy = [m for m in ('petsc4py', 'slepc4py', 'mpi4py', 'matplotlib', 'meshio') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_python_api_example_runs():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "docs", "example_api.py")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "lambda_c(Z0) = 1.13321" in r.stdout and "NAC: sigma/sigma0 = -0.2459" in r.stdout
