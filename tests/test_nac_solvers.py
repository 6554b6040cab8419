"""`ephkin nac` (seed 001) through PETSc TS: the JSON contract, PETSc against SciPy, Eq. (8) as the
zeta -> inf limit, the spontaneous field, one-line errors."""

import json

import numpy as np
import pytest

from ephkin.pde.dos import make_dos
from ephkin.pde.nac import NACModel
from ephkin.solvers.cli import main


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_sigma_eq8_and_evolved_contract(capsys):
    # --zeta inf is Eq. (8); seed 001 Fig. 2a: sigma < 0 at the commensurate omega_p = W/2
    r = run_json(capsys, "nac", "sigma", "--dos", "semicircle", "--mu", "0", "--T", "0.003", "--omega-p", "0.5",
                 "--zeta", "inf")
    assert r["zeta"] == "inf" and r["mu"] == pytest.approx(0.0, abs=1e-12)
    assert r["sigma_over_sigma0"] == pytest.approx(-0.2459, abs=2e-4)
    r20 = run_json(capsys, "nac", "sigma", "--mu", "0", "--omega-p", "0.5", "--zeta", "20", "--t-end", "10")
    assert {"sigma_over_sigma0", "particle_number_drift"} <= set(r20)
    assert r20["particle_number_drift"] < 1e-10 and -0.2459 < r20["sigma_over_sigma0"] < -0.2
    # between the commensurate frequencies sigma > 0 (Fig. 2a)
    assert run_json(capsys, "nac", "sigma", "--mu", "0", "--omega-p", "0.38", "--zeta", "inf")["sigma_over_sigma0"] > 0


def test_petsc_ts_agrees_with_scipy_bdf():
    # the same Eq. (2) at fixed zeta by PETSc TS (BDF, assembled Jacobian) and SciPy's BDF
    from ephkin.solvers.nac import integrate

    m = NACModel(make_dos("semicircle"), 0.36, T=0.003, filling=0.5, hold_zeta=True, gamma_in=0.01)
    ref = m.evolve_fixed(20.0, 3.0, rtol=1e-10, atol=1e-13)
    run = integrate(m, m.initial(20.0), 3.0, rtol=1e-10, atol=1e-13)
    assert np.max(np.abs(run["y"][:-1] - ref)) < 1e-7
    assert abs(m.conductivity(run["y"][:-1]) - m.conductivity(ref)) < 1e-7
    assert abs(run["y"][-1] - 20.0) < 1e-10 and run["particle_number_drift"] < 1e-12


def test_long_time_approaches_eq8_like_one_over_zeta(capsys):
    d = [run_json(capsys, "nac", "sigma", "--mu", "0", "--omega-p", "0.5", "--zeta", z)["max_abs_df_vs_eq8"]
         for z in ("1e3", "1e4")]
    assert d[1] < 1e-4 and d[0] / d[1] == pytest.approx(10.0, rel=0.1)


def test_energy_conserved_by_ts_without_bath_pump_decay():
    # St_el + St_ph conserve int eps D f + omega_p zeta (docs/theory.md §7): the TS run keeps it
    from ephkin.solvers.nac import integrate

    m = NACModel(make_dos("semicircle"), 0.3, T=0.003, filling=0.5)
    run = integrate(m, m.initial(5.0), 2.0, rtol=1e-10, atol=1e-13)
    e = run["history"]["energy"]
    assert abs(e[-1] - e[0]) < 1e-9 * abs(m.omega_p * 5.0) and run["y"][-1] < 5.0  # zeta gave energy away


def test_pulse_transient_and_spontaneous_field(capsys, tmp_path):
    # Fig. 3: a pulse drives sigma < 0; with the self-tuned field E* sigma stays at 0+ while E* > 0
    base = ["nac", "evolve", "--filling", "0.3333333", "--omega-p", "0.6667", "--zeta0", "10", "--tau-pulse", "0.3",
            "--tau-ph", "5", "--t-end", "3"]
    free = run_json(capsys, *base)
    tuned = run_json(capsys, *base, "--spontaneous", "-o", str(tmp_path / "s"))
    assert free["sigma_min"] < -0.2 and free["E_star_max"] == 0.0
    assert tuned["sigma_min"] > -1e-3 and tuned["E_star_max"] > 0.1
    t0, t1 = tuned["E_star_on_interval"]
    assert 0.2 < t0 < 0.4 and t1 < 3.0
    for name in ("transient.png", "transient.csv", "f_final.png", "f_E_t.xdmf", "f_E_t_h5", "summary.json"):
        assert (tmp_path / "s" / name).exists()


@pytest.mark.parametrize("argv, words", [
    (["--omega-p", "0", "--zeta", "inf"], "--omega-p must be > 0"),
    (["--omega-p", "0.5", "--zeta", "inf", "--filling", "1.2"], "filling must lie in (0, 1)"),
    (["--omega-p", "0.5", "--zeta", "inf", "--T", "-0.1"], "--T must be > 0"),
    (["--omega-p", "0.5", "--zeta", "-3"], "--zeta"),
    (["--omega-p", "0.5", "--zeta", "inf", "--dos", "sombrero"], "unknown DoS 'sombrero'"),
    (["--omega-p", "0.5", "--zeta", "inf", "--mu", "0", "--filling", "0.5"], "--mu: give either mu or filling"),
])
def test_bad_input_one_line(capsys, argv, words):
    try:
        code = main(["nac", "sigma"] + argv)
    except SystemExit as exc:  # argparse type errors exit directly
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_negative_dos_file_one_line(capsys, tmp_path):
    p = tmp_path / "dos.dat"
    p.write_text("-0.5 0.1\n0.0 -1.0\n0.5 0.1\n")
    assert main(["nac", "sigma", "--dos", f"file:{p}", "--omega-p", "0.3", "--zeta", "inf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "negative" in err
