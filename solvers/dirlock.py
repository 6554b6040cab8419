"""One writer per output directory: an advisory lock (``fcntl.flock``) on ``DIR/.ephkin.lock``.

A whole sweep, ``evolve -o``, ``nac evolve -o`` and ``run`` take the lock exclusively; array jobs
(``--points``, disjoint ranges of one sweep sharing DIR) take it shared, so they run side by side but never
next to a whole sweep or a run.  The holder writes its host, PID, start time and command into the lock file (a
shared holder into its own ``.ephkin.lock.HOST.PID``) so that a refused job can name it; the refusal is the
machine's answer, not bad input (:class:`DirectoryInUse`, exit 1: "cannot write into -o DIR: locked by ...").
The kernel drops a flock when its process dies (kill -9, a node's job killed by the batch system), so a lock is
never stale in the flock sense; what a killed job leaves is its holder line, which the next job reports
("taking over the lock of dead PID N") and replaces.

An exclusive holder removes the lock file when it releases it, if the file is still its own (the same inode).
A job that opened the file just before it was removed would lock a file nobody else sees; so after taking the
flock a job checks that the name still leads to the inode it locked, and starts again if not.  The file is
opened without following a symbolic link (a link named ``.ephkin.lock`` is refused, its target untouched).
Within one process the lock is re-entrant (``run FILE -o DIR`` holds DIR while its ``evolve`` point writes
there).
"""

from __future__ import annotations

import fcntl
import glob
import os
import socket
import time
from contextlib import contextmanager

from .safefile import CannotWrite

__all__ = ["DirLock", "DirectoryInUse", "hold"]

NAME = ".ephkin.lock"


class DirectoryInUse(CannotWrite):
    """Another ephkin job holds the output directory (exit 1, one "cannot write into -o DIR: locked by ..." line)."""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(text):
    """(host, pid, line) of a holder line 'host=H pid=N started=...', or None."""
    fields = dict(f.split("=", 1) for f in text.split() if "=" in f)
    if "host" not in fields or not fields.get("pid", "").isdigit():
        return None
    return fields["host"], int(fields["pid"]), text.strip()


class DirLock:
    """``with DirLock(outdir, shared=False, what="sweep", notify=print):`` -- raises DirectoryInUse naming
    the holder when another job holds the directory; ``notify(msg)`` gets the take-over messages."""

    def __init__(self, outdir, shared=False, what="sweep", notify=None):
        self.outdir, self.shared, self.what = outdir, shared, what
        self.notify = notify or (lambda msg: None)
        self.path = os.path.join(outdir, NAME)
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.fd, self.own = None, None

    def _line(self):
        started = time.strftime("%Y-%m-%dT%H:%M:%S")
        return f"host={self.host} pid={self.pid} started={started} {self.what}\n"

    def _holders(self):
        """Holder lines left in the lock file and the shared holders' files: [(host, pid, line, file)]."""
        out = []
        for path in [self.path] + sorted(glob.glob(self.path + ".*")):
            try:
                with open(path, encoding="utf-8") as fh:
                    h = _holder(fh.read())
            except OSError:
                continue
            if h is not None:
                out.append(h + (path,))
        return out

    def acquire(self):
        while True:
            try:  # a symbolic link named like the lock is refused: its target is not ours to truncate
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as exc:
                from .safefile import _cannot

                raise _cannot(self.path, exc) from None
            try:
                fcntl.flock(self.fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self.fd)
                self.fd = None
                live = [h for h in self._holders() if h[0] != self.host or _alive(h[1])]
                who = "; ".join(h[2] for h in live) or "a job that has not written its host and PID yet"
                raise DirectoryInUse(
                    0,
                    f"cannot write into -o {self.outdir}: locked by another ephkin job ({who}); wait for it to end "
                    "or use another output directory (one writer per directory)",
                ) from None
            if self._ours():
                break
            os.close(self.fd)  # locked a file its holder removed as we opened it: open the name again
            self.fd = None
        # the flock is ours: every holder line left behind belongs to a job that ended without releasing
        # (killed), except, for a shared lock, those of the other shared holders still running
        for host, pid, line, path in self._holders():
            if self.shared and path != self.path and (host != self.host or _alive(pid)):
                continue  # another array job of the same sweep, running
            if host == self.host and not _alive(pid):
                self.notify(f"taking over the lock of dead PID {pid} on {host} ({line})")
            else:
                self.notify(f"taking over the lock of PID {pid} on {host} (its lock was released without "
                            f"clearing it: {line})")
            if path == self.path:
                os.ftruncate(self.fd, 0)
            else:
                _remove(path)
        if self.shared:
            self.own = f"{self.path}.{self.host}.{self.pid}"
            from .safefile import open_nofollow

            with open_nofollow(self.own, "w") as fh:
                fh.write(self._line())
        else:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, self._line().encode(), 0)
            os.fsync(self.fd)
        return self

    def _ours(self):
        """True if the lock file's name still leads to the file this job opened (and locked)."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self.fd)
        return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)

    def release(self):
        if self.fd is None:
            return
        if self.own:
            _remove(self.own)
        else:
            os.ftruncate(self.fd, 0)  # cleared before unlocking: a line left behind means a killed holder
            if self._ours():  # removed while still locked: a job waiting on this inode sees it gone and retries
                _remove(self.path)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


#: The exclusive locks this process holds through :func:`hold`: {real path of DIR: [DirLock, count]}.
_HELD = {}


@contextmanager
def hold(outdir, what):
    """Hold ``outdir`` exclusively for the block (re-entrant within the process); raises DirectoryInUse when
    another job holds it."""
    key = os.path.realpath(outdir)
    if key in _HELD:
        _HELD[key][1] += 1
    else:
        _HELD[key] = [DirLock(outdir, what=what).acquire(), 1]
    try:
        yield
    finally:
        _HELD[key][1] -= 1
        if not _HELD[key][1]:
            _HELD.pop(key)[0].release()
