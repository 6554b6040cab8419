"""Files ephkin writes, and only those: never through a symbolic link (whose target may be anyone's file), a
whole file written to a private temporary name in the same directory and renamed over the final name (a link
there is replaced, its target untouched; a reader never sees half a file), and the machine's refusals
(read-only, full disk, permissions) as one "cannot write ..." line."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import IO, Any


class CannotWrite(OSError):
    """The machine refused a write (read-only directory, full disk, a symbolic link where a file goes)."""

    def __str__(self) -> str:  # the one line "cannot write ...: reason", without OSError's "[Errno N]"
        return str(self.strerror)


def _cannot(path: str, exc: OSError) -> CannotWrite:
    why = "it is a symbolic link (ephkin never writes through one)" if exc.errno == 40 else exc.strerror
    return CannotWrite(exc.errno or 0, f"cannot write {path}: {why}")


def open_nofollow(path: str, mode: str = "w", newline: str | None = None) -> IO[Any]:
    """``open(path, mode)`` for a file written piece by piece ("w" truncates, "a" appends) that refuses a symbolic
    link at ``path`` instead of writing to its target."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise _cannot(path, exc) from None
    return os.fdopen(fd, mode, newline=newline, encoding="utf-8")


def write_atomic(path: str, write: Callable[[str], None], keep_suffix: bool = False) -> str:
    """Call ``write(tmp)`` to produce the file under a fresh private name next to ``path``, then rename it over
    ``path``.  On any failure the temporary file is removed and the old ``path`` (or link) stays as it was.
    The temporary name is hidden and ends in ``.tmp`` -- so that nothing globbing ``*.json`` or ``*.csv`` ever
    takes a half-written file -- unless ``keep_suffix`` (a writer that picks the format by the name's suffix,
    matplotlib: ``.tmp.png``)."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    suffix = ".tmp" + (os.path.splitext(base)[1] if keep_suffix else "")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=suffix, dir=directory)
    except OSError as exc:
        raise _cannot(path, exc) from None
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _unlink(tmp)
        raise _cannot(path, exc) from None
    except BaseException:
        _unlink(tmp)
        raise
    return path


def write_text_atomic(path: str, text: str) -> str:
    """``text`` into ``path`` by :func:`write_atomic`."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)

    return write_atomic(path, write)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
