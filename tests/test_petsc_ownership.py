"""PETSc ownership (the dolfinx idiom): no PETSc object outlives an engine call, and no pushed option outlives
its block -- on success and on error.

How live objects are counted: PETSc's own log (``PETSc.Log.begin()``) keeps, per class, the number of objects
created and destroyed; ``PETSc.Log.view`` prints both ("Object Type  Creations  Destructions").  Live objects =
creations - destructions.  This sees a forgotten ``destroy()`` even when Python drops the wrapper: petsc4py 3.18
does not destroy the object of a wrapper garbage-collected without ``destroy()``, it parks it in PETSc's garbage
(``PetscObjectDelayedDestroy``) until a collective ``PETSc.garbage_cleanup()`` -- so it stays alive, and counted.
Each engine is called once before it is measured (PETSc may create objects it keeps for the process on first
use), after ``garbage_cleanup``.  Removing one ``destroy()`` (e.g. ``destroy(A, B)`` in the ``finally`` of
``stability.matrix_free.slow_modes``, or ``eps.destroy()`` in ``create_eps``'s error path) makes these tests fail.
"""

import gc
import os
import re
import tempfile

import pytest

from ephkin.pde.kinetic import KineticModel
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import stability as st
from ephkin.solvers.options import petsc_options
from ephkin.solvers.petsc_env import init_petsc

MODES, EINSTEIN = parse_spectrum("modes:40-60"), parse_spectrum("einstein")


@pytest.fixture(scope="module")
def PETSc():
    PETSc, _ = init_petsc()
    PETSc.Log.begin()  # object creations/destructions are counted from here on
    return PETSc


def live_objects(PETSc):
    """{PETSc class name: created - destroyed} over the process (from ``PETSc.Log.view``)."""
    fd, path = tempfile.mkstemp(suffix=".log")
    os.close(fd)
    try:
        viewer = PETSc.Viewer().createASCII(path, comm=PETSc.COMM_SELF)
        try:
            PETSc.Log.view(viewer)
        finally:
            viewer.destroy()
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    finally:
        os.unlink(path)
    table = text.split("Creations   Destructions")
    assert len(table) > 1, "PETSc.Log.view printed no object table (is logging on?)"
    out = {}
    for line in table[-1].split("=====")[0].splitlines():  # every stage's rows: class, creations, destructions
        m = re.match(r"^\s+(\S.*?)\s+(\d+)\s+(\d+)(\s+\d+)?\s*$", line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + int(m.group(2)) - int(m.group(3))
    return out


def leaked(PETSc, call, raises=None):
    """{class: objects} that ``call()`` left alive (it runs twice: a warm-up, then the measured call).  With
    ``raises`` the call must raise it; the exception and its traceback are dropped before counting."""
    for _ in range(2):
        PETSc.garbage_cleanup()
        gc.collect()
        before = live_objects(PETSc)
        if raises is None:
            call()
        else:
            with pytest.raises(raises):
                call()
        gc.collect()
        after = live_objects(PETSc)
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)
            if after.get(k, 0) != before.get(k, 0)}


def test_counter_sees_an_undestroyed_object(PETSc):
    # the method itself: a Mat whose wrapper is dropped without destroy() stays alive (PETSc's garbage)
    def forget():
        A = PETSc.Mat().createAIJ([3, 3], comm=PETSc.COMM_SELF)
        A.setUp()

    assert leaked(PETSc, forget) == {"Matrix": 1}
    PETSc.garbage_cleanup()


def test_options_popped_after_an_error(PETSc):
    opts = ["-stab_eps_type", "nonsense", "-stab_ownership_probe", "7", "-kin_ts_rtol", "1e-3"]
    with pytest.raises(RuntimeError, match="inside"):
        with petsc_options(opts, ("stab_", "kin_")):
            assert PETSc.Options().getAll()["stab_ownership_probe"] == "7"
            raise RuntimeError("an error inside the block")
    held = PETSc.Options().getAll()
    assert not {"stab_eps_type", "stab_ownership_probe", "kin_ts_rtol"} & set(held), held


def test_options_reported_and_popped_on_success(PETSc, capsys):
    with petsc_options(["-stab_never_read_by_anyone", "1"], ("stab_",)) as pushed:
        pass
    assert pushed.unused == ["-stab_never_read_by_anyone"]
    assert "-stab_never_read_by_anyone was not used" in capsys.readouterr().err
    assert "stab_never_read_by_anyone" not in PETSc.Options().getAll()


def test_lambda_c_slepc_leaves_nothing(PETSc):
    out = {}
    assert leaked(PETSc, lambda: out.update(st.lambda_c_linear(MODES, 0.204, solver="slepc"))) == {}
    assert out["lambda_c"] > 0


def test_stability_summary_leaves_nothing(PETSc):
    p = st.make_problem(MODES, 5.0, 0.2)
    assert leaked(PETSc, lambda: st.stability_summary(p, nev=2)) == {}


@pytest.mark.parametrize("band_max", [None, -1])
def test_stability_summary_with_ladder_null_modes_leaves_nothing(PETSc, monkeypatch, band_max):
    # the standard form (one shell, the banded Cholesky in numpy) and, with every band too wide, the deflated
    # pencil: two shells, a MUMPS Cholesky and its work vectors inside _DeflatedB
    from ephkin.solvers.stability import matrix_free

    if band_max is not None:
        monkeypatch.setattr(matrix_free, "BAND_MAX", band_max)
    p = st.make_problem(MODES, 1.0, 0.2, refine=4)
    assert st.m_null_space(p).shape[1] > 0
    assert leaked(PETSc, lambda: st.slow_modes(p, 2)) == {}


def test_evolve_leaves_nothing(PETSc):
    from ephkin.solvers.evolution import evolve

    m = KineticModel(st.make_problem(EINSTEIN, 1.0, 0.2, grid_step=0.05))
    assert leaked(PETSc, lambda: evolve(m, 0.202, 2.0, rtol=1e-4, atol=1e-7)) == {}


def test_engine_error_midway_leaves_nothing(PETSc):
    # -stab_eps_type nonsense: mu_min (prefix -stab_lc_) runs, then slow_modes has built its shells, M_hat and
    # the deflation's factorisation when the EPS of the first side refuses the type
    p = st.make_problem(MODES, 1.0, 0.2, refine=4)

    def bad():
        with petsc_options(["-stab_eps_type", "nonsense"], ("stab_",)):
            st.stability_summary(p, nev=2, counts=False)

    assert leaked(PETSc, bad, raises=PETSc.Error) == {}


def test_lambda_c_error_leaves_nothing(PETSc):
    def bad():
        with petsc_options(["-stab_lc_eps_type", "nonsense"], ("stab_",)):
            st.lambda_c_linear(MODES, 0.204, solver="slepc")

    assert leaked(PETSc, bad, raises=PETSc.Error) == {}


def test_evolve_error_midway_leaves_nothing(PETSc):
    # the Jacobian shell, the preconditioner's AIJ and the state exist when the TS refuses the type
    from ephkin.solvers.evolution import evolve

    m = KineticModel(st.make_problem(EINSTEIN, 1.0, 0.2, grid_step=0.05))

    def bad():
        with petsc_options(["-kin_ts_type", "nonsense"], ("kin_",)):
            evolve(m, 0.202, 2.0, rtol=1e-4, atol=1e-7)

    assert leaked(PETSc, bad, raises=PETSc.Error) == {}
