"""Parameter sweeps over MPI ranks: crash-safe, resumable, independent of the number of ranks.

* Work distribution is dynamic: every rank (rank 0 included) takes the next
  unfinished point from a shared counter on rank 0 (an MPI RMA window,
  MPI_Fetch_and_op), so cheap and expensive points balance themselves and no
  rank sits idle as a master.  Each point is solved on COMM_SELF.
* ``group_size = K > 1`` splits COMM_WORLD into groups of K consecutive ranks
  (``COMM_WORLD.Split``, as in defcon); the group leaders share the counter, each
  leader broadcasts its point to its group, and the group solves it with PETSc
  on the group communicator (``solvers.bridge.solving_on``); the leader writes it.
* Nothing is lost: each finished point is written at once as
  ``points/NNNNN.json`` (atomic rename) and as a line of ``results.rankR.jsonl``;
  a point that raises is recorded with its error and the sweep goes on;
  ``--resume`` skips every point that has a JSON file (ok or failed);
  at the end rank 0 merges everything into ``results.csv`` (sorted by point)
  and ``summary.json`` (parameters, versions, git hash, per-point status).
* A failure outside a point (or SIGTERM) on one rank aborts the whole job
  with a message instead of leaving the others waiting.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import sys
import time

import numpy as np

from ephkin.pde.errors import InputError

from .provenance import provenance, to_jsonable, write_json

__all__ = ["run_sweep"]


def _scalars(d, prefix=""):
    """Flatten the scalar entries of a result dict (nested dicts one level deep) for the CSV."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (int, float, str, bool, np.floating, np.integer)) or v is None:
            out[prefix + k] = to_jsonable(v)
        elif isinstance(v, dict) and not prefix:
            out.update(_scalars(v, prefix=k + "."))
    return out


class _Counter:
    """Shared point counter: MPI RMA fetch-and-add on rank 0 (a plain counter without MPI)."""

    def __init__(self, comm):
        self.comm = comm
        self.next = 0
        if comm is not None and comm.Get_size() > 1:
            from mpi4py import MPI

            self.MPI = MPI
            itemsize = MPI.INT64_T.Get_size()
            self.win = MPI.Win.Allocate(itemsize if comm.Get_rank() == 0 else 0, itemsize, comm=comm)
            if comm.Get_rank() == 0:
                np.frombuffer(self.win.tomemory(), dtype=np.int64)[0] = 0
            comm.Barrier()
        else:
            self.win = None

    def take(self):
        if self.win is None:
            i, self.next = self.next, self.next + 1
            return i
        one, got = np.ones(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
        self.win.Lock(0)
        self.win.Fetch_and_op(one, got, 0, 0, self.MPI.SUM)
        self.win.Unlock(0)
        return int(got[0])

    def free(self):
        if self.win is not None:
            self.win.Free()


def _point_path(outdir, i):
    return os.path.join(outdir, "points", f"{i:05d}.json")


def _groups(comm, k):
    """(group communicator or None, leader?, communicator of the leaders) for groups of k ranks."""
    size = comm.Get_size() if comm is not None else 1
    if size % k:
        raise InputError(f"--group-size {k} does not divide the {size} MPI ranks; use a divisor of {size}")
    if k == 1:
        return None, True, comm
    from mpi4py import MPI

    rank = comm.Get_rank()
    group = comm.Split(rank // k, rank)
    lead = group.Get_rank() == 0
    leaders = comm.Split(0 if lead else MPI.UNDEFINED, rank)
    return group, lead, leaders


def run_sweep(spec, outdir, solve, resume=False, comm=None, progress=None, runfile=None, only=None, group_size=1):
    """Solve every point of ``spec`` (from :func:`solvers.runfile.load_runfile`) with ``solve(i, point)``.

    ``solve`` returns a result dict or raises (InputError/any exception: the point
    is recorded as failed).  With ``group_size`` K > 1 each point is solved by a
    group of K ranks on their sub-communicator.  Returns the summary dict (on every rank).
    """
    from contextlib import nullcontext

    from .bridge import solving_on

    rank = comm.Get_rank() if comm is not None else 0
    size = comm.Get_size() if comm is not None else 1
    group, lead, leaders = _groups(comm, group_size)
    if group is not None:
        from petsc4py import PETSc

        group_petsc = PETSc.Comm(group)
    points = spec["points"]
    n = len(points)
    todo = list(range(n)) if only is None else list(only)
    os.makedirs(os.path.join(outdir, "points"), exist_ok=True)
    if not resume and only is None and rank == 0:
        old = glob.glob(os.path.join(outdir, "points", "*.json")) + glob.glob(os.path.join(outdir, "results*"))
        for f in old:
            os.remove(f)
    if comm is not None:
        comm.Barrier()
    done_before = {i for i in range(n) if os.path.exists(_point_path(outdir, i))}
    counter = _Counter(leaders) if lead else None
    csv_path = os.path.join(outdir, f"results.rank{rank}.jsonl")
    computed, t0 = 0, time.perf_counter()
    try:
        while True:
            k = counter.take() if lead else None
            if group is not None:
                k = group.bcast(k, root=0)
            if k >= len(todo):
                break
            i = todo[k]
            if i in done_before:
                continue
            t = time.perf_counter()
            rec = {"index": i, "parameters": points[i], "rank": rank}
            try:
                with solving_on(group_petsc) if group is not None else nullcontext():
                    rec["result"] = solve(i, points[i])
                rec["status"] = "ok"
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # recorded; the sweep goes on
                rec["status"] = "failed"
                rec["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            rec["seconds"] = round(time.perf_counter() - t, 4)
            if not lead:
                continue
            write_json(_point_path(outdir, i), rec)
            _append_csv(csv_path, rec)
            computed += 1
            if progress is not None:
                progress(rank, i, n, rec)
    except BaseException as exc:  # never leave the other ranks waiting
        if size > 1 and not isinstance(exc, SystemExit):
            print(f"ephkin sweep: rank {rank} failed outside a point ({type(exc).__name__}: {exc}); aborting "
                  "the job -- finished points are kept, rerun with --resume", file=sys.stderr, flush=True)
            comm.Abort(1)
        raise
    counts = comm.allgather(computed) if comm is not None else [computed]
    if lead:
        counter.free()
    summary = None
    if rank == 0:
        summary = _merge(spec, outdir, n, done_before, counts, time.perf_counter() - t0, (size, group_size),
                         runfile)
    if comm is not None:
        summary = comm.bcast(summary, root=0)
    return summary


def _row(rec):
    """One results-table row: index, sweep status, seconds, param.*, the result's scalars (a result key
    that collides with a sweep column, e.g. a model's own "status", becomes "result.KEY")."""
    row = {"index": rec["index"], "status": rec["status"], "seconds": rec["seconds"]}
    row.update({f"param.{k}": to_jsonable(v) for k, v in rec["parameters"].items()})
    for k, v in _scalars(rec.get("result", {})).items():
        row["result." + k if k in ("index", "status", "seconds", "rank", "error") else k] = v
    if rec["status"] != "ok":
        row["error"] = rec.get("error")
    return row


def _append_csv(path, rec):
    row = dict(_row(rec), rank=rec["rank"])
    with open(path, "a", newline="", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")  # one JSON object per line: crash-safe, merged at the end
        fh.flush()
        os.fsync(fh.fileno())


def _merge(spec, outdir, n, done_before, counts, wall, ranks, runfile):
    recs = []
    for i in range(n):
        p = _point_path(outdir, i)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as fh:
                recs.append(json.load(fh))
    rows = [_row(rec) for rec in recs]
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with open(os.path.join(outdir, "results.csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    summary = {
        "model": spec["model"],
        "runfile": runfile,
        "points": n,
        "finished": len(recs),
        "ok": sum(r["status"] == "ok" for r in recs),
        "failed": [{"index": r["index"], "error": r.get("error")} for r in recs if r["status"] != "ok"],
        "computed_this_run": int(sum(counts)),
        "skipped_as_finished": len(done_before),
        "ranks": ranks[0],
        "group_size": ranks[1],
        "computed_per_rank": counts,
        "wall_s": round(wall, 3),
        "provenance": provenance({"model": spec["model"], "axes": spec["axes"], "petsc": spec["petsc"]}),
    }
    if spec.get("plot"):
        from .plots import plot_sweep

        png = plot_sweep(os.path.join(outdir, spec["plot"].get("file", "sweep.png")), rows, spec["plot"])
        summary["plot"] = png or f"no finished point has the columns {spec['plot']['y']}"
    write_json(os.path.join(outdir, "summary.json"), summary)
    return summary
