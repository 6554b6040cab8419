"""evolve from any initial state (issue 24): the pulse of docs/theory.md §4, a tabulated f, and --restart; Eq. (15)
with a_ep = 0 relaxes a pulse to the Fermi function fixed by energy conservation (particle number: mu = 0)."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
from scipy.optimize import brentq

from ephkin.pde.electron_electron import gaussian_p
from ephkin.pde.eliashberg import fermi
from ephkin.pde.errors import InputError
from ephkin.pde.initial_states import parse_initial
from ephkin.pde.kinetic import KineticModel
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import api
from ephkin.solvers.stability import make_problem
from ephkin.solvers.studies.evolve import EvolveParams

PULSE = "pulse:1.0:0.1:0.05"  # E0 = 1, W = 0.1, A = 0.05 (units of Omega)
E0, W, A = 1.0, 0.1, 0.05


def _cli(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "ephkin.solvers.cli", *args], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def _model(lam, a_ep=0.0, a_ee=1.0):
    p = make_problem(parse_spectrum("einstein"), lam, 0.2, "plain", "exact", 1, None, None, a_ee=a_ee,
                     p_ee=gaussian_p(0.3))
    return KineticModel(p, a_ep=a_ep, a_ee=a_ee)


# ----------------------------------------------------------------------------------------------- the states
def test_pulse_formula_and_particle_number():
    E = 0.01 * np.arange(1, 801)
    f = parse_initial(PULSE).on_grid(E, 0.2)
    G = np.exp(-0.5 * ((E - E0) / W) ** 2) - np.exp(-0.5 * ((E + E0) / W) ** 2)
    np.testing.assert_allclose(f, fermi(E, 0.2) + A * G, rtol=0, atol=1e-15)
    # on the full line the change is odd (holes at -E0 mirror the electrons at +E0): it sums to zero exactly
    full = np.concatenate([-(A * G)[::-1], [0.0], A * G])
    assert abs(np.sum(full)) < 1e-15
    assert _model(0.05).particle_number(f) == pytest.approx(0.0, abs=1e-15)
    # the energy it adds is 2 x 2 int_0^inf E A G dE = 4 A E0 W sqrt(2 pi) (free electrons, eps sum exact here)
    assert 4 * 0.01 * np.sum(E * A * G) == pytest.approx(4 * A * E0 * W * np.sqrt(2 * np.pi), rel=1e-12)


def test_pulse_refused_where_f_exceeds_one(tmp_path):
    with pytest.raises(InputError) as e:
        parse_initial("pulse:0.3:0.1:0.9").on_grid(0.01 * np.arange(1, 801), 0.5)
    assert e.value.param == "initial" and "> 1" in str(e.value)
    with pytest.raises(InputError, match="> 1"):  # before any grid is built (a run file's points too)
        EvolveParams(spectrum="einstein", T0=0.2, T_in=0.5, t_end=1.0, initial="pulse:0.3:0.1:0.9")
    EvolveParams(spectrum="einstein", T0=0.2, T_in=0.5, t_end=1.0, initial="pulse:0.3:0.1:0.5")  # A <= 1/2
    out = tmp_path / "out"
    p = _cli("evolve", "--spectrum", "einstein", "--lam", "0.05", "--units", "plain", "--T0", "0.2", "--T-in", "0.5",
             "--t-end", "1", "--initial", "pulse:0.3:0.1:0.9", "-o", str(out), check=False)
    assert p.returncode == 2 and p.stdout == "" and not out.exists()
    assert p.stderr.count("\n") == 1 and "--initial pulse:0.3:0.1:0.9" in p.stderr and "AMPLITUDE" in p.stderr


@pytest.mark.parametrize("spec", ["pulse:1:0.1", "pulse:-1:0.1:0.05", "pulse:1:0:0.05", "pulse:1:x:0.05",
                                  "gaussian", "file:"])
def test_bad_specs_refused(spec):
    with pytest.raises(InputError) as e:
        parse_initial(spec)
    assert e.value.param == "initial"


def test_file_interpolated_with_thermal_tails(tmp_path):
    f = tmp_path / "f.dat"
    f.write_text("# E f\n0.5, 0.3\n1.0 0.1  # a comment\n\n0.75 0.2\n")  # unsorted, commas, comments
    E = np.array([0.25, 0.5, 0.6, 0.875, 1.0, 2.0])
    got = parse_initial(f"file:{f}").on_grid(E, 0.2)
    want = [fermi(0.25, 0.2), 0.3, 0.26, 0.15, 0.1, fermi(2.0, 0.2)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


def test_file_mirror_rows(tmp_path):
    E = np.linspace(-2, 2, 41)
    ok, bad = tmp_path / "ok.dat", tmp_path / "bad.dat"
    np.savetxt(ok, np.column_stack([E, fermi(E, 0.3)]))
    np.savetxt(bad, np.column_stack([E, fermi(E, 0.3) - 0.01 * (E < 0)]))
    parse_initial(f"file:{ok}")
    with pytest.raises(InputError, match="particle-hole symmetric"):
        parse_initial(f"file:{bad}")


@pytest.mark.parametrize(
    "content, match",
    [("0 0.5\n1 nan\n", "not finite"), ("0 0.5\n1 1.2\n", "outside"), ("0 0.5\n1 -0.1\n", "outside"),
     ("0 0.5\n1 0.1 3\n", "line 2"), ("0 0.5\nfoo bar\n", "line 2"), ("0 0.5\n", "at least two"),
     ("1 0.5\n1 0.4\n", "twice")],
)
def test_file_content_refused(tmp_path, content, match):
    f = tmp_path / "f.dat"
    f.write_text(content)
    with pytest.raises(InputError, match=match) as e:
        EvolveParams(spectrum="einstein", T0=0.2, T_in=0.2, t_end=1.0, initial=f"file:{f}")
    assert e.value.param == "initial"


def test_file_must_be_a_readable_regular_file(tmp_path):
    for path, why in ((tmp_path / "missing.dat", "no such file"), (tmp_path, "not a readable file")):
        p = _cli("evolve", "--spectrum", "einstein", "--T0", "0.2", "--T-in", "0.2", "--t-end", "1",
                 "--initial", f"file:{path}", check=False)
        assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
        assert p.stderr.startswith("ephkin evolve: error: --initial file:") and why in p.stderr


def test_file_state_is_the_run_of_its_table(tmp_path):
    """A table of the pulse (finer than the grid, up to E = 3, beyond which the pulse is f0(T_in)) runs as the
    pulse itself, to the interpolation error."""
    E = np.arange(1, 3001) * 1e-3
    table = tmp_path / "pulse.dat"
    np.savetxt(table, np.column_stack([E, parse_initial(PULSE).on_grid(E, 0.2)]), header="E f")
    kw = dict(units="plain", a_ep=0.5, a_ee=1.0, diagnostics=False)
    rf = api.evolve("einstein", 0.05, 0.2, 0.2, 20.0, initial=f"file:{table}", **kw)
    rp = api.evolve("einstein", 0.05, 0.2, 0.2, 20.0, initial=PULSE, **kw)
    assert rf.status == rp.status == "stable"
    assert rf.initial == f"file:{table}"
    assert abs(rf.initial_deviation - rp.initial_deviation) < 1e-5
    assert np.max(np.abs(rf.f_final - rp.f_final)) < 1e-5
    rt = api.evolve("einstein", 0.05, 0.2, 0.2, 20.0, **kw)  # the thermal start is another run
    assert np.max(np.abs(rt.f_final - rp.f_final)) > 1e-3


# ------------------------------------------------------------------------------- Eq. (15), a_ep = 0
def _final_temperature(model, f_init):
    """The Fermi function with the energy of f_init (Eq. (S6) functional, conserved when a_ep = 0): brentq here,
    independent of the run's T_eff."""
    E = model.p.E
    e0 = model.energy(f_init)
    return brentq(lambda T: model.energy(fermi(E, T)) - e0, 0.2, 0.3, xtol=1e-15, rtol=1e-15)


def test_closed_form_final_temperature_as_lambda_to_zero():
    """Free electrons: pi^2 T_f^2 / 3 = pi^2 T_in^2 / 3 + 4 A E0 W sqrt(2 pi); the self-energy's part of the
    energy is O(lambda), so the functional's T_f tends to the closed form linearly in lambda."""
    Tc = np.sqrt(0.2**2 + 12 * A * E0 * W * np.sqrt(2 * np.pi) / np.pi**2)
    err = []
    for lam in (0.05, 0.0125):
        m = _model(lam)
        err.append(abs(_final_temperature(m, parse_initial(PULSE).on_grid(m.p.E, 0.2)) - Tc) / Tc)
    assert err[0] < 0.01 and 3.0 < err[0] / err[1] < 5.0, err


def test_pure_ee_relaxes_a_pulse_to_the_fermi_function():
    """Eq. (15) with a_ep = 0, a_ee = 1: the pulse ends at f0(T_f), T_f fixed by energy conservation (the chemical
    potential stays 0: particle-hole symmetry keeps the particle number), to the grid's accuracy."""
    r = api.evolve("einstein", 0.05, 0.2, 0.2, 1000.0, units="plain", a_ep=0.0, a_ee=1.0, initial=PULSE,
                   diagnostics=False)
    assert r.status == "stable" and r.initial == PULSE
    m = _model(0.05)
    Tf = _final_temperature(m, parse_initial(PULSE).on_grid(m.p.E, 0.2))
    assert np.max(np.abs(r.f_final - fermi(r.E, Tf))) < 1e-7
    assert abs(r.T_eff_final - Tf) < 1e-7
    assert r.particle_number_drift < 1e-14
    e0 = m.energy(parse_initial(PULSE).on_grid(m.p.E, 0.2))
    assert abs(r.extra["energy_change"]) < 1e-5 * e0  # conserved (fourth-order derivatives in Sigma')
    assert r.energy_balance_error < 1e-5  # relative to e0 when a_ep = 0
    assert 0.2 < Tf < 0.24 and Tf > 0.2 + 0.01  # heated by the pulse


# -------------------------------------------------------------------------------------------- restart
EV = ["evolve", "--spectrum", "einstein", "--lam", "1", "--units", "plain", "--T0", "0.2", "--T-in", "0.22",
      "--a-ee", "1", "--no-diagnostics", "--quiet", "--json"]


def _history(d):
    return np.loadtxt(d / "history.csv", delimiter=",", comments="#", skiprows=2)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A: t = 0..2 with -o; B: A restarted to t = 4; C: one run to t = 4."""
    root = tmp_path_factory.mktemp("restart")
    A, B, C = root / "A", root / "B", root / "C"
    out = {}
    for name, extra in (("A", ["--t-end", "2", "-o", str(A)]),
                        ("B", ["--t-end", "4", "-o", str(B), "--restart", str(A)]),
                        ("C", ["--t-end", "4", "-o", str(C)])):
        out[name] = json.loads(_cli(*EV, *extra).stdout)
    return root, out


def test_restart_reproduces_an_uninterrupted_run(runs):
    root, out = runs
    b, c = out["B"], out["C"]
    assert b["restart_time"] == 2.0 and "restart_time" not in c
    assert b["t_final"] == c["t_final"] == 4.0
    with h5py.File(root / "A" / "f_E_t.h5") as ha, h5py.File(root / "B" / "f_E_t.h5") as hb, \
            h5py.File(root / "C" / "f_E_t.h5") as hc:
        nA = ha["time"].size
        # B holds the whole run: A's steps as stored, then the continuation
        np.testing.assert_array_equal(hb["time"][:nA], ha["time"][:])
        np.testing.assert_array_equal(hb["f"][:nA], ha["f"][:])
        assert hb["time"][-1] == hc["time"][-1] == 4.0
        # f at t = 4 agrees to the integration tolerances (rtol = 1e-6: |f| rtol = 5e-7 near E = 0)
        assert np.max(np.abs(hb["f"][-1] - hc["f"][-1])) < 1e-7
    hB, hC = _history(root / "B"), _history(root / "C")
    assert hB[0, 0] == hC[0, 0] == 0.0 and hB.shape[0] == b["steps"] + 1
    for j in range(1, hB.shape[1]):  # max_deviation, energy, mass_min, T_eff: B on C's times
        assert np.max(np.abs(np.interp(hC[:, 0], hB[:, 0], hB[:, j]) - hC[:, j])) < 1e-6
    for key in ("max_deviation", "T_eff_final", "energy_change", "particle_number_drift"):
        assert b[key] == pytest.approx(c[key], rel=1e-5, abs=1e-12), key
    assert abs(b["steps"] - c["steps"]) <= 10


def test_restart_refusals(runs, tmp_path):
    root, _ = runs
    A = str(root / "A")
    base = dict(spectrum="einstein", lam=1.0, units="plain", T0=0.2, T_in=0.22, a_ee=1.0, diagnostics=False)
    EvolveParams(**base, t_end=4.0, restart=A, flush_every=3.0)  # t_end and flush_every may change
    for change, match in ((dict(T0=0.21), "T0 = 0.2 there, 0.21 here"), (dict(rtol=1e-7), "rtol"),
                          (dict(initial=PULSE), "initial = 'thermal' there"), (dict(diagnostics=None), "diagnostics")):
        with pytest.raises(InputError, match=match) as e:
            EvolveParams(**dict(base, **change), t_end=4.0, restart=A)
        assert e.value.param == "restart"
    with pytest.raises(InputError, match="reached t = 2"):
        EvolveParams(**base, t_end=2.0, restart=A)
    with pytest.raises(InputError, match="converge"):
        EvolveParams(**base, t_end=4.0, restart=A, converge=True)
    for missing in (tmp_path / "none", tmp_path):
        with pytest.raises(InputError, match="no such directory|no summary.json"):
            EvolveParams(**base, t_end=4.0, restart=str(missing))
    # on the command line: one line, exit 2, nothing written; -o the directory read, other PETSc options
    for extra, match in ((["-o", A], "give a new -o"), (["-o", str(tmp_path / "D"), "-kin_ts_type", "beuler"],
                                                        "PETSc options")):
        p = _cli(*EV, "--t-end", "4", "--restart", A, *extra, check=False)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and match in p.stderr, p.stderr
        assert p.stderr.startswith("ephkin evolve: error: --restart ")
    assert not (tmp_path / "D").exists()
    assert json.loads((root / "A" / "summary.json").read_text())["run_status"] == "finished"


def test_restart_refuses_an_unstable_run_and_continues_a_killed_one(runs, tmp_path):
    import shutil

    root, _ = runs
    base = dict(spectrum="einstein", lam=1.0, units="plain", T0=0.2, T_in=0.22, a_ee=1.0, diagnostics=False)
    for status, run_status in (("unstable", "finished"), (None, "running")):
        d = tmp_path / f"A_{run_status}"
        shutil.copytree(root / "A", d)
        s = json.loads((d / "summary.json").read_text())
        s.pop("status")
        if status:
            s["status"] = status
        s["run_status"] = run_status  # after a kill -9: "running", no status
        (d / "summary.json").write_text(json.dumps(s))
        if status:
            with pytest.raises(InputError, match="ended unstable"):
                EvolveParams(**base, t_end=4.0, restart=str(d))
        else:
            EvolveParams(**base, t_end=4.0, restart=str(d))


def test_converge_and_reference_start_from_the_same_state():
    """--converge's coarse grid and --reference's SciPy BDF integrate the pulse too (from f0(T_in) = f0(T0)
    nothing would happen on them)."""
    r = api.evolve("einstein", 0.3, 0.2, 0.2, 10.0, units="plain", a_ee=1.0, initial=PULSE, grid_step=0.02,
                   converge=True, reference=True, diagnostics=False)
    assert r.status == "stable" and r.extra["reference_max_difference"] < 1e-5
    g = r.extra["grid_check"]
    assert g["verdict"] == "converged" and g["coarse"]["L"] == 200
    assert abs(g["coarse"]["decay_rate"] / g["fine"]["decay_rate"] - 1) < 0.02
    assert abs(g["coarse"]["min_mass_diagonal"] - g["fine"]["min_mass_diagonal"]) < 1e-4
