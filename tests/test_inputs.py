"""Issue 15 in the physics layer: spectra whose support starts at omega = 0 (Debye, tabulated files),
validation where the operators are built, memory estimates, parameter names in messages."""

import math

import numpy as np
import pytest

from ephkin.pde import grids
from ephkin.pde.errors import InputError
from ephkin.pde.grids import default_grid, phonon_scale, project_spectrum
from ephkin.pde.instability import lambda_c_cel, lambda_c_zinv, zinv_analysis
from ephkin.pde.kinetic import KineticModel
from ephkin.pde.linearized import LinearizedProblem, cel_identity
from ephkin.pde.spectra import make_spectrum, parse_spectrum


def _zinv_debye_quad(E, lam, T):
    """Z0^-1(E) of seed 000 Eq. (5) for the Debye alpha^2F = lam (w/wD)^2 on (0, wD], in units of g
    (g^2 = 2 int w a2F = lam wD^2/2 = 1), by adaptive quadrature over omega with mpmath's polygamma:
    independent of pde.polygamma, pde.spectra's Gauss-Legendre panels and pde.instability's scan."""
    mpmath = pytest.importorskip("mpmath")
    from scipy.integrate import quad

    wD = math.sqrt(2.0 / lam)
    a = 2.0 * math.pi * T

    def integrand(w):
        k = mpmath.psi(1, mpmath.mpc(0.5, (E + w) / a)) - mpmath.psi(1, mpmath.mpc(0.5, (E - w) / a))
        return lam * (w / wD) ** 2 * float(k.imag)

    val, _ = quad(integrand, 0.0, wD, epsabs=1e-13, epsrel=1e-12, limit=200)
    return 1.0 - val / a


def test_debye_lambda_c_matches_independent_quadrature_of_eq5():
    from scipy.optimize import brentq, minimize_scalar

    T0 = 0.20
    r = lambda_c_zinv(parse_spectrum("debye"), T0)
    assert r["lambda_c"] is not None

    def zmin(lam):
        # the minimum lies well inside (0.5, 2.0) g (checked on a coarse scan below)
        res = minimize_scalar(lambda E: _zinv_debye_quad(E, lam, T0), bounds=(0.5, 2.0), method="bounded",
                              options={"xatol": 1e-9})
        return res.fun, res.x

    ref = brentq(lambda lam: zmin(lam)[0], 1.8, 2.4, xtol=1e-10)
    scan = [_zinv_debye_quad(E, ref, T0) for E in np.linspace(0.0, 4.0, 21)]
    assert min(scan) > -1e-3  # no deeper well elsewhere
    assert r["lambda_c"] == pytest.approx(ref, rel=1e-8)  # 2.0649444831 (ephkin) vs 2.0649444831 (quad)
    assert r["E_min"] == pytest.approx(zmin(ref)[1], rel=1e-6)


def test_debye_zinv_analysis_and_cel():
    s = make_spectrum("debye", 2.5)
    z = zinv_analysis(s, 0.2)
    assert z["unstable"] and len(z["zeros"]) == 2
    assert _zinv_debye_quad(z["zeros"][0], 2.5, 0.2) == pytest.approx(0.0, abs=1e-8)
    lcel = lambda_c_cel(parse_spectrum("debye"), 0.2)
    assert lcel is not None and lcel > 2.06  # the C_el criterion is the weaker bound


def test_debye_grid_linear_problem_and_kinetic_model():
    # the grid resolves omega_log (and T0), not the lowest frequency of the support (0 for Debye)
    s = make_spectrum("debye", 1.5)
    assert s.omega_min == 0.0 and phonon_scale(s) == pytest.approx(s.omega_log)
    g = default_grid(s, 0.2)
    p = LinearizedProblem(s, 0.2, g)
    # the projection keeps g^2 = 2 int w a2F exactly and lambda to O((eps/omega_D)^2)
    assert np.sum(p.lam_r * p.omega_r**2) == pytest.approx(1.0, rel=1e-10)
    assert np.sum(p.lam_r) == pytest.approx(1.5, rel=1e-4)
    # the temperature-mode identity <E, A E> = C_el holds on the Debye grid as well
    assert p.cel_check() == pytest.approx(cel_identity(p.proj, 0.2), abs=1e-6)
    assert p.cel_check() == pytest.approx(cel_identity(s, 0.2), abs=3e-5)  # projection onto the grid
    M = p.m_sparse()
    assert abs(M - M.T).max() < 1e-14
    k = KineticModel(p)
    assert np.all(np.isfinite(k.collisions(k.initial(0.21))))


def test_tabulated_spectrum_starting_at_zero(tmp_path):
    w = np.linspace(0.0, 1.0, 201)
    f = tmp_path / "debye.dat"
    np.savetxt(f, np.column_stack([w, w**2]))
    shape = parse_spectrum(f"file:{f}")
    assert shape.omega_min == 0.0
    r = lambda_c_zinv(shape, 0.2)
    ref = lambda_c_zinv(parse_spectrum("debye"), 0.2)
    assert r["lambda_c"] == pytest.approx(ref["lambda_c"], rel=1e-4)  # the table of the same shape
    s = shape.with_lambda(1.2)
    LinearizedProblem(s, 0.2, default_grid(s, 0.2))


def test_project_spectrum_delta_peak_below_step_is_an_error():
    s = make_spectrum("peaks:0.01:0.5,1:1", None, "plain")
    with pytest.raises(InputError, match="phonon frequency 0.01") as e:
        project_spectrum(s, 0.02)
    assert e.value.param == "grid_step"
    # the default grid resolves the low peak (phonon_scale), where the old one refused
    g = default_grid(s, 0.2)
    assert g.eps <= 0.01 / 4


@pytest.mark.parametrize("T0", [0.0, -1.0, float("nan"), float("inf")])
def test_T0_checked_where_the_operator_is_built(T0):
    s = make_spectrum("einstein", 1.0)
    with pytest.raises(InputError, match="T0 must be") as e:
        default_grid(s, T0)
    assert e.value.param == "T0"
    with pytest.raises(InputError, match="T0 must be") as e:
        LinearizedProblem(s, T0, grids.FoldedGrid(0.01, 800))
    assert e.value.param == "T0"


def test_linear_problem_checks_its_grid_against_T0():
    s = make_spectrum("einstein", 1.0)
    with pytest.raises(InputError, match="does not resolve T0") as e:
        LinearizedProblem(s, 0.02, grids.FoldedGrid(0.01, 800))
    assert e.value.param == "grid_step"


@pytest.mark.parametrize("lam_max", [-5, 0, 0.005, float("nan")])
def test_lambda_c_zinv_rejects_lam_max(lam_max):
    with pytest.raises(InputError, match="lam_max") as e:
        lambda_c_zinv(parse_spectrum("einstein"), 0.2, lam_max=lam_max)
    assert e.value.param == "lam_max"


def test_memory_estimate_refuses_huge_grids_before_allocating():
    s = make_spectrum("einstein", 1.0)
    with pytest.raises(InputError, match="MemAvailable") as e:
        default_grid(s, 0.2, refine=10**9)
    assert e.value.param == "refine" and "GiB" in str(e.value) and "refine" in str(e.value)
    with pytest.raises(InputError, match="MemAvailable") as e:
        default_grid(s, 0.2, grid_step=1e-12)
    assert e.value.param == "grid_step"


def test_memory_estimate_in_the_operator(monkeypatch):
    s = make_spectrum("einstein", 1.0)
    g = default_grid(s, 0.2)
    p = LinearizedProblem(s, 0.2, g)
    # M^ep of one Einstein mode needs ~3 L nonzeros (~288 L bytes) and the dense A_hat 24 L^2 bytes
    monkeypatch.setattr(grids, "available_memory", lambda: 200 * g.L)
    with pytest.raises(InputError, match="M\\^ep"):
        p.m_sparse()
    with pytest.raises(InputError, match="dense A_hat"):
        p.ahat_dense()
    monkeypatch.setattr(grids, "available_memory", lambda: 1000)
    with pytest.raises(InputError, match="linear problem"):
        LinearizedProblem(s, 0.2, g)


def test_available_memory_reads_meminfo():
    m = grids.available_memory()
    assert m is None or m > 0


@pytest.mark.parametrize("refine", [0, -1, 1.5, "x", None])
def test_refine_must_be_a_positive_integer(refine):
    with pytest.raises(InputError, match="refine") as e:
        default_grid(make_spectrum("einstein", 1.0), 0.2, refine=refine)
    assert e.value.param == "refine"


def test_no_flags_in_physics_layer_messages():
    # every InputError of pde/ names a parameter, not a command-line flag
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "pde"
    bad = []
    for f in root.glob("*.py"):
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if re.search(r"""["'][^"']*--[A-Za-z]""", line) and not line.lstrip().startswith("#"):
                bad.append(f"{f.name}:{i}: {line.strip()}")
    assert not bad, bad


# ------------------------------------------------------------------ solvers/options.py, runfile.py
@pytest.mark.parametrize("value", ["-inf", "-1e3", "-.5", "-nan", "-Infinity", "-2"])
def test_negative_numbers_stay_values_of_the_ephkin_option(value):
    from ephkin.solvers.options import split_petsc_options

    ours, petsc = split_petsc_options(["lambda-c", "--spectrum", "einstein", "--T0", value,
                                       "-stab_lc_eps_tol", "-1e-3", "-stab_lc_eps_monitor", "-o", "d"])
    assert petsc == ["-stab_lc_eps_tol", "-1e-3", "-stab_lc_eps_monitor"]
    assert ours[:3] == ["lambda-c", "--spectrum", "einstein"] and ours[-2:] == ["-o", "d"]
    assert ours[3] in (f"--T0={value}", "--T0") and value in " ".join(ours)


@pytest.mark.parametrize("value, word", [("-inf", "T0"), ("-1e3", "T0 must be > 0"), ("-.5", "T0 must be > 0"),
                                         ("-nan", "T0")])
def test_negative_T0_on_the_command_line_is_a_named_error(capsys, value, word):
    from ephkin.solvers.cli import main

    try:
        code = main(["lambda-c", "--spectrum", "einstein", "--T0", value])
    except SystemExit as e:  # argparse's own one-line errors ("must be finite")
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and word in err and "expected" not in err and "Traceback" not in err


@pytest.mark.parametrize("content", [bytes(range(256)) * 8, b'model = "lambda-c"\n\x00\x01\n',
                                     "model = 'zinv'\n\u00e9".encode("latin-1")])
def test_binary_run_file_is_a_one_line_input_error(tmp_path, content):
    from ephkin.solvers.runfile import load_runfile

    f = tmp_path / "bin.toml"
    f.write_bytes(content)
    with pytest.raises(InputError, match="run file") as e:
        load_runfile(str(f))
    assert "\n" not in str(e.value) and "text file" in str(e.value)


def test_binary_run_file_via_cli(tmp_path, capsys):
    from ephkin.solvers.cli import main

    f = tmp_path / "bin.toml"
    f.write_bytes(bytes(range(256)) * 8)
    assert main(["run", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a UTF-8 text file" in err
