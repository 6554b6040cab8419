"""Run files (TOML): one job or a sweep of jobs over parameter axes.

    model = "lambda-c"                 # any ephkin subcommand that computes (lambda-c, stability, evolve, ...)
    [parameters]                       # its options, named as on the command line without dashes
    spectrum = "modes:40-60"           # (T0, T-in / T_in, grid-step / grid_step, ...)
    T0 = 0.18
    [sweep]                            # optional: axes, combined "cartesian" (default) or "zip"
    combine = "cartesian"
    T0 = [0.180, 0.192, 0.204]         # a list,
    lam = {range = [1.0, 2.0, 11]}     # a linear range [start, stop, count],
    rtol = {logrange = [1e-3, 1e-6, 4]}  # or a log range
    [petsc]                            # PETSc options for the model's prefix (-stab_, -kin_)
    stab_eps_tol = 1e-12
    [plot]                             # optional: a PNG of the sweep's results table
    x = "T0"                           # an axis (or parameter),
    y = ["lambda_c"]                   # result columns,
    series = "method"                  # one curve per value of this axis (optional),
    logx = false                       # logy, title, file = "sweep.png"

Every point is validated by the model's study (``Params.from_mapping``: the
same declarations as the command's flags, ``ephkin schema MODEL``) before
anything is computed, so an unknown key, a wrong type or a value out of range
is a one-line error naming the key and the file.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import stat

from ephkin.pde.errors import InputError

__all__ = ["load_runfile"]

#: Largest run file read (bytes): a run file is a page of TOML; anything larger is not one.
MAX_RUNFILE_BYTES = 1 << 20
#: Most points a sweep may have: each is a JSON file and a line of results.csv (a million is a week of the
#: cheapest points on a large machine; beyond, the list itself would not fit in memory).
MAX_POINTS = 1_000_000

def _read(path):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore
    try:  # a regular file of a sane size: a FIFO would block for ever, /dev/zero grow without end
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"run file {path}: not a regular file; give a TOML run file", "file")
        if st.st_size > MAX_RUNFILE_BYTES:
            raise InputError(f"run file {path}: {st.st_size} bytes, more than a run file needs (at most "
                             f"{MAX_RUNFILE_BYTES}); give a TOML run file", "file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RUNFILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"run file {path}: cannot read it ({exc.strerror})", "file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"run file {path}: not a UTF-8 text file (byte {exc.start}); give a TOML run file",
                         "file") from None
    if "\x00" in text:
        raise InputError(f"run file {path}: contains NUL bytes, not a text file; give a TOML run file",
                         "file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = " ".join(str(exc).split())  # one line
        raise InputError(f"run file {path}: not valid TOML ({msg})", "file") from None
    except RecursionError:
        raise InputError(f"run file {path}: nested too deeply to be a run file", "file") from None


def _axis(path, key, spec):
    if isinstance(spec, list):
        values = spec
    elif isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in ("range", "logrange"):
        kind, args = next(iter(spec.items()))
        if not (isinstance(args, list) and len(args) == 3 and all(isinstance(a, (int, float)) for a in args)):
            raise InputError(f"run file {path}: sweep.{key}: {kind} needs [start, stop, count]")
        a, b, n = args
        if int(n) != n or n < 1:
            raise InputError(f"run file {path}: sweep.{key}: count must be a positive integer (got {n})")
        n = int(n)
        if n > MAX_POINTS:
            raise InputError(f"run file {path}: sweep.{key}: {n} values, more than a sweep may have (at most "
                             f"{MAX_POINTS}); split it (ephkin sweep --points START:STOP for array jobs)")
        if kind == "logrange":
            if a <= 0 or b <= 0:
                raise InputError(f"run file {path}: sweep.{key}: logrange needs positive ends")
            values = [math.exp(math.log(a) + (math.log(b) - math.log(a)) * i / max(n - 1, 1)) for i in range(n)]
        else:
            values = [a + (b - a) * i / max(n - 1, 1) for i in range(n)]
    else:
        raise InputError(f"run file {path}: sweep.{key} must be a list, {{range = [a, b, n]}} or "
                         f"{{logrange = [a, b, n]}}")
    if not values:
        raise InputError(f"run file {path}: sweep.{key} is an empty axis; give at least one value")
    return values


def load_runfile(path, overrides=(), models=()):
    """Parse and validate a run file whose model is one of ``models`` (the commands that compute);
    returns dict(model, points=[{param: value}], petsc=[argv], axes, plot)."""
    data = _read(path)
    known = {"model", "parameters", "sweep", "petsc", "description", "plot"}
    for key in data:
        if key not in known:
            raise InputError(f"run file {path}: unknown key {key!r}; allowed: {', '.join(sorted(known))}")
    model = data.get("model")
    if model not in models:
        raise InputError(f"run file {path}: model must be one of {', '.join(models)} (got {model!r})")
    for table in ("parameters", "sweep", "petsc"):
        if not isinstance(data.get(table, {}), dict):
            raise InputError(f"run file {path}: [{table}] must be a table (got {data[table]!r})")
    params = dict(data.get("parameters", {}))
    sweep = dict(data.get("sweep", {}))
    for ov in overrides:
        key, sep, val = ov.partition("=")
        if not sep:
            raise InputError(f"--set {ov!r}: use key=value")
        if key.strip().replace("-", "_") in {k.replace("-", "_") for k in sweep if k != "combine"}:
            raise InputError(f"--set {ov}: {key.strip()} is swept (sweep.{key.strip()} in run file {path}); "
                             "edit its axis in the [sweep] table instead")
        params[key.strip()] = _scalar(val.strip())
    combine = sweep.pop("combine", "cartesian")
    if combine not in ("cartesian", "zip"):
        raise InputError(f"run file {path}: sweep.combine must be 'cartesian' or 'zip' (got {combine!r})")
    axes = {k: _axis(path, k, v) for k, v in sweep.items()}
    if combine == "zip" and len({len(v) for v in axes.values()}) > 1:
        raise InputError(f"run file {path}: sweep.combine = 'zip' needs axes of equal length")
    keys = list(axes)
    total = math.prod(len(v) for v in axes.values()) if combine == "cartesian" else len(next(iter(axes.values()), []))
    if total > MAX_POINTS:
        raise InputError(f"run file {path}: {total} points, more than a sweep may have (at most {MAX_POINTS}); "
                         "sweep fewer values")
    combos = zip(*axes.values()) if combine == "zip" else itertools.product(*axes.values())
    points = [dict(params, **dict(zip(keys, c))) for c in combos] if keys else [params]
    petsc = []
    for k, v in dict(data.get("petsc", {})).items():
        if not isinstance(v, (str, int, float, bool)) or v is False or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", k):
            raise InputError(f"run file {path}: petsc.{k} = {v!r}: give a PETSc option name and one value (a "
                             "string, a number, or true for a flag)")
        if _petsc_writes_files(k, v):
            raise InputError(f"run file {path}: petsc.{k} = {v!r}: PETSc would read or write files with it, outside "
                             f"-o (a run file writes only inside -o); drop it, or give it on the command line as "
                             f"-{k} if you mean it")
        petsc += [f"-{k}"] + ([] if v is True else [str(v)])
    if petsc:  # a solver type this build lacks, a word for a number: refused before any point runs
        from .option_values import check_option_values

        check_option_values(petsc, lambda name, value: f"run file {path}: petsc.{name} = {value!r}")
    return {"model": model, "points": points, "petsc": petsc, "axes": keys,
            "plot": _plot_spec(path, data.get("plot"), points[0])}


#: Words of PETSc option names that read or write files whatever their value (an options file, TS trajectories,
#: VTK/binary dumps, file-name templates): refused in a run file, which may come from anyone.
_FILE_OPTION_WORDS = ("options_", "prefix_", "trajectory", "save", "vtk", "dump", "binary", "hdf5", "_file", "file_",
                      "dirname", "template", "history")


def _petsc_writes_files(name, value):
    """True if the run-file PETSc option ``name = value`` would make PETSc read or write a file: a viewer value
    ``TYPE:FILENAME[:FORMAT[:MODE]]`` with a file name, a viewer type that writes a file of its own name in the
    current directory (``binary`` -> ./binaryoutput, ``hdf5``, ``vtk`` ...), or an option that names files.
    Monitors and views to the terminal stay allowed: ``true``, ``"ascii"``, ``"::ascii_info"``, ``"draw"``."""
    lowered = f"_{name.lower()}_"
    if any(w in lowered for w in _FILE_OPTION_WORDS) or lowered.startswith("_options"):
        return True
    if not isinstance(value, str):
        return False
    fields = value.split(":")
    if len(fields) > 1 and fields[1].strip():
        return True  # a file name, whatever the option
    viewer = "view" in lowered or "monitor" in lowered
    return viewer and fields[0].strip().lower() not in ("", "ascii", "draw")


def _plot_spec(path, plot, point):
    """Validate the optional [plot] table against the parameters of a point."""
    if plot is None:
        return None
    if not isinstance(plot, dict):
        raise InputError(f"run file {path}: [plot] must be a table")
    allowed = {"x": str, "y": list, "series": str, "logx": bool, "logy": bool, "title": str, "file": str}
    for key, val in plot.items():
        if key not in allowed:
            raise InputError(f"run file {path}: plot.{key}: unknown key; allowed: {', '.join(allowed)}")
        if not isinstance(val, allowed[key]):
            raise InputError(f"run file {path}: plot.{key} must be a {allowed[key].__name__} (got {val!r})")
    if "x" not in plot or not plot.get("y"):
        raise InputError(f"run file {path}: [plot] needs x (a parameter) and y (a list of result columns)")
    if not all(isinstance(c, str) and c for c in plot["y"]):
        raise InputError(f"run file {path}: plot.y must be a list of result column names (got {plot['y']!r})")
    if "file" in plot:
        plot_file_name(path, plot["file"])
    for key in ("x", "series"):
        if key in plot and plot[key] not in point:
            raise InputError(f"run file {path}: plot.{key} = {plot[key]!r} is not a parameter of the run file")
    return plot


#: Longest output file name a run file may give (bytes; the usual file-system limit).
MAX_NAME = 255
#: Formats matplotlib writes by the name's suffix.
PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".eps", ".ps")


def plot_file_name(path, name):
    """A run file's plot file name: a plain name inside -o (no directory part, no "..", not hidden, at most
    :data:`MAX_NAME` bytes, no NUL) with a suffix matplotlib writes -- anything else could write outside -o or
    over a file ephkin does not own.  Raises InputError before any point is computed."""
    bad = (not name or "/" in name or "\\" in name or "\x00" in name or name in (".", "..") or name.startswith(".")
           or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME)
    if bad:
        raise InputError(f"run file {path}: plot.file = {name!r}: give a plain file name such as 'sweep.png' (it is "
                         "written inside -o; no directories, no '..', no leading '.')")
    if not name.lower().endswith(PLOT_SUFFIXES):
        raise InputError(f"run file {path}: plot.file = {name!r}: the name must end in one of "
                         f"{', '.join(PLOT_SUFFIXES)}")
    return name


def _scalar(text):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)
