"""The equilibrium studies (solvers/studies: spectrum, zinv, two-temp, cel, transport): their flags are their
Params, run-file validation names the parameter, the API functions are documented, and the API result is
the command's --json output."""

import dataclasses
import json
import math

import numpy as np
import pytest

from ephkin.pde.errors import InputError
from ephkin.solvers import api
from ephkin.solvers.cli import build_parser, main
from ephkin.solvers.cli.common import subcommand_parser
from ephkin.solvers.studies import STUDIES, cel, spectrum, transport, two_temperature, zinv

#: command, study module, required flags of a cheap valid command line, the API function, a bad sign
CASES = [
    (
        "spectrum",
        spectrum,
        ["--spectrum", "debye"],
        api.spectrum_moments,
        {"spectrum": "debye", "mu_star": -0.1},
        "mu_star",
    ),
    ("zinv", zinv, ["--T0", "0.2", "--spectrum", "einstein"], api.zinv, {"spectrum": "einstein", "T0": -0.2}, "T0"),
    (
        "two-temp",
        two_temperature,
        ["--spectrum", "einstein", "--T0", "0.2", "--T-in", "0.21"],
        api.two_temp,
        {"spectrum": "einstein", "T0": 0.2, "T_in": 0.21, "t_end": -5.0},
        "t_end",
    ),
    ("cel", cel, ["--spectrum", "einstein"], api.cel, {"spectrum": "einstein", "lam": -1.0}, "lam"),
    (
        "transport",
        transport,
        ["--T", "100", "--bloch-gruneisen", "300"],
        api.transport,
        {"T": [100.0, -1.0], "bloch_gruneisen": 300.0},
        "T",
    ),
]
IDS = [c[0] for c in CASES]


def run_json(capsys, argv):
    assert main(list(argv) + ["--json"]) == 0
    out = capsys.readouterr().out
    r = json.loads(out)
    r.pop("elapsed_s")
    assert r.pop("ranks") == 1  # the command's, as elapsed_s: not the study's (mpirun -n K: tests/test_mpi.py)
    return r


@pytest.mark.parametrize("command, module, required, fn, bad, name", CASES, ids=IDS)
def test_registered_and_flags_are_the_params(command, module, required, fn, bad, name):
    assert STUDIES[command] is module.STUDY
    parser = build_parser()
    args = parser.parse_args([command] + required)
    sub = subcommand_parser(parser, [command])
    flags = {a.dest: a.option_strings for a in sub._actions}
    given = {required[i][2:].replace("-", "_") for i in range(0, len(required), 2)}
    for f in dataclasses.fields(module.STUDY.params):
        info = next(p for p in module.STUDY.params.info() if p.name == f.name)
        assert info.flag in flags[f.name], (command, f.name)
        if f.name not in given:
            assert f.default is not dataclasses.MISSING, (command, f.name)
            assert getattr(args, f.name) == f.default, (command, f.name)


@pytest.mark.parametrize("command, module, required, fn, bad, name", CASES, ids=IDS)
def test_from_mapping_rejects_unknown_key_and_wrong_sign(command, module, required, fn, bad, name):
    params = module.STUDY.params
    good = {k: v for k, v in bad.items() if k != name}
    with pytest.raises(InputError) as e:
        params.from_mapping(dict(good, no_such_parameter=1))
    assert e.value.param == "no_such_parameter" and "unknown parameter" in str(e.value)
    with pytest.raises(InputError) as e:
        params.from_mapping(bad)
    assert e.value.param == name and name in str(e.value)


@pytest.mark.parametrize("command, module, required, fn, bad, name", CASES, ids=IDS)
def test_api_docstring(command, module, required, fn, bad, name):
    doc = fn.__doc__
    assert "Parameters" in doc and "Returns" in doc
    for p in module.STUDY.params.info():
        assert f"{p.name} :" in doc


@pytest.mark.parametrize(
    "argv, call",
    [
        (
            ["spectrum", "--spectrum", "modes:40-60", "--mu-star", "0.13"],
            lambda: api.spectrum_moments("modes:40-60", None, "g", 0.13),
        ),
        (
            ["zinv", "--spectrum", "einstein", "--lam", "2.169", "--T0", "0.2"],
            lambda: api.zinv(0.20, "einstein", lam=2.169),
        ),
        (["zinv", "--strong-coupling", "--T0", "0.1827"], lambda: api.zinv(0.1827, strong_coupling=True)),
        (
            [
                "two-temp",
                "--spectrum",
                "einstein",
                "--lam",
                "4.5",
                "--units",
                "plain",
                "--T0",
                "0.5",
                "--T-in",
                "0.505",
            ],
            lambda: api.two_temp("einstein", 4.5, 0.5, 0.505, units="plain"),
        ),
        (
            ["cel", "--spectrum", "einstein", "--lam", "4.5", "--units", "plain"],
            lambda: api.cel("einstein", 4.5, "plain"),
        ),
        (
            [
                "transport",
                "--spectrum",
                "debye",
                "--lam",
                "0.8",
                "--T",
                "0.1",
                "0.3",
                "--units",
                "plain",
                "--plasma-eV",
                "5",
            ],
            lambda: api.transport([0.1, 0.3], "debye", 0.8, units="plain", plasma_eV=5.0),
        ),
        (["transport", "--bloch-gruneisen", "300", "--T", "100"], lambda: api.transport(100.0, bloch_gruneisen=300.0)),
    ],
    ids=["spectrum", "zinv", "zinv-strong", "two-temp", "cel", "transport", "transport-bg"],
)
def test_api_result_is_the_cli_json(capsys, argv, call):
    assert call().to_dict() == run_json(capsys, argv)


def test_today_s_json_values():
    # the numbers the commands printed before they became studies
    r = api.zinv(0.2, "einstein", lam=2.169)
    assert r["zeros"] == pytest.approx([0.9304312130134069, 1.302041793033481], rel=1e-12)
    # the minimum's location: mpmath (40 digits, the root of dZ0^-1/dE) gives 1.59060863110340315; the
    # scalar minimiser of earlier versions printed 1.5906086282180105 (1.8e-9 off), the zoom-and-parabola of
    # zinv_minimum is within 1e-10
    assert r["E_min_over_omega"] == pytest.approx(1.5906086311034031, rel=1e-10)
    r = api.zinv(0.5, strong_coupling=True)
    assert r["negative_interval"] is None and "negative_interval" in r.to_dict() and "spectrum" not in r.to_dict()
    assert r["T0_max_negative_over_Tc"] == pytest.approx(1.6338742375018902, rel=1e-12)
    r = api.cel("modes:40-60")
    d = r.to_dict()
    assert d["T_minus"] is None and d["T_plus_over_omega"] is None and d["lambda_min"] == pytest.approx(3.8425, 1e-4)
    r = api.two_temp("einstein", 1.0, 0.2, 0.21, t_end=5.0)
    assert r.status == "relaxes" and "reason" not in r.to_dict() and r.t_final == 5.0
    assert r.T_final == pytest.approx(0.2047839452406154, rel=1e-9)
    r = api.transport([2.0, 5.0], lam=0.5, bloch_gruneisen=1.0)
    assert r.to_dict()["rate"] == pytest.approx([6.196730521644274, 15.67310897637539], rel=1e-12)
    assert "units" not in r.to_dict() and "rho_uOhm_cm" not in r.to_dict()


def test_arrays_for_the_tables():
    r = api.zinv(0.2, "einstein", lam=2.169, E_max=2.0, points=5)
    np.testing.assert_allclose(r.E, [0.0, 0.5, 1.0, 1.5, 2.0])
    assert r.zinv.shape == (5,) and (r.zinv[2] < 0) == (0.93 < 1.0 < 1.31)
    assert api.zinv(0.2, strong_coupling=True).E[-1] == zinv.STRONG_E_MAX
    c = api.cel("einstein", 4.5, "plain", T_range=(0.1, 1.0))
    assert c.T[0] == 0.1 and c.T[-1] == 1.0 and c.T.size == cel.TABLE_POINTS
    assert np.all(c.cel_over_free[(c.T > c.T_minus + 0.01) & (c.T < c.T_plus - 0.01)] < 0)
    t = api.two_temp("einstein", 4.5, 0.5, 0.505, units="plain")
    assert t.status == "runaway" and t.T[0] == 0.505 and t.T[-1] == t.T_final and t.t.size == t.T.size
    s = api.spectrum_moments("debye", 1.0, "plain")
    assert s.peaks is None and s.alpha2f.shape == s.omega.shape and math.isclose(s.omega[-1], 1.1)
    assert api.spectrum_moments("einstein").alpha2f is None


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: api.zinv(0.2), "spectrum"),
        (lambda: api.zinv(0.2, "einstein", strong_coupling=True), "spectrum"),
        (lambda: api.zinv(0.2, strong_coupling=True, units="plain"), "units"),
        (lambda: api.zinv(0.2, "einstein", points=2), "points"),
        (lambda: api.cel("einstein", T_range=(1.0, 0.5)), "T_range"),
        (lambda: api.transport(1.0), "spectrum"),
        (lambda: api.transport(1.0, "einstein", bloch_gruneisen=3.0), "bloch_gruneisen"),
        (lambda: api.transport(1.0, "einstein", plasma_eV=3.0), "plasma_eV"),
        (lambda: api.spectrum_moments("phonons"), "spectrum"),
    ],
)
def test_cross_field_checks_name_the_parameter(call, name):
    with pytest.raises(InputError) as e:
        call()
    assert e.value.param == name


def test_run_file_point_validated_without_argv(tmp_path, capsys):
    path = tmp_path / "r.toml"
    path.write_text('model = "transport"\n[parameters]\nbloch_gruneisen = 300.0\n[sweep]\nT = [100.0, -5.0]\n')
    assert main(["sweep", str(path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "point 1" in err and "--T must be > 0" in err
