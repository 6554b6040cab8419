"""One exception type for bad input.

The physics layer names the *parameter* (``T0 must be > 0``), never a command
line flag: a Python caller passed ``T0``, not ``--T0``.  The exception carries
the parameter's name in :attr:`InputError.param`; the command layer maps it to
its flag in the one-line message it prints (exit status 2).
"""


#: Largest magnitude (and inverse of the smallest nonzero one) of a number a user may give, as a parameter or in a
#: file: far beyond any physical value in any unit, and far enough inside the float range that exp, squares and
#: grid sizes of it cannot overflow into an internal error (``--T0 1e308``, ``--cutoff 1e308``, ``--T0 1e-320``,
#: an alpha^2F table of 1e308).
MAGNITUDE = 1e100


class InputError(ValueError):
    """Invalid input: the message names the parameter and the fix.

    ``param`` is the name of the offending parameter as the Python API spells it
    (``T0``, ``T_in``, ``lam``, ``grid_step``, ``spectrum`` ...), or None.
    """

    def __init__(self, message, param=None):
        super().__init__(message)
        self.param = param


def require_positive(name, value, hint="give a positive value"):
    """Raise :class:`InputError` (``param=name``) unless ``value`` is a finite number > 0."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (got {value!r}); {hint}", name) from None
    if not math.isfinite(v) or v <= 0.0:
        raise InputError(f"{name} must be > 0 (got {value!r}); {hint}", name)
    return v


def require_nonnegative(name, value, hint="give a value >= 0"):
    """Raise :class:`InputError` (``param=name``) unless ``value`` is a finite number >= 0."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (got {value!r}); {hint}", name) from None
    if not math.isfinite(v) or v < 0.0:
        raise InputError(f"{name} must be >= 0 (got {value!r}); {hint}", name)
    return v
