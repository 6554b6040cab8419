"""Start-up (issue 26): what the cheap commands load.

``ephkin --version`` loads neither a command family nor numpy; ``--help`` and ``COMMAND --help`` build every
command's flags from the studies' declarations without scipy; the equilibrium commands and ``info`` load
neither PETSc/MPI nor matplotlib nor the engines of the other families (the linear problem, the kinetic
equation, the NAC and avalanche models, the SLEPc/TS engines).  Each command runs in a fresh interpreter that
writes the names in ``sys.modules`` after ``main`` returned.
"""

import json
import subprocess
import sys

import pytest

#: Never for a cheap command: PETSc, MPI, plotting and the time-series writers.
PETSC_AND_PLOTS = ("petsc4py", "slepc4py", "mpi4py", "matplotlib", "meshio", "h5py")
#: The engines of the other families (modules, or packages whose every submodule counts).  ``solvers.bridge`` is
#: not one: every command asks it which rank writes (numpy only, PETSc not started).
OTHER_FAMILIES = (
    "ephkin.pde.linearized",
    "ephkin.pde.kinetic",
    "ephkin.pde.electron_electron",
    "ephkin.pde.electron_phonon",
    "ephkin.pde.initial_states",
    "ephkin.pde.keldysh",
    "ephkin.pde.nac",
    "ephkin.pde.avalanche",
    "ephkin.solvers.eps",
    "ephkin.solvers.ts",
    "ephkin.solvers.evolution",
    "ephkin.solvers.nac",
    "ephkin.solvers.avalanche",
    "ephkin.solvers.sweep",
    "ephkin.solvers.xdmf",
    "ephkin.solvers.plots",
    "ephkin.solvers.stability.counting",
    "ephkin.solvers.stability.smallest",
    "ephkin.solvers.stability.lambda_c",
    "ephkin.solvers.stability.summary",
    "ephkin.solvers.stability.matrix_free",
)
EQUILIBRIUM = PETSC_AND_PLOTS + OTHER_FAMILIES
HELP = EQUILIBRIUM + ("scipy",)

CASES = {
    "--version": (["--version"], HELP + ("numpy", "ephkin.solvers.studies", "ephkin.solvers.cli.equilibrium")),
    "--help": (["--help"], HELP),
    "stability --help": (["stability", "--help"], HELP),
    "evolve --help": (["evolve", "--help"], HELP),
    "info": (["info", "--json"], HELP),
    "spectrum": (["spectrum", "--spectrum", "einstein", "--json"], EQUILIBRIUM),
    "zinv": (["zinv", "--spectrum", "modes:40-60", "--T0", "0.2", "--json"], EQUILIBRIUM),
    "zinv strong": (["zinv", "--strong-coupling", "--T0", "0.1827", "--json"], EQUILIBRIUM),
    "cel": (["cel", "--spectrum", "einstein", "--lam", "4.5", "--units", "plain", "--json"], EQUILIBRIUM),
    "transport": (["transport", "--bloch-gruneisen", "0.3", "--T", "0.1", "0.2", "--json"], EQUILIBRIUM),
    "two-temp": (
        ["two-temp", "--spectrum", "einstein", "--lam", "4.5", "--units", "plain", "--T0", "0.5", "--T-in", "0.505",
         "--json"],
        EQUILIBRIUM,
    ),
    "lambda-c zinv": (["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.18", "--json"], EQUILIBRIUM),
    # the linear problem is this command's own; PETSc is not (LAPACK at these L: 451 and 630 <= LC_DENSE_MAX,
    # where it costs less than PETSc's start-up; L = 630 took SLEPc before issue 26)
    "lambda-c linear": (
        ["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.18", "--method", "linear", "--json"],
        PETSC_AND_PLOTS,
    ),
    "lambda-c linear L 630": (
        ["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.217", "--method", "linear", "--json"],
        PETSC_AND_PLOTS,
    ),
}

_PROBE = """
import json, sys
from ephkin.solvers.cli import main
try:
    status = main(sys.argv[2:])
except SystemExit as exc:
    status = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"status": status, "modules": sorted(sys.modules)}, fh)
"""


def loaded(tmp_path, argv):
    """(exit status, the modules in sys.modules) after ``ephkin ARGV`` in a fresh interpreter."""
    out = tmp_path / "modules.json"
    r = subprocess.run([sys.executable, "-c", _PROBE, str(out), *argv], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and out.exists(), r.stderr
    data = json.loads(out.read_text())
    return data["status"], set(data["modules"])


def heavy(modules, forbidden):
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("case", list(CASES))
def test_cheap_commands_load_nothing_heavy(tmp_path, case):
    argv, forbidden = CASES[case]
    status, modules = loaded(tmp_path, argv)
    assert status in (0, None), f"ephkin {' '.join(argv)} ended with {status}"
    assert not heavy(modules, forbidden), f"ephkin {' '.join(argv)} loaded {heavy(modules, forbidden)}"


def test_the_probe_sees_heavy_modules(tmp_path):
    # the check above must be able to fail: a PETSc command loads PETSc and the linear problem
    status, modules = loaded(tmp_path, ["lambda-c", "--spectrum", "einstein", "--T0", "0.2", "--method", "linear",
                                        "--solver", "slepc", "--json"])
    assert status == 0
    assert {"petsc4py", "slepc4py", "ephkin.pde.linearized", "ephkin.solvers.stability.lambda_c"} <= modules


#: What a command of another family declares: its command family and its studies (issue 26: ``main`` builds only the
#: parser of the command's own family, and the studies are discovered only when every one is asked for).
OTHER_COMMANDS = ("ephkin.solvers.cli.kinetic", "ephkin.solvers.cli.nac", "ephkin.solvers.cli.avalanche",
                  "ephkin.solvers.cli.runs", "ephkin.solvers.cli.equilibrium", "ephkin.solvers.studies.evolve",
                  "ephkin.solvers.studies.nac_sigma", "ephkin.solvers.studies.avalanche_lattice",
                  "ephkin.solvers.studies.zinv")


def test_a_command_builds_only_its_family(tmp_path):
    status, modules = loaded(tmp_path, ["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.18", "--method", "linear",
                                        "--json"])
    assert status in (0, None)
    assert not heavy(modules, OTHER_COMMANDS), heavy(modules, OTHER_COMMANDS)
    # the whole parser (a run file names any command) still has them all
    status, modules = loaded(tmp_path, ["--help"])
    assert set(OTHER_COMMANDS) <= modules


def test_command_family_table_matches_the_families():
    import argparse

    from ephkin.solvers import cli

    declared = {}
    for family in cli.families():
        sub = argparse.ArgumentParser().add_subparsers()
        family.add_commands(sub)
        declared.update({name: family.__name__.rsplit(".", 1)[1] for name in sub.choices})
    assert cli.COMMAND_FAMILY == {k: v for k, v in declared.items() if v != "runs"}
