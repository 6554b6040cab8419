"""Run by `make test` under `mpirun -n 2`: the package imports and computes identically on every rank."""

import os

import pytest

pytestmark = pytest.mark.mpi


def _shared_runfile(prefix, text):
    """(comm, base directory shared by all ranks, path of a run file with ``text`` written by rank 0)."""
    import tempfile

    from ephkin.solvers.petsc_env import init_petsc

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    base = comm.bcast(tempfile.mkdtemp(prefix=prefix) if comm.Get_rank() == 0 else None)
    run = os.path.join(base, "run.toml")
    if comm.Get_rank() == 0:
        with open(run, "w") as fh:
            fh.write(text)
    comm.Barrier()
    return comm, base, run


def test_ranks_agree_on_lambda_c():
    from ephkin.solvers.petsc_env import init_petsc

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    launched = int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("PMI_SIZE", "1")))
    assert comm.Get_size() == launched  # really running on the ranks mpirun started
    from ephkin.pde.instability import lambda_c_zinv
    from ephkin.pde.spectra import parse_spectrum

    lc = lambda_c_zinv(parse_spectrum("einstein"), 0.20)["lambda_c"]
    every = comm.allgather(lc)
    assert len(set(every)) == 1 and round(lc, 4) == 1.2716


def test_rank_local_slepc_solves_agree():
    # every rank solves its own problem on COMM_SELF (the layout of the sweeps): same answer everywhere
    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.petsc_env import init_petsc
    from ephkin.solvers.stability import lambda_c_linear

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    lc = lambda_c_linear(parse_spectrum("modes:40-60"), 0.204, solver="slepc")["lambda_c"]
    assert len(set(comm.allgather(round(lc, 12)))) == 1 and round(lc, 3) == 1.557


def test_sweep_over_ranks_matches_serial():
    # mpirun -n 2 ephkin sweep: every point once, the same table as a serial run (to ~1e-15: the
    # order of BLAS threads may differ), and both ranks did work (dynamic distribution)
    import csv
    import json

    from ephkin.solvers.cli import load_runfile, main
    from ephkin.solvers.cli import point_solver as _point_solver
    from ephkin.solvers.sweep import run_sweep

    comm, base, run = _shared_runfile("ephkin-mpi-", 'model = "lambda-c"\n[parameters]\nspectrum = "modes:40-60"\n'
                                      'kernel = "paper"\n[sweep]\nmethod = ["zinv", "linear"]\n'
                                      'T0 = [0.18, 0.204, 0.229, 0.253]\n')
    assert main(["sweep", run, "-o", os.path.join(base, "mpi")]) == 0
    spec = load_runfile(run)
    serial = os.path.join(base, f"serial{comm.Get_rank()}")
    run_sweep(spec, serial, _point_solver(spec, run), comm=None)
    comm.Barrier()
    a = list(csv.DictReader(open(os.path.join(base, "mpi", "results.csv"))))
    b = list(csv.DictReader(open(os.path.join(serial, "results.csv"))))
    assert [r["index"] for r in a] == [str(i) for i in range(8)]
    for ra, rb in zip(a, b):
        assert ra["status"] == rb["status"] == "ok"
        assert abs(float(ra["lambda_c"]) / float(rb["lambda_c"]) - 1) < 1e-12
    summ = json.load(open(os.path.join(base, "mpi", "summary.json")))
    assert summ["ranks"] == comm.Get_size() and sum(summ["computed_per_rank"]) == 8
    if comm.Get_size() > 1:
        assert all(c > 0 for c in summ["computed_per_rank"])


def test_sweep_progress_comes_from_every_rank_while_it_runs(capfd):
    # each rank reports its own points as they finish, with the whole sweep's counts (shared RMA counters)
    from ephkin.solvers.cli import main

    comm, base, run = _shared_runfile("ephkin-prog-", 'model = "lambda-c"\n[parameters]\nspectrum = "modes:40-60"\n'
                                      'method = "linear"\n[sweep]\nT0 = [0.18, 0.192, 0.204, 0.217, 0.229, 0.241]\n')
    assert main(["sweep", run, "-o", os.path.join(base, "p")]) == 0
    err = capfd.readouterr().err
    mine = [ln for ln in err.splitlines() if ln.startswith("sweep: point") and f"on rank {comm.Get_rank()} " in ln]
    done = [int(ln.split("; ")[1].split("/")[0]) for ln in mine]
    assert mine and all("/6 done" in ln and "ETA" in ln for ln in mine)
    every = comm.allgather(done)
    if comm.Get_size() > 1:
        assert all(every)  # every rank reported while the sweep ran, not only rank 0
    assert sorted(d for ds in every for d in ds) == list(range(1, 7))  # the shared count: 1..6 exactly once


def test_group_size_solves_each_point_on_a_sub_communicator():
    # --group-size 2: both ranks solve every point together (distributed Vec/Mat, MUMPS inertia,
    # parallel SLEPc and TS): the same lambda_c, n_negative and evolution as on one rank
    import json

    from ephkin.solvers.cli import main

    comm, base, run = _shared_runfile("ephkin-group-", 'model = "lambda-c"\n[parameters]\nspectrum = "modes:40-60"\n'
                                      'method = "linear"\n[sweep]\nT0 = [0.204, 0.253]\n')
    if comm.Get_size() != 2:
        pytest.skip("needs exactly 2 ranks")
    assert main(["sweep", run, "-o", os.path.join(base, "g"), "--group-size", "2"]) == 0
    summ = json.load(open(os.path.join(base, "g", "summary.json")))
    assert summ["group_size"] == 2 and summ["computed_per_rank"] == [2, 0]  # the leader records both
    recs = [json.load(open(os.path.join(base, "g", "points", f"{i:05d}.json"))) for i in range(2)]
    assert abs(recs[0]["result"]["lambda_c"] - 1.556994) < 2e-6  # the exact-kernel value (docs/theory.md §2.1)
    assert recs[0]["result"]["n_negative"] == 1 and recs[1]["result"]["n_negative"] == 1
    from ephkin.pde.kinetic import KineticModel
    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.bridge import solving_on
    from ephkin.solvers.evolution import evolve
    from ephkin.solvers.stability import make_problem

    model = KineticModel(make_problem(parse_spectrum("einstein"), 1.0, 0.2, grid_step=0.05))
    serial = evolve(model, 0.205, 2.0)
    from petsc4py import PETSc

    with solving_on(PETSc.COMM_WORLD):
        both = evolve(model, 0.205, 2.0)
    assert both["steps"] == serial["steps"]
    assert abs(both["max_deviation"] / serial["max_deviation"] - 1) < 1e-9


def test_failing_point_and_resume_over_ranks():
    # under mpirun: a point that raises is recorded with its error while the others finish, the sweep
    # exits 3 on every rank; --resume recomputes nothing (the point files written by both ranks are
    # found); once the cause is fixed --retry-failed recomputes the failed point only
    import json

    from ephkin.solvers.cli import main

    comm, base, _ = _shared_runfile("ephkin-fail-", "")
    a2f = os.path.join(base, "a2f.dat")
    if comm.Get_rank() == 0:
        with open(a2f, "w") as fh:
            fh.write("# not yet computed\n")  # readable, so it passes validation, but it has no table
    _, _, run = _shared_runfile("ephkin-fail-", 'model = "lambda-c"\n[parameters]\nT0 = 0.2\n[sweep]\n'
                                f'spectrum = ["einstein", "file:{a2f}", "modes:40-60", "einstein", "modes:35-55", '
                                '"modes:30-50"]\n')
    out = os.path.join(base, "o")
    assert main(["sweep", run, "-o", out]) == 3
    summ = json.load(open(os.path.join(out, "summary.json")))
    assert summ["ok"] == 5 and [f["index"] for f in summ["failed"]] == [1]
    assert "no numeric rows" in summ["failed"][0]["error"]
    comm.Barrier()
    assert main(["sweep", run, "-o", out, "--resume"]) == 3
    summ = json.load(open(os.path.join(out, "summary.json")))
    assert summ["computed_this_run"] == 0 and summ["skipped_as_finished"] == 6
    comm.Barrier()
    if comm.Get_rank() == 0:
        with open(a2f, "w") as fh:
            fh.write("0.5 0\n1.0 1\n1.5 0\n")
    comm.Barrier()
    assert main(["sweep", run, "-o", out, "--retry-failed"]) == 0
    summ = json.load(open(os.path.join(out, "summary.json")))
    assert summ["ok"] == 6 and summ["retried_failed"] == [1] and summ["computed_this_run"] == 1


def test_changed_points_and_lock_stop_every_rank():
    # a changed point on --resume (exit 2), a directory held by another job (exit 1), a bad point (exit 2): on
    # every rank, decided on rank 0 and broadcast (no rank is left waiting)
    from ephkin.solvers.cli import main
    from ephkin.solvers.dirlock import DirLock

    comm, base, run = _shared_runfile("ephkin-id-", 'model = "lambda-c"\n[parameters]\nspectrum = "einstein"\n'
                                      '[sweep]\nT0 = [0.18, 0.2, 0.22]\n')
    out = os.path.join(base, "o")
    assert main(["sweep", run, "-o", out]) == 0
    comm.Barrier()
    assert main(["sweep", run, "-o", out, "--resume", "--set", "lam_max=100"]) == 2
    held = DirLock(out).acquire() if comm.Get_rank() == 0 else None
    try:
        assert main(["sweep", run, "-o", out, "--resume"]) == 1  # a held directory: the machine's refusal
    finally:
        if held is not None:
            held.release()
    comm.Barrier()
    assert main(["sweep", run, "-o", out, "--resume", "--recompute-changed", "--set", "lam_max=100"]) == 0
    if comm.Get_rank() == 0:
        with open(run, "w") as fh:
            fh.write('model = "lambda-c"\n[parameters]\nspectrum = "einstein"\n[sweep]\nT0 = [0.2, -0.1]\n')
    comm.Barrier()
    assert main(["sweep", run, "-o", os.path.join(base, "bad")]) == 2
    assert not os.path.exists(os.path.join(base, "bad", "points"))


def test_matrix_free_gamma_spectrum_on_a_rank_group():
    # the shell A_hat (FFT product on the gathered vector) and the sparse M_hat distributed over the
    # group: the same slow modes and verdict as on one rank (above the dense reference size, L > 3000)
    import numpy as np

    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.bridge import solving_on
    from ephkin.solvers.petsc_env import init_petsc
    from ephkin.solvers.stability import make_problem, stability_summary

    PETSc, _ = init_petsc()

    p = make_problem(parse_spectrum("modes:40-60"), 5.0, 0.2, refine=4)
    assert p.grid.L > 3000
    serial = stability_summary(p, nev=3, counts=False)
    with solving_on(PETSc.COMM_WORLD):
        both = stability_summary(p, nev=3, counts=False)
    assert both["mu_min_ahat"] < 0 and serial["mu_min_ahat"] < 0
    np.testing.assert_allclose(both["gamma_negative"], serial["gamma_negative"], rtol=1e-8)
    np.testing.assert_allclose(both["gamma_min_positive"], serial["gamma_min_positive"], rtol=1e-8)
    assert both["n_zero_gamma"] == serial["n_zero_gamma"]


def _remove_shared(comm, base):
    """Remove a directory of :func:`_shared_runfile` once every rank is done with it (rank 0 removes it)."""
    import shutil

    comm.Barrier()
    if comm.Get_rank() == 0:
        shutil.rmtree(base, ignore_errors=True)


def _main_json(capsys, argv):
    """(exit status, the JSON this rank printed or None, its stderr) of ``ephkin ARGV --json`` on every rank."""
    import json

    from ephkin.solvers.cli import main

    status = main(list(argv) + ["--json"])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out.strip() else None), err


def test_one_command_on_all_ranks_as_one_group(capsys):
    # mpirun -n 2 ephkin evolve -o DIR: both ranks solve the one point together, rank 0 alone prints one JSON
    # object (ranks: 2) and writes every file; the time series equals the one-rank run to solver tolerance
    import h5py
    import numpy as np

    from ephkin.solvers import api

    comm, base, _ = _shared_runfile("ephkin-cmd-", "")
    out = os.path.join(base, "evolve")
    argv = ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202", "--t-end", "2",
            "--no-diagnostics", "--quiet", "-o", out]
    status, res, _ = _main_json(capsys, argv)
    assert comm.allgather(status) == [0] * comm.Get_size()
    printed = comm.allgather(res is not None)
    assert printed == [True] + [False] * (comm.Get_size() - 1)  # one JSON object, from rank 0
    if comm.Get_rank() == 0:
        assert res["ranks"] == comm.Get_size() and res["status"] == "stable"
        with h5py.File(os.path.join(out, "f_E_t.h5")) as h5:
            f_last, n = h5["f"][-1], h5["f"].shape[0]
        one = api.evolve("einstein", 1.0, 0.2, 0.202, 2.0, diagnostics=False)  # this rank alone (COMM_SELF)
        assert n == res["steps"] + 1 == one.stats["steps"] + 1
        assert np.max(np.abs(f_last - one.f_final)) < 1e-8
        hist = np.loadtxt(os.path.join(out, "history.csv"), delimiter=",", comments="#", skiprows=2)
        assert hist.shape[0] == n
        import json

        summ = json.load(open(os.path.join(out, "summary.json")))
        assert summ["run_status"] == "finished" and summ["ranks"] == comm.Get_size()
    _remove_shared(comm, base)


def test_stability_on_all_ranks_reports_them(capsys):
    # mpirun -n 2 ephkin stability --refine 16: the matrix-free gamma of the group (shared kernel products, the
    # ladders of M_hat factorised rank by rank) are those of one rank
    import numpy as np

    from ephkin.solvers import api

    comm, base, _ = _shared_runfile("ephkin-stab-", "")
    argv = ["stability", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--refine", "16", "--nev", "4",
            "--quiet"]
    status, res, _ = _main_json(capsys, argv)
    assert comm.allgather(status) == [0] * comm.Get_size()
    if comm.Get_rank() == 0:
        one = api.stability("modes:40-60", 1.0, 0.2, refine=16, nev=4)
        assert res["ranks"] == comm.Get_size() and res["eigen_solver"] == "slepc"
        np.testing.assert_allclose(res["gamma"], one.gamma, rtol=1e-8)
    _remove_shared(comm, base)


def test_one_command_fails_alike_on_every_rank(capsys):
    # bad input on every rank, and an -o that rank 0 alone cannot create: exit 2 on every rank, one line (rank 0)
    comm, base, _ = _shared_runfile("ephkin-bad-", "")
    blocker = os.path.join(base, "file")
    if comm.Get_rank() == 0:
        open(blocker, "w").close()
    comm.Barrier()
    unwritable = os.path.join(blocker, "o")  # under a regular file: rank 0 cannot create it
    for argv in (["zinv", "--spectrum", "einstein", "--T0", "-1"],
                 ["stability", "--spectrum", "einstein", "--lam", "2", "--T0", "0.2", "-o", unwritable]):
        status, res, err = _main_json(capsys, argv)
        assert comm.allgather(status) == [2] * comm.Get_size() and res is None
        lines = comm.allgather(err.count("error:"))
        assert lines[0] == 1 and sum(lines) == 1
    _remove_shared(comm, base)


def test_a_failure_on_one_rank_ends_every_rank_alike():
    # cli._agree: the first failing rank's status and line, on every rank (no rank waits for ever)
    from ephkin.solvers.cli import _agree
    from ephkin.solvers.petsc_env import init_petsc

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD
    if comm.getSize() < 2:
        pytest.skip("needs 2 ranks")
    mine = (1, "ephkin evolve: cannot access out: No space left on device") if comm.getRank() == 1 else (0, None)
    assert _agree(comm, *mine) == (1, "ephkin evolve: cannot access out: No space left on device")
