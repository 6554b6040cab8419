"""One exception type for bad user input.

The CLI turns an :class:`InputError` into a one-line message and exit status 2;
the message must name the offending parameter and say how to fix it.
"""


class InputError(ValueError):
    """Invalid user input: the message names the parameter and the fix."""


def require_positive(name, value, hint="give a positive value"):
    """Raise :class:`InputError` unless ``value`` is a finite number > 0."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (got {value!r}); {hint}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise InputError(f"{name} must be > 0 (got {value!r}); {hint}")
    return v


def require_nonnegative(name, value, hint="give a value >= 0"):
    """Raise :class:`InputError` unless ``value`` is a finite number >= 0."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (got {value!r}); {hint}") from None
    if not math.isfinite(v) or v < 0.0:
        raise InputError(f"{name} must be >= 0 (got {value!r}); {hint}")
    return v
