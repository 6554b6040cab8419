"""Typed studies (solvers/studies): every parameter is defined once, in its study's Params, and the flags,
the run-file schema, the provenance JSON and the API are generated from it."""

import dataclasses
import inspect
import json

import pytest

from ephkin.pde.errors import InputError
from ephkin.solvers import api
from ephkin.solvers.cli import build_parser, main
from ephkin.solvers.cli.common import parameters, subcommand_parser
from ephkin.solvers.studies import STUDIES
from ephkin.solvers.studies.base import Params, Result, out, param

#: One valid set of required values per study that needs them (strings as a run file would give them).
REQUIRED = {
    "spectrum": "einstein",
    "T0": 0.2,
    "T_in": 0.21,
    "t_end": 1.0,
    "omega_p": 0.5,
    "zeta": 1.0,
    "gamma": 0.005,
    "g_ep": 0.3,
    "omega0": 0.3,
    "E": 0.1,
    "T": 0.1,
}
#: Optional parameters that a study needs one of (zinv: a spectrum or strong_coupling; transport: a spectrum or
#: bloch_gruneisen).
ONE_OF = {"zinv": {"spectrum": "einstein"}, "transport": {"spectrum": "einstein"}}


def _required(study):
    values = {
        p.name: (REQUIRED[p.name],) if p.nargs == "+" else REQUIRED[p.name] for p in study.params.info() if p.required
    }
    return dict(values, **ONE_OF.get(study.name, {}))


def _argv(study, values):
    argv = study.name.split()
    info = {p.name: p for p in study.params.info()}
    for k, v in values.items():
        argv += [info[k].flag] + [str(x) for x in (v if isinstance(v, tuple) else (v,))]
    return argv


@pytest.mark.parametrize("name", sorted(n for n, s in STUDIES.items() if s.runfile))
def test_every_field_is_a_flag_in_the_schema_and_in_the_provenance_with_one_default(name):
    study = STUDIES[name]
    values = _required(study)
    params = study.params(**values)  # the dataclass defaults
    parser = build_parser()
    args = parser.parse_args(_argv(study, values))
    sub = subcommand_parser(parser, name.split())
    flags = {a.dest: a for a in sub._actions if a.option_strings}
    schema = study.params.schema()
    prov = parameters(args)  # what summary.json and a sweep point's identity record
    for p in study.params.info():
        assert p.name in flags, f"{name}: {p.name} has no flag"
        assert p.name in schema, f"{name}: {p.name} missing from the run-file schema"
        assert p.name in prov, f"{name}: {p.name} missing from the provenance"
        assert p.help.split("(")[0].strip()[:30] in flags[p.name].help
        if p.required or p.name in ONE_OF.get(name, {}):
            continue
        parsed = getattr(args, p.name)
        parsed = tuple(parsed) if isinstance(parsed, list) else parsed
        assert parsed == p.default == getattr(params, p.name), f"{name}: {p.name} default differs on the command line"
        assert schema[p.name]["default"] == json.loads(json.dumps(params.to_dict()[p.name]))
        assert prov[p.name] == params.to_dict()[p.name]


@pytest.mark.parametrize("name", sorted(n for n in STUDIES if n not in api.COMMAND_ONLY))
def test_api_function_has_numpydoc_and_the_study_signature(name):
    study = STUDIES[name]
    fn = getattr(api, api.api_name(name))
    doc = fn.__doc__
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    assert set(inspect.signature(fn).parameters) >= {p.name for p in study.params.info()}
    for p in study.params.info():
        assert f"\n{p.name} : " in doc


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Toy(Params):
    x: float = param(help="a positive number", positive=True)
    n: int = param(3, help="a count", positive=True)
    kind: str = param("a", help="a choice", choices=("a", "b"))
    xs: tuple[float, ...] = param((1.0,), help="numbers", nonnegative=True)
    z: float = param(1.0, help="a number or inf", allow_inf=True)
    flag: bool | None = param(None, help="a tri-state switch")


def test_params_validate_on_construction_naming_the_parameter():
    assert _Toy(x=1.0).n == 3
    for bad, name in (
        ({"x": -1.0}, "x"),
        ({"x": 1.0, "n": 2.5}, "n"),
        ({"x": 1.0, "kind": "c"}, "kind"),
        ({"x": 1.0, "xs": (1.0, -2.0)}, "xs"),
        ({"x": float("nan")}, "x"),
        ({"x": 1.0, "z": -float("inf")}, "z"),
        ({"x": "warm"}, "x"),
        ({"x": 1.0, "flag": "yes"}, "flag"),
    ):
        with pytest.raises(InputError) as exc:
            _Toy(**bad)
        assert exc.value.param == name
    assert _Toy(x=1.0, z=float("inf")).z == float("inf")


def test_from_mapping_converts_run_file_values_and_rejects_unknown_or_missing_keys():
    t = _Toy.from_mapping({"x": 2, "xs": [0, 1], "z": "inf"})
    assert t.x == 2.0 and isinstance(t.x, float) and t.xs == (0.0, 1.0) and t.z == float("inf")
    assert _Toy.from_mapping({"x": 1, "xs": 3}).xs == (3.0,)
    with pytest.raises(InputError, match="unknown parameter 'y'"):
        _Toy.from_mapping({"x": 1, "y": 2})
    with pytest.raises(InputError, match="x is required") as exc:
        _Toy.from_mapping({"n": 2})
    assert exc.value.param == "x"


def test_identity_is_canonical_and_changes_with_any_field():
    a, b = _Toy(x=1.0), _Toy.from_mapping({"x": 1})
    assert a.identity() == b.identity()
    assert a.identity() != a.replace(n=4).identity() != a.replace(z=float("inf")).identity()
    assert json.loads(a.replace(z=float("inf")).identity())["z"] == "inf"


def test_result_to_dict_drops_arrays_and_inapplicable_fields_and_reports_units():
    @dataclasses.dataclass(kw_only=True)
    class R(Result):
        lam: float | None = out(key="lambda", help="coupling")
        T: float | None = out(unit="energy", help="temperature")
        E: list[float] | None = out(array=True, help="grid")

    r = R(lam=2.0, E=[1.0, 2.0], stats={"steps": 3})
    r.absorb({"T": 0.5, "note": "x"})
    d = r.to_dict()
    assert d == {"status": "ok", "lambda": 2.0, "T": 0.5, "steps": 3, "note": "x"}
    assert r["lambda"] == 2.0 and r["steps"] == 3 and "E" in r.to_dict(arrays=True) and "missing" not in r
    assert R.field_units() == {"T": "energy"}
    assert json.loads(R().to_json()) == {"status": "ok"}


def test_api_keyword_positional_and_cli_give_the_same_result(capsys):
    r = api.lambda_c("modes:40-60", 0.204)
    assert r.lambda_c == pytest.approx(1.5643073462, abs=1e-9) and isinstance(r, Result)
    assert api.lambda_c(spectrum="modes:40-60", T0=[0.204]).lambda_c == r.lambda_c
    assert main(["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.204", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["lambda_c"] == r.lambda_c and cli["E_min"] == r["E_min"]
    with pytest.raises(TypeError, match="unexpected keyword"):
        api.lambda_c("modes:40-60", 0.204, temperature=1)
    with pytest.raises(InputError) as exc:
        api.lambda_c("modes:40-60", -0.2)
    assert exc.value.param == "T0"


def test_petsc_options_do_not_outlive_a_command_that_fails(capsys):
    from ephkin.solvers.petsc_env import init_petsc

    PETSc, _ = init_petsc()
    # an InputError after the options were given, a study command and a non-study command (sweep)
    assert main(["stability", "--spectrum", "einstein", "--T0", "-0.2", "-stab_eps_nev", "3"]) == 2
    assert (
        main(
            [
                "evolve",
                "--spectrum",
                "einstein",
                "--T0",
                "0.2",
                "--T-in",
                "0.21",
                "--t-end",
                "0.1",
                "--grid-step",
                "0.05",
                "--cutoff",
                "3",
                "-kin_ts_type",
                "nonsense",
                "--json",
            ]
        )
        == 2
    )
    capsys.readouterr()
    left = PETSc.Options().getAll()
    assert "stab_eps_nev" not in left and "kin_ts_type" not in left, left


def test_a_new_study_is_a_command_a_run_file_model_and_an_api_function_without_cli_code(tmp_path, capsys):
    """docs/adding-a-command.md: a study module alone gives the command (generic handler), its validation,
    its -o files and its API function."""
    import numpy as np

    from ephkin.solvers.cli.generate import add_unmapped_studies
    from ephkin.solvers.studies.api import api_function
    from ephkin.solvers.studies.base import Study

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class SquareParams(Params):
        x: float = param(help="the number to square", positive=True)
        n: int = param(5, help="points of the table", positive=True)

    @dataclasses.dataclass(kw_only=True)
    class SquareResult(Result):
        square: float | None = out(help="x^2")
        xs: np.ndarray | None = out(array=True, help="table abscissae")
        ys: np.ndarray | None = out(array=True, help="table values")

    def run(params, *, progress=None, petsc_options=None) -> SquareResult:
        xs = np.linspace(0.0, params.x, params.n)
        return SquareResult(square=params.x**2, xs=xs, ys=xs**2, message="squared")

    toy = Study("square", SquareParams, run, "x squared", positional=("x",))
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    add_unmapped_studies(sub, {"square": toy})
    args = parser.parse_args(["square", "--x", "3", "-o", str(tmp_path)])
    args.validate(args)
    res = args.func(args)
    assert res["square"] == 9.0 and res["status"] == "ok"
    table = (tmp_path / "square.csv").read_text().splitlines()
    assert table[0] == "xs,ys" and len(table) == 6 and table[-1] == "3.0,9.0"
    assert json.loads((tmp_path / "summary.json").read_text())["provenance"]["parameters"]["n"] == 5
    with pytest.raises(InputError) as exc:
        args = parser.parse_args(["square", "--x", "-3"])
        args.validate(args)
    assert exc.value.param == "x"
    f = api_function(toy, "square")
    assert f(2.0).square == 4.0 and list(inspect.signature(f).parameters)[:2] == ["x", "n"]


def test_schema_command_prints_the_run_file_schema(capsys):
    assert main(["schema", "evolve", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (
        "evolve" in out
        and "stability" not in out
        and out["evolve"]["T_in"]["required"]
        and out["evolve"]["atol"]["default"] == 1e-10
    )
    assert main(["schema", "--json"]) == 0
    assert {"lambda-c", "stability", "nac sigma", "avalanche lattice"} <= set(json.loads(capsys.readouterr().out))
    assert main(["schema", "nonsense"]) == 2
    assert "not a run-file model" in capsys.readouterr().err
