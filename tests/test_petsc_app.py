"""ephkin behaves like a PETSc application (issue 23): PETSc sees the command line (-log_view, -help,
-options_left), monitors and views never break --json, misplaced options get a hint, long phases report progress
on stderr (silent with --quiet)."""

import json
import os
import subprocess
import sys

import pytest

from ephkin.solvers import progress
from ephkin.solvers.options import misplaced_hint

STAB = ["stability", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--refine", "8", "--json"]
EVOLVE = [
    "evolve",
    "--spectrum",
    "einstein",
    "--T0",
    "0.2",
    "--T-in",
    "0.202",
    "--t-end",
    "0.5",
    "--grid-step",
    "0.05",
    "--cutoff",
    "6",
    "--json",
]


def _ephkin(args, tmp_path, **env_extra):
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1", **env_extra)
    r = subprocess.run(
        [sys.executable, "-m", "ephkin.solvers.cli"] + args,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return r


@pytest.mark.parametrize(
    "extra, in_stderr",
    [
        (["-log_view", "-stab_eps_monitor"], ["PETSc Performance Summary", "EPS nconv="]),
        (["-stab_eps_view"], ["EPS Object: (stab_)"]),
        (["-help"], ["-stab_eps_type <"]),
        (
            ["-options_left", "-stab_ksp_monitor"],
            ["Option left: name:-stab_ksp_monitor", "did you mean -stab_st_ksp_monitor?"],
        ),
    ],
)
def test_petsc_output_goes_to_stderr_and_stdout_stays_one_json_object(tmp_path, extra, in_stderr):
    r = _ephkin(STAB + extra, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)  # exactly one JSON object, nothing else
    assert out["L"] == 3378 and r.stdout.count("\n") == 1
    for text in in_stderr:
        assert text in r.stderr, (text, r.stderr[-3000:])


def test_ts_monitor_with_json(tmp_path):
    r = _ephkin(EVOLVE + ["-kin_ts_monitor", "-kin_monitor"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["status"] == "stable" and r.stdout.count("\n") == 1
    assert "TS dt" in r.stderr and "did you mean -kin_ts_monitor?" in r.stderr


NAC = ["nac", "sigma", "--omega-p", "0.5", "--zeta", "2", "--mu", "0", "--t-end", "0.5", "--json"]
AVAL = [
    "avalanche",
    "lattice",
    "--gamma",
    "0.005",
    "--g-ep",
    "0.3",
    "--omega0",
    "0.3",
    "--E",
    "0.1",
    "--n-omega",
    "4096",
    "--solver",
    "snes",
    "--tol",
    "1e-5",
    "--json",
]


@pytest.mark.parametrize(
    "cmd, opts, text",
    [
        (EVOLVE, ["-kin_snes_monitor", "-kin_ksp_monitor", "-kin_ts_view"], "SNES Function norm"),
        (NAC, ["-nac_ts_monitor", "-nac_ts_view"], "TS dt"),
        (AVAL, ["-aval_snes_monitor", "-aval_snes_view"], "SNES Function norm"),
        (STAB, ["-stab_st_ksp_monitor", "-stab_eps_view", "-stab_eps_monitor_conv"], "EPS Object"),
    ],
)
def test_every_engines_monitors_and_views_keep_json_on_stdout(tmp_path, cmd, opts, text):
    r = _ephkin(cmd + opts, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    json.loads(r.stdout)
    assert r.stdout.count("\n") == 1 and text in r.stderr


def test_without_json_monitors_stay_on_stdout_as_in_any_petsc_program(tmp_path):
    r = _ephkin([a for a in EVOLVE if a != "--json"] + ["-kin_ts_monitor"], tmp_path)
    assert r.returncode == 0 and "TS dt" in r.stdout and "status: stable" in r.stdout


def test_misplaced_option_hints():
    assert misplaced_hint("-stab_ksp_monitor", ["stab_"]) == " (did you mean -stab_st_ksp_monitor?)"
    assert misplaced_hint("-stab_pc_type", ["stab_"]) == " (did you mean -stab_st_pc_type?)"
    assert misplaced_hint("-stab_nev", ["stab_"]) == " (did you mean -stab_eps_nev?)"
    assert misplaced_hint("-eps_nev", ["stab_"]) == " (did you mean -stab_eps_nev?)"
    assert misplaced_hint("-kin_monitor", ["kin_"]) == " (did you mean -kin_ts_monitor?)"
    assert misplaced_hint("-stab_eps_nevv", ["stab_"]) == ""  # a typo under a right object: no guess
    assert misplaced_hint("-log_view", ["stab_"]) == ""


def test_engine_progress_reaches_the_sink_and_is_silent_without_one(monkeypatch):
    from ephkin.solvers import api

    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    lines = []
    api.stability("modes:40-60", 1.0, 0.2, refine=8, nev=2, solver="slepc", progress=lines.append)
    assert any(line.startswith("stability: L = 3378") for line in lines)
    assert any("SLEPc stab_" in line and "converged" in line for line in lines), lines
    assert progress.eps_monitor("x", 1) is None  # no sink outside a run: no monitor at all


def test_a_quick_command_and_a_refusal_print_no_progress(tmp_path):
    r = _ephkin(STAB, tmp_path)  # well under 2 s per phase: nothing but the JSON
    assert r.returncode == 0 and r.stderr == ""
    bad = _ephkin(STAB + ["-stab_eps_type", "lobpcg", "-stab_st_type", "shift"], tmp_path)  # needs ST precond
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "lobpcg" in bad.stderr


def test_quiet_silences_progress_not_errors(tmp_path):
    loud = _ephkin(STAB, tmp_path, EPHKIN_PROGRESS_EVERY="0")  # every phase at once (default: after 2 s)
    quiet = _ephkin(STAB + ["--quiet"], tmp_path, EPHKIN_PROGRESS_EVERY="0")
    assert "stability: L = 3378" in loud.stderr and quiet.stderr == ""
    assert json.loads(quiet.stdout) == {**json.loads(loud.stdout), "elapsed_s": json.loads(quiet.stdout)["elapsed_s"]}
    bad = _ephkin(STAB + ["--quiet", "--nev", "0"], tmp_path)
    assert bad.returncode == 2 and "--nev" in bad.stderr
