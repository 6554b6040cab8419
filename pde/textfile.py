"""Reading a user's text table (an alpha^2F, an initial distribution): one refusal for a file that cannot be read."""

from __future__ import annotations

from .errors import InputError

__all__ = ["read_lines"]


def read_lines(path: str, where: str, param: str, columns: str) -> list[str]:
    """The lines of the UTF-8 text file ``path``; InputError (``param``) naming ``where`` and the reason, with the
    ``columns`` a readable file should have, when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="strict") as fh:
            return fh.readlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a UTF-8 text file"
        raise InputError(f"{where}: cannot read the file ({reason}); give a readable text file with columns "
                         f"{columns}", param) from None
