import os

os.environ.setdefault("MPLBACKEND", "Agg")
# one BLAS thread, as every ephkin process has (ephkin.solvers.cli): results computed in this process and
# in the ephkin subprocesses the tests start agree to the last bit (set before numpy is imported)
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import pytest  # noqa: E402

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: What the checkout may gain while the tests run (caches, the build of the editable install).
_ALLOWED_NEW = {".pytest_cache", ".ruff_cache", "__pycache__", "build", ".hypothesis"}


@pytest.fixture(scope="session", autouse=True)
def _nothing_written_into_the_checkout():
    """Tests write under tmp_path only: a command run without -o in the checkout (``run``'s default ``out``)
    fails the session here instead of leaving files behind."""
    before = set(os.listdir(_ROOT))
    yield
    new = set(os.listdir(_ROOT)) - before - _ALLOWED_NEW
    assert not new, f"tests wrote into the checkout: {sorted(new)} (give them -o under tmp_path)"
