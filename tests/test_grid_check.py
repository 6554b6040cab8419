"""evolve's grid-convergence check (--converge, api.evolve(converge=True)); docs/grid-convergence.md."""

import json

import pytest

from ephkin.pde.errors import InputError
from ephkin.solvers import api
from ephkin.solvers.cli import main

FIG1B = dict(spectrum="einstein", lam=1.0, T0=0.2, T_in=0.202, diagnostics=False)


def test_converge_adds_grid_check_only_when_asked():
    plain = api.evolve(t_end=1.0, grid_step=0.025, **FIG1B)
    assert "grid_check" not in plain
    r = api.evolve(t_end=1.0, grid_step=0.025, converge=True, **FIG1B)
    gc = r["grid_check"]
    assert gc["fine"]["L"] == r["L"] and gc["fine"]["grid_step"] == pytest.approx(0.025)
    assert gc["coarse"]["grid_step"] == pytest.approx(0.05) and gc["coarse"]["L"] == r["L"] // 2
    assert gc["fine"]["status"] == gc["coarse"]["status"] == "stable" and gc["status_agrees"]
    assert gc["verdict"] == "converged" and "why" not in gc
    # the fine grid's own numbers are the run's, and the margins agree to well within the tolerance
    assert gc["fine"]["min_mass_diagonal"] == r["min_mass_diagonal"]
    assert gc["coarse"]["min_mass_diagonal"] == pytest.approx(r["min_mass_diagonal"], rel=1e-2)


def test_grid_verdict_rules():
    v = api.grid_verdict
    stable = {"status": "stable", "min_mass_diagonal": 0.0934, "decay_rate": 0.0047}
    assert v(stable, dict(stable, min_mass_diagonal=0.0933)) == ("converged", None)
    verdict, why = v(stable, dict(stable, min_mass_diagonal=0.072))  # refine 64 vs 32 with 1e-8 noise in f(0)
    assert verdict == "grid-dependent" and "min_mass_diagonal" in why
    unstable = {"status": "unstable", "t_instability": 3.52, "min_mass_diagonal": -0.04}
    verdict, why = v(unstable, stable)  # refine 512 against 256 at t_end = 5 (docs/grid-convergence.md)
    assert verdict == "grid-dependent" and "status" in why
    verdict, why = v(unstable, dict(unstable, t_instability=10.35))  # refine 512 against 256 at t_end = 20
    assert verdict == "grid-dependent" and "t_instability" in why
    assert v(unstable, dict(unstable, t_instability=3.9))[0] == "converged"  # within one BDF step (25%)


def test_converge_refuses_an_unresolvable_coarse_grid_before_running():
    # step 0.04 is valid (<= T0/4 = 0.05); the check's 0.08 is not: refused up front, naming the parameter
    with pytest.raises(InputError) as exc:
        api.evolve(t_end=1.0, grid_step=0.04, converge=True, **FIG1B)
    assert exc.value.param == "converge" and "finer grid" in str(exc.value)


def test_cli_converge_flag(capsys):
    argv = ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202", "--t-end", "1",
            "--grid-step", "0.025", "--no-diagnostics", "--json"]
    assert main(argv) == 0
    assert "grid_check" not in json.loads(capsys.readouterr().out)
    assert main(argv + ["--converge"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    gc = json.loads(out)["grid_check"]
    assert gc["verdict"] == "converged" and gc["coarse"]["L"] == 160


def _einstein_model(lam, grid_step):
    from ephkin.pde.kinetic import KineticModel
    from ephkin.pde.spectra import parse_spectrum as _shape
    from ephkin.solvers.stability import make_problem

    p = make_problem(_shape("einstein"), lam, 0.2, "g", "exact", 1, grid_step)
    return p, KineticModel(p)


def test_mass_loss_tells_a_grid_scale_oscillation_from_a_resolved_region():
    import numpy as np

    from ephkin.solvers.evolution import mass_loss

    # lambda = 2.169: Z0^-1 < 0 on a resolved interval (0.930 < E < 1.302, docs/theory.md §5)
    p, m = _einstein_model(2.169, 0.00679)
    window = p.E < p.grid.cutoff - 2.0 * float(np.max(p.omega_r))
    loss = mass_loss(m, m.f_eq, window)
    assert loss is not None and not loss["grid_scale"] and loss["longest_negative_run"] > 40
    assert 0.9 < loss["E"] < 1.35
    # lambda = 1: definite at f0; a 5-point-period wiggle of f at E - Omega (amplitude 0.15 eps, f' ~ 0.18)
    # reaches Sigma' at E through the kernel's pole and breaks 1 - Sigma' at isolated points only
    p, m = _einstein_model(1.0, 0.0025)
    window = p.E < p.grid.cutoff - 2.0 * float(np.max(p.omega_r))
    assert mass_loss(m, m.f_eq, window) is None
    bump = np.exp(-(((p.E - 0.42) / 0.03) ** 2))
    wiggle = 0.15 * p.grid.eps * bump * np.sin(2 * np.pi * np.arange(p.grid.L) / 5)
    loss = mass_loss(m, m.f_eq + wiggle, window)
    assert loss is not None and loss["grid_scale"] and loss["longest_negative_run"] <= 2
    assert abs(loss["E"] - 1.42) < 0.1 and loss["smoothed_min"] > 0.05
