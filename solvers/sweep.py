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
  a point that raises, or whose result has status "solver_failed" (``solvers.failures``), is recorded
  as failed with its error (the solver's reason) and the sweep goes on;
  at the end rank 0 merges everything into ``results.csv`` (sorted by point)
  and ``summary.json`` (parameters, versions, git hash, per-point status).
* Nothing is mixed: each point's JSON records its full resolved parameters
  (``resolved``: every argument of the point, defaults included) and the code
  (ephkin version, git commit).  ``resume`` reuses a finished point only if
  both are identical; otherwise the sweep stops before computing with an
  InputError naming the first differing parameter, or (``recompute_changed``)
  recomputes the changed points.  ``retry_failed`` recomputes failed points.
* One writer per directory: rank 0 holds ``solvers.dirlock.DirLock`` on the
  output directory for the whole sweep (shared for ``only`` ranges of array
  jobs), taken before any old point is deleted.
* A failure outside a point (or SIGTERM) on one rank aborts the whole job
  with a message instead of leaving the others waiting.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import time

import numpy as np

from ephkin.pde import __version__
from ephkin.pde.errors import InputError

from .dirlock import DirLock
from .failures import NOT_PHYSICS
from .provenance import git_hash, provenance, to_jsonable, write_json
from .safefile import CannotWrite, open_nofollow, write_atomic

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
    """Shared counters on rank 0 of ``comm``, by MPI RMA fetch-and-add (plain integers without MPI): slot 0 the
    next point to take, slot 1 the points finished, slot 2 those that failed -- so that any rank can say how far
    the whole sweep is, not only its own points."""

    SLOTS = 3

    def __init__(self, comm):
        self.comm = comm
        self.local = np.zeros(self.SLOTS, dtype=np.int64)
        if comm is not None and comm.Get_size() > 1:
            from mpi4py import MPI

            self.MPI = MPI
            itemsize = MPI.INT64_T.Get_size()
            self.win = MPI.Win.Allocate(itemsize * self.SLOTS if comm.Get_rank() == 0 else 0, itemsize, comm=comm)
            if comm.Get_rank() == 0:
                np.frombuffer(self.win.tomemory(), dtype=np.int64)[:] = 0
            comm.Barrier()
        else:
            self.win = None

    def _add(self, slot, value):
        """Add ``value`` to counter ``slot``; its value before."""
        if self.win is None:
            old = int(self.local[slot])
            self.local[slot] += value
            return old
        inc, got = np.full(1, value, dtype=np.int64), np.zeros(1, dtype=np.int64)
        self.win.Lock(0)
        self.win.Fetch_and_op(inc, got, 0, slot, self.MPI.SUM)
        self.win.Unlock(0)
        return int(got[0])

    def take(self):
        """The next point's position in the to-do list."""
        return self._add(0, 1)

    def finished(self, failed):
        """Count one finished point (``failed`` or not); (points taken, finished, failed) over all ranks."""
        done = self._add(1, 1) + 1
        bad = self._add(2, 1 if failed else 0) + (1 if failed else 0)
        return self._add(0, 0), done, bad

    def free(self):
        if self.win is not None:
            self.win.Free()


#: The names a sweep writes in -o (and in -o/points): only files matching these are ever removed.
_OWN_NAMES = re.compile(r"results\.csv|results\.rank\d+\.jsonl")
_OWN_POINTS = re.compile(r"\d{5,}\.json")


def _own_files(outdir):
    """The files a previous sweep wrote in ``outdir`` (results.csv, results.rankN.jsonl, points/NNNNN.json),
    never a user's file that merely starts with "results" and never through a symbolic link."""
    out = []
    for folder, pattern in ((outdir, _OWN_NAMES), (os.path.join(outdir, "points"), _OWN_POINTS)):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if pattern.fullmatch(name) and os.path.isfile(path) and not os.path.islink(path):
                out.append(path)
    return out


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


def canonical(obj):
    """A parameter value as plain JSON that compares exactly: tuples -> lists, inf/nan -> strings."""
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if np.isfinite(v) else str(v)
    obj = to_jsonable(obj)
    return obj if isinstance(obj, (int, float, str, bool, type(None))) else str(obj)


def _first_difference(old, new):
    """(key, old value, new value) of the first parameter that differs, or None."""
    for key in list(new) + [k for k in old if k not in new]:
        if old.get(key, "(absent)") != new.get(key, "(absent)"):
            return key, old.get(key, "(absent)"), new.get(key, "(absent)")
    return None


def _plan(outdir, todo, identity, resume, recompute_changed, retry_failed, notify):
    """The finished points to keep (rank 0, holding the lock): with ``resume`` those whose recorded
    identity equals ``identity[i]`` (else InputError, or recomputed with ``recompute_changed``), failed
    ones only without ``retry_failed``.  Returns (keep, changed, retried)."""
    keep, changed, retried = set(), [], []
    if not resume:
        return keep, changed, retried
    for i in todo:
        path = _point_path(outdir, i)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
        if retry_failed and rec.get("status") != "ok":
            retried.append(i)
            continue
        old = rec.get("identity")
        diff = (("parameters", "(not recorded: written by an older ephkin)", "recorded now") if old is None
                else _first_difference(old, identity[i]))
        if diff is None:
            keep.add(i)
        else:
            changed.append((i, diff))
    if changed and not recompute_changed:
        i, (key, was, now) = changed[0]
        more = f" (and {len(changed) - 1} more points differ)" if len(changed) > 1 else ""
        raise InputError(f"--resume: point {i} in {outdir} was computed with {key} = {was!r}, the run now gives "
                         f"{key} = {now!r}{more}; rerun with --recompute-changed to recompute the changed points, "
                         "or use a new -o directory", "resume")
    if changed:
        i, (key, was, now) = changed[0]
        notify(f"recomputing {len(changed)} changed points (first: point {i}, {key} {was!r} -> {now!r})")
    if retried:
        notify(f"retrying {len(retried)} failed points ({', '.join(map(str, retried[:10]))}"
               f"{' ...' if len(retried) > 10 else ''})")
    return keep, [i for i, _ in changed], retried


def run_sweep(spec, outdir, solve, resume=False, comm=None, progress=None, runfile=None, only=None, group_size=1,
              resolved=None, recompute_changed=False, retry_failed=False, notify=None):
    """Solve every point of ``spec`` (from :func:`solvers.runfile.load_runfile`) with ``solve(i, point)``.

    ``solve`` returns a result dict or raises (InputError/any exception: the point
    is recorded as failed).  With ``group_size`` K > 1 each point is solved by a
    group of K ranks on their sub-communicator.  ``resolved[i]``: the full parameters
    of point i (default: its run-file values), recorded with the code version as the
    point's identity; ``resume`` keeps only identical finished points (see the module
    docstring).  ``notify(msg)``: rank 0's messages (lock take-over, recomputed points).
    Returns the summary dict (on every rank).
    """
    rank = comm.Get_rank() if comm is not None else 0
    groups = _groups(comm, group_size)
    points = spec["points"]
    n = len(points)
    todo = list(range(n)) if only is None else list(only)
    resume = resume or retry_failed
    notify = notify or (lambda msg: None)
    lock, plan = None, None
    if rank == 0:
        try:
            os.makedirs(os.path.join(outdir, "points"), exist_ok=True)
            # one writer per directory, taken before anything in it is touched
            lock = DirLock(outdir, shared=only is not None, notify=notify).acquire()
            if not resume and only is None:
                for f in _own_files(outdir):  # a fresh sweep: the previous sweep's files, and only those
                    os.remove(f)
            code = {"ephkin": __version__, "git": git_hash()}
            identity = [dict(canonical(resolved[i] if resolved is not None else points[i]),
                             ephkin_version=code["ephkin"], git=code["git"]) for i in range(n)]
            keep, changed, retried = _plan(outdir, todo, identity, resume, recompute_changed, retry_failed, notify)
            plan = {"code": code, "identity": identity, "done_before": keep, "redone": (changed, retried)}
        except (InputError, OSError) as exc:
            if lock is not None:
                lock.release()
            if isinstance(exc, InputError):
                plan = {"error": str(exc)}
            else:  # the machine's (a link, permissions, a full disk): exit 1 with "cannot ...", on every rank
                why = exc.strerror if isinstance(exc, CannotWrite) else f"cannot access {exc.filename}: {exc.strerror}"
                plan = {"error": why, "machine": exc.errno or 0}
    if comm is not None:
        plan = comm.bcast(plan, root=0)
    if "machine" in plan:
        raise CannotWrite(plan["machine"], plan["error"])
    if "error" in plan:
        raise InputError(plan["error"])
    try:
        return _run(spec, outdir, solve, comm, progress, runfile, (group_size,) + groups, todo, plan)
    finally:
        if lock is not None:
            lock.release()


def _run(spec, outdir, solve, comm, progress, runfile, groups, todo, plan):
    """The sweep proper (every rank): take points from the shared counter until none is left, write each,
    merge on rank 0.  ``groups``: (group size, group communicator, leader?, leaders' communicator)."""
    from contextlib import nullcontext

    from .bridge import solving_on

    group_size, group, lead, leaders = groups
    if group is not None:
        from petsc4py import PETSc

        group_petsc = PETSc.Comm(group)
    done_before, identity, code = plan["done_before"], plan["identity"], plan["code"]
    rank = comm.Get_rank() if comm is not None else 0
    size = comm.Get_size() if comm is not None else 1
    points = spec["points"]
    n = len(points)
    counter = _Counter(leaders) if lead else None
    csv_path = os.path.join(outdir, f"results.rank{rank}.jsonl")
    computed, t0 = 0, time.perf_counter()
    to_compute = sum(1 for j in todo if j not in done_before)
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
            rec = {"index": i, "parameters": points[i], "rank": rank, "identity": identity[i], "code": code}
            try:
                with solving_on(group_petsc) if group is not None else nullcontext():
                    rec["result"] = solve(i, points[i])
                rec["status"] = "ok"
                bad = rec["result"].get("status")
                if bad in NOT_PHYSICS:  # a solver failure or an early stop is not a physics result
                    rec["status"] = "failed"
                    why = rec["result"].get("solver_reason", "")
                    rec["error"] = f"{bad}: {why}: {rec['result'].get('message', '')}"
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
            _, finished, failed = counter.finished(rec["status"] != "ok")
            if progress is not None:  # every rank reports its own points with the whole sweep's counts
                progress(rank, i, n, rec, {"finished": finished, "failed": failed, "todo": to_compute})
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
                         runfile, plan["redone"])
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
    with open_nofollow(path, "a", newline="") as fh:  # never appended through a symbolic link
        fh.write(json.dumps(row) + "\n")  # one JSON object per line: crash-safe, merged at the end
        fh.flush()
        os.fsync(fh.fileno())


def _merge(spec, outdir, n, done_before, counts, wall, ranks, runfile, redone):
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
    path = os.path.join(outdir, "results.csv")

    def write(tmp):  # atomic (a private name, renamed): array jobs of one sweep may merge at the same time
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)

    write_atomic(path, write)
    summary = {
        "model": spec["model"],
        "runfile": runfile,
        "points": n,
        "finished": len(recs),
        "ok": sum(r["status"] == "ok" for r in recs),
        "failed": [{"index": r["index"], "error": r.get("error")} for r in recs if r["status"] != "ok"],
        "computed_this_run": int(sum(counts)),
        "skipped_as_finished": len(done_before),
        "recomputed_changed": redone[0],
        "retried_failed": redone[1],
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
