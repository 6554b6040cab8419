"""Property-based test of the whole command line (Hypothesis).

From a cheap valid command line of every subcommand, one or two parameters are
replaced by a generated value: a valid one, a boundary (0, negative, NaN, +-inf,
huge, tiny), text, or a malformed file.  Whatever comes, the command must end
with exit status 0 or 2; stderr holds no traceback and at most two lines; with
``--json`` and status 0, stdout is exactly one JSON object.

The default profile keeps the run under a minute; ``make test-slow`` selects the
``slow`` profile (HYPOTHESIS_PROFILE=slow) with many more examples.
"""

import atexit
import contextlib
import io
import json
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ephkin.solvers.cli import main

settings.register_profile("default", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("slow", max_examples=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: A cheap valid command line per subcommand: {flag: value}.  Flags with None are switches.
BASE = {
    ("spectrum",): {"--spectrum": "debye", "--lam": "1.0"},
    ("zinv",): {"--spectrum": "einstein", "--lam": "2.169", "--T0": "0.2"},
    ("lambda-c",): {"--spectrum": "einstein", "--T0": "0.2"},
    ("lambda-c", "linear"): {"--spectrum": "einstein", "--T0": "0.2", "--method": "linear"},
    ("cel",): {"--spectrum": "einstein", "--lam": "4.5", "--units": "plain"},
    ("two-temp",): {"--spectrum": "einstein", "--lam": "1.0", "--T0": "0.2", "--T-in": "0.21", "--t-end": "5"},
    ("transport",): {"--bloch-gruneisen": "300", "--lam": "0.5", "--T": "100"},
    ("stability",): {"--spectrum": "modes:40-60", "--lam": "1.0", "--T0": "0.2", "--nev": "2"},
    ("evolve",): {"--spectrum": "einstein", "--lam": "1.0", "--T0": "0.2", "--T-in": "0.202", "--t-end": "0.5"},
    ("nac", "sigma"): {"--omega-p": "0.5", "--zeta": "inf"},
    ("avalanche", "criterion"): {"--g-ep": "0.1", "--gamma": "0.002", "--omega0": "0.3"},
}

NUMBERS = st.sampled_from(["0", "-1", "-0.2", "1e-300", "1e300", "nan", "inf", "-inf", "1e9", "0.5", "2", "3",
                           "abc", "", "1,5", "0x10"])
#: A final time is a request for work: a huge one is a long run, not a mistake (its boundaries are still drawn).
DURATIONS = st.sampled_from(["0", "-1", "1e-300", "nan", "inf", "-inf", "0.5", "2", "abc", ""])


def _files(tmp):
    """Malformed inputs: a spectrum with a corrupt row, a negative one, a binary file, a missing file."""
    paths = {}
    rows = "\n".join(f"{0.01 * i:.3f} {0.5 * (0.01 * i) ** 2:.5f}" for i in range(1, 60))
    for name, text in (("corrupt.dat", rows.replace("0.300", "1.2e-0x", 1)), ("negative.dat", "0.1 0.1\n0.2 -0.3\n"),
                       ("empty.dat", "")):
        with open(os.path.join(tmp, name), "w") as fh:
            fh.write(text)
        paths[name] = os.path.join(tmp, name)
    with open(os.path.join(tmp, "binary.dat"), "wb") as fh:
        fh.write(bytes(range(256)) * 4)
    paths["binary.dat"] = os.path.join(tmp, "binary.dat")
    paths["missing.dat"] = os.path.join(tmp, "missing.dat")
    return paths


# a private directory (mkdtemp, mode 0700): fixed names in the shared /tmp would collide with another user's
# files (a root run leaves /tmp/corrupt.dat, which another user cannot overwrite) or be read from them
_TMP = tempfile.mkdtemp(prefix="ephkin-cli-properties-")
atexit.register(shutil.rmtree, _TMP, True)
FILES = _files(_TMP)
SPECTRA = st.sampled_from(["einstein", "modes:40-60", "debye", "debye:0", "modes:60-40", "peaks:1:0.5",
                           "lorentz:1:0.1", "nosuch", "einstein:-1", "file:"]
                          + [f"file:{p}" for p in FILES.values()])


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse exits directly
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@st.composite
def command_lines(draw):
    words = draw(st.sampled_from(sorted(BASE)))
    args = dict(BASE[words])
    for _ in range(draw(st.integers(1, 2))):
        flag = draw(st.sampled_from(sorted(args)))
        args[flag] = draw(SPECTRA if flag == "--spectrum" else DURATIONS if flag == "--t-end" else NUMBERS)
    argv = [w for w in words if w != "linear"]
    for flag, value in args.items():
        argv += [flag, value]
    return argv + ["--json"]


@pytest.mark.filterwarnings("ignore")
@given(command_lines())
def test_exit_status_and_messages(argv):
    code, out, err = run(argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err and err.count("\n") <= 2, (argv, err)
    if code == 0:
        obj = json.loads(out)
        assert isinstance(obj, dict) and out.count("\n") == 1, (argv, out)
    else:
        assert out == "" and "error" in err, (argv, out, err)
