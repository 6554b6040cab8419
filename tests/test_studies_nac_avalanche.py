"""The seed 001 (``nac``) and seed 003 (``avalanche``) commands as typed studies: flags generated from the
Params, run-file validation, the generated API docs, and the API's result equal to the command line's JSON."""

import dataclasses
import inspect
import json
import math
import pydoc

import pytest

from ephkin.pde.errors import InputError
from ephkin.solvers import api
from ephkin.solvers.cli import build_parser, main
from ephkin.solvers.cli.common import subcommand_parser
from ephkin.solvers.provenance import to_jsonable
from ephkin.solvers.studies import STUDIES

#: command -> (API function, the cheapest valid parameters, one bad value (name, value))
CASES = {
    "nac sigma": ("nac_sigma", {"omega_p": 0.5, "zeta": math.inf, "mu": 0.0}, ("omega_p", -0.5)),
    "nac evolve": ("nac_evolve", {"omega_p": 0.6667, "filling": 0.3333333, "t_end": 0.3}, ("tau_pulse", 0.0)),
    "avalanche criterion": ("avalanche_criterion", {"g_ep": 0.1, "gamma": 0.002, "omega0": 0.3}, ("gamma", -0.002)),
    "avalanche curve": (
        "avalanche_curve",
        {"g_ep": 0.1, "gamma": 0.002, "omega0": 0.3, "E_range": (5e-4, 3e-2, 6.0)},
        ("mass", 0.0),
    ),
    "avalanche lattice": (
        "avalanche_lattice",
        {"gamma": 0.005, "g_ep": 0.3, "omega0": 0.3, "E": 0.01, "n_omega": 2048},
        ("E", -0.01),
    ),
    "avalanche replica": (
        "avalanche_replica",
        {"gamma": 0.005, "g_ep": 0.3, "omega0": 0.3, "E_range": (2e-4, 0.01, 4.0)},
        ("omega0", 0.0),
    ),
}


def _argv(name, values):
    argv = name.split()
    params = STUDIES[name].params
    flags = {p.name: p.flag for p in params.info()}
    for key, value in values.items():
        if value is True:
            argv.append(flags[key])
        else:
            argv += [flags[key]] + [str(v) for v in (value if isinstance(value, tuple) else (value,))]
    return argv


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_field_is_a_flag_with_the_same_default(name):
    study = STUDIES[name]
    sub = subcommand_parser(build_parser(), name.split())
    actions = {a.dest: a for a in sub._actions if a.option_strings}
    for f in dataclasses.fields(study.params):
        assert f.name in actions, f"{name}: no flag for {f.name}"
        act = actions[f.name]
        if f.default is dataclasses.MISSING:
            assert act.required, f"{name}: {f.name} is required in Params but not on the command line"
        else:
            assert act.default == f.default, (name, f.name, act.default, f.default)
    assert sub.get_default("study") is study


@pytest.mark.parametrize("name", sorted(CASES))
def test_from_mapping_rejects_unknown_keys_and_bad_values(name):
    params = STUDIES[name].params
    _, good, (bad_key, bad_value) = CASES[name]
    assert params.from_mapping(good) == params(**good)
    with pytest.raises(InputError) as exc:
        params.from_mapping(dict(good, nosuch=1.0))
    assert exc.value.param == "nosuch" and "unknown parameter" in str(exc.value)
    with pytest.raises(InputError) as exc:
        params.from_mapping(dict(good, **{bad_key: bad_value}))
    assert exc.value.param == bad_key and bad_key in str(exc.value)


@pytest.mark.parametrize(
    "params, key",
    [
        ({"omega_p": 0.5, "zeta": "inf", "filling": 1.2}, "filling"),
        ({"omega_p": 0.5, "zeta": "inf", "mu": 0.0, "filling": 0.5}, "mu"),
        ({"omega_p": 0.5, "zeta": "inf", "gamma_in": 0.01}, "zeta"),
        ({"omega_p": 0.5, "zeta": "inf", "E_star": True}, "E_star"),
        ({"omega_p": 0.5, "zeta": -1.0}, "zeta"),
        ({"omega_p": 0.5, "zeta": 20.0, "dos": "file:/no/such/dos.dat"}, "dos"),
    ],
)
def test_nac_sigma_cross_checks(params, key):
    with pytest.raises(InputError) as exc:
        STUDIES["nac sigma"].params.from_mapping(params)
    assert exc.value.param == key


def test_run_file_values():
    # the shipped run files give zeta and tau_ph as strings beside "inf" (runs/seed001_*.toml)
    s = STUDIES["nac sigma"].params.from_mapping({"omega_p": 0.5, "zeta": "20"})
    assert s.zeta == 20.0 and math.isinf(STUDIES["nac sigma"].params.from_mapping({"omega_p": 0.5, "zeta": "inf"}).zeta)
    assert STUDIES["nac evolve"].params.from_mapping({"omega_p": 0.5, "tau_ph": "5"}).tau_ph == 5.0
    with pytest.raises(InputError) as exc:
        STUDIES["nac sigma"].params.from_mapping({"omega_p": 0.5, "zeta": "lots"})
    assert exc.value.param == "zeta"
    for name in ("avalanche curve", "avalanche replica"):
        with pytest.raises(InputError) as exc:
            STUDIES[name].params.from_mapping({"g_ep": 0.1, "gamma": 0.002, "omega0": 0.3, "E_range": [0.1, 0.01, 5]})
        assert exc.value.param == "E_range" and "0 < EMIN < EMAX" in str(exc.value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_api_docstring(name):
    fn = getattr(api, CASES[name][0])
    text = pydoc.render_doc(fn)
    assert "Parameters" in text and "Returns" in text
    for p in STUDIES[name].params.info():
        assert p.name in fn.__doc__


def test_api_positional_orders():
    # the orders the API had before the studies (docs/python-api.md)
    def order(fn):
        return [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]

    assert order(api.nac_sigma) == ["omega_p", "zeta"]
    assert order(api.avalanche_criterion) == ["g_ep", "gamma", "omega0", "mass", "T"]
    assert order(api.avalanche_lattice) == [
        "gamma",
        "g_ep",
        "omega0",
        "E",
        "delta",
        "T",
        "n_omega",
        "solver",
        "tol",
        "branching",
    ]
    assert order(api.nac_evolve) == ["omega_p"]
    assert order(api.avalanche_curve) == ["g_ep", "gamma", "omega0"]
    assert order(api.avalanche_replica) == ["gamma", "g_ep", "omega0"]
    r = api.avalanche_criterion(0.1, 0.002, 0.3, 0.5, 0.0)
    assert r["E_av"] == api.avalanche_criterion(g_ep=0.1, gamma=0.002, omega0=0.3).E_av and r.status == "avalanche"


def _same(a, b):
    """Equal, floats to 1e-12 relative or 1e-18 absolute: two runs of a lattice whose net bath current is zero
    give round-off of -3.99e-23 and -3.95e-23 (PETSc's SNES reductions are not bitwise repeatable)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-18)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("name", sorted(CASES))
def test_api_result_equals_cli_json(name, capsys):
    fn, good, _ = CASES[name]
    r = getattr(api, fn)(**good)
    assert main(_argv(name, good) + ["--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    cli.pop("elapsed_s")
    assert cli.pop("ranks") == 1  # the command's, as elapsed_s: not the study's
    assert _same(json.loads(json.dumps(to_jsonable(r.to_dict()))), cli)
    units = type(r).field_units()
    assert all(u in ("W", "1/Gamma_eph", "Gamma_eph", "t", "t/a") for u in units.values()), units
