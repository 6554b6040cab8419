"""The shell examples of the docs, run and compared with their shown output (issue 25).

Every fenced block of README.md, docs/*.md and runs/README.md that holds a line ``$ ephkin ...`` (or
``$ mpirun -n N ephkin ...``) followed by output is an example.  The output is one JSON object per command
(``...`` elides items, a list ending in ``...`` shows its first entries), ``key: value`` lines, or the
one-line error of bad input.  The test runs each command from the repository root (``-o DIR`` goes to a
temporary directory) and checks:

- every key shown is in the fresh output, and every value shown matches it;
- every number matches **to the digits shown**: ``1.5570`` means the fresh value rounds to 1.5570 at 4
  decimals, ``2.4e-06`` means it rounds to 2.4e-06 at 1 decimal of the mantissa; integers are exact;
- an error line equals the real one (and the exit status is 2).

Values of timing keys (``seconds``, ``elapsed_s``, ``*_seconds``) are never compared: timings belong in
docs/benchmarks.md, with a date.  A block preceded by ``<!-- docs-test: slow REASON -->`` is skipped with
that reason (the examples that take more than ~20 s, so that ``make test`` stays quick), and
``<!-- docs-test: skip REASON -->`` skips it for another reason.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")), "runs/README.md"]
TAG = re.compile(r"<!--\s*docs-test:\s*(slow|skip)\b\s*(.*?)\s*-->")
PROMPT = re.compile(r"^\$ ((?:mpirun -n \d+ )?ephkin\b.*)$")
TIMING_KEYS = {"seconds", "elapsed_s", "wall_s"}


@dataclass
class Example:
    doc: str
    line: int  # 1-based line of the `$ ephkin` command
    command: str
    output: list[str]
    tag: tuple[str, str] | None = None  # ("slow" | "skip", reason)

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


@dataclass
class DocNumber:
    """A number as written in a doc: its value and the digits shown."""

    text: str
    value: float = field(init=False)

    def __post_init__(self) -> None:
        self.value = float(self.text)

    def tolerance(self) -> float | None:
        """Half a unit in the last digit shown; None for an integer (compared exactly)."""
        t = self.text.lower().lstrip("-")
        mant, _, exp = t.partition("e")
        if "." not in mant and not exp:
            return None
        decimals = len(mant.partition(".")[2])
        return 0.5 * 10.0 ** (int(exp or 0) - decimals)

    def matches(self, fresh: float) -> bool:
        tol = self.tolerance()
        if tol is None:
            return float(fresh) == self.value
        # fresh rounded to the digits shown equals the doc's number (1e-9 relative slack for binary floats)
        return abs(float(fresh) - self.value) <= tol * (1 + 1e-9) + 1e-15 * abs(self.value)

    def __repr__(self) -> str:
        return self.text


ELLIPSIS_KEY = "\x00..."


def collect(text: str, doc: str) -> list[Example]:
    """The examples of one document (its text given, so that a self-test can edit a copy)."""
    lines = text.splitlines()
    out: list[Example] = []
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("```"):
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and not lines[j].lstrip().startswith("```"):
            j += 1
        body = lines[start + 1 : j]
        tag = None
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and (m := TAG.search(lines[k])):
            tag = (m.group(1), m.group(2) or m.group(1))
        current: Example | None = None
        for n, raw in enumerate(body):
            s = raw.strip()
            if m := PROMPT.match(s):
                current = Example(doc, start + 2 + n, m.group(1), [], tag)
                out.append(current)
            elif current is not None and s:
                current.output.append(s)
        i = j + 1
    return [e for e in out if e.output]


def all_examples() -> list[Example]:
    ex: list[Example] = []
    for doc in DOC_FILES:
        ex += collect((ROOT / doc).read_text(encoding="utf-8"), doc)
    return ex


def parse_doc_json(text: str):
    """A JSON object as shown in a doc: `...` elides dict items or the tail of a list."""
    pieces: list[str] = []
    stack: list[str] = []
    in_str = False
    i = 0
    n_ell = 0
    while i < len(text):
        c = text[i]
        if in_str:
            pieces.append(c)
            if c == "\\":
                pieces.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            pieces.append(c)
        elif text.startswith("...", i):
            n_ell += 1
            pieces.append(json.dumps(f"{ELLIPSIS_KEY}{n_ell}") + (": null" if stack and stack[-1] == "{" else ""))
            i += 3
            continue
        else:
            if c in "{[":
                stack.append(c)
            elif c in "}]":
                stack.pop()
            pieces.append(c)
        i += 1
    return json.loads("".join(pieces), parse_float=DocNumber, parse_int=DocNumber)


def _is_ellipsis(x) -> bool:
    return isinstance(x, str) and x.startswith(ELLIPSIS_KEY)


def compare(doc, fresh, path: str = "") -> list[str]:
    """Mismatches between a value shown in a doc and the fresh one."""
    errs: list[str] = []
    if isinstance(doc, dict):
        if not isinstance(fresh, dict):
            return [f"{path or '<top>'}: doc shows an object, output has {fresh!r}"]
        for k, v in doc.items():
            if _is_ellipsis(k):
                continue
            if k not in fresh:
                errs.append(f"{path}{k}: key shown in the doc is missing from the output")
            elif k in TIMING_KEYS or k.endswith("_seconds"):
                continue
            else:
                errs += compare(v, fresh[k], f"{path}{k}.")
        return errs
    where = path.rstrip(".") or "<top>"
    if isinstance(doc, list):
        prefix = bool(doc) and _is_ellipsis(doc[-1])
        shown = doc[:-1] if prefix else doc
        if not isinstance(fresh, list):
            return [f"{where}: doc shows a list, output has {fresh!r}"]
        if len(fresh) < len(shown) or (not prefix and len(fresh) != len(shown)):
            return [f"{where}: doc shows {len(shown)} entries{' and more' if prefix else ''}, output has {len(fresh)}"]
        for n, v in enumerate(shown):
            errs += compare(v, fresh[n], f"{path}[{n}].")
        return errs
    if isinstance(doc, DocNumber):
        if isinstance(fresh, bool) or not isinstance(fresh, (int, float)) or not math.isfinite(fresh):
            return [f"{where}: doc shows {doc.text}, output has {fresh!r}"]
        if not doc.matches(fresh):
            return [f"{where}: doc shows {doc.text}, fresh value {fresh!r}"]
        return []
    if isinstance(doc, str) and "..." in doc and isinstance(fresh, str):  # `...` inside a string: any text
        if re.fullmatch(".*".join(map(re.escape, doc.split("..."))), fresh, re.S):
            return []
    if doc != fresh:
        return [f"{where}: doc shows {doc!r}, output has {fresh!r}"]
    return []


def parse_key_values(lines: list[str]) -> dict:
    out = {}
    for s in lines:
        k, sep, v = s.partition(":")
        if sep:
            out[k.strip()] = v.strip()
    return out


def check_output(ex: Example, stdout: str, stderr: str, returncode: int) -> list[str]:
    """Every mismatch between the example's shown output and a fresh run's."""
    shown = ex.output
    if len(shown) == 1 and re.match(r"^ephkin\b[^:]*: error: ", shown[0]):
        real = [s for s in stderr.splitlines() if s.strip()]
        errs = [] if returncode == 2 else [f"exit status {returncode}, not 2"]
        if real != shown:
            errs.append(f"doc shows the error line {shown[0]!r}, the real one is {real!r}")
        return errs
    if returncode != 0:
        return [f"exit status {returncode}: {stderr.strip()[-500:]}"]
    if shown[0].startswith("{"):
        try:
            doc = parse_doc_json(" ".join(shown))
        except json.JSONDecodeError as e:
            return [f"the doc's JSON does not parse: {e}"]
        return compare(doc, json.loads(stdout))
    # `key: value` lines: numbers to the digits shown, the rest as text
    fresh = parse_key_values(stdout.splitlines())
    errs = []
    for k, v in parse_key_values(shown).items():
        if k not in fresh:
            errs.append(f"{k}: key shown in the doc is missing from the output")
        elif re.fullmatch(r"-?\d+(\.\d*)?([eE][-+]?\d+)?", v):
            try:
                Decimal(fresh[k])
                ok = DocNumber(v).matches(float(fresh[k]))
            except Exception:
                ok = False
            if not ok:
                errs.append(f"{k}: doc shows {v}, fresh value {fresh[k]}")
        elif v != fresh[k] and k not in TIMING_KEYS:
            errs.append(f"{k}: doc shows {v!r}, output has {fresh[k]!r}")
    return errs


def ephkin_argv(command: str, tmp: Path) -> list[str]:
    argv = shlex.split(command)
    exe = shutil.which("ephkin", path=os.path.dirname(sys.executable)) or "ephkin"
    k = argv.index("ephkin")
    argv[k] = exe
    for n, a in enumerate(argv[:-1]):
        if a in ("-o", "--out"):
            argv[n + 1] = str(tmp / argv[n + 1])
    return argv


EXAMPLES = all_examples()


def _params():
    for ex in EXAMPLES:
        marks = []
        if ex.tag is not None:
            marks.append(pytest.mark.skip(reason=f"{ex.tag[0]}: {ex.tag[1]}"))
        elif ex.command.startswith("mpirun") and shutil.which("mpirun") is None:
            marks.append(pytest.mark.skip(reason="needs mpirun"))
        yield pytest.param(ex, id=ex.id, marks=marks)


@pytest.mark.parametrize("ex", list(_params()))
def test_doc_example(ex: Example, tmp_path: Path) -> None:
    env = dict(os.environ, MPLBACKEND="Agg")
    if ex.command.startswith("mpirun") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    p = subprocess.run(
        ephkin_argv(ex.command, tmp_path), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    errs = check_output(ex, p.stdout, p.stderr, p.returncode)
    assert not errs, f"{ex.id}: `{ex.command}`\n  " + "\n  ".join(errs)


# ---- the checker itself ----------------------------------------------------------------------------------


def test_examples_found() -> None:
    """The docs hold examples, and every README example is collected."""
    ids = [e.id for e in EXAMPLES]
    assert len(ids) == len(set(ids))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    n_prompts = sum(1 for s in readme.splitlines() if PROMPT.match(s.strip()))
    assert n_prompts >= 10
    assert sum(e.doc == "README.md" for e in EXAMPLES) == n_prompts


def test_digits_shown() -> None:
    assert DocNumber("1.5570").matches(1.55699406)
    assert not DocNumber("1.5574").matches(1.55699406)
    assert DocNumber("3.13979").matches(3.139794)
    assert not DocNumber("3.165").matches(3.13979)
    assert DocNumber("2.4e-06").matches(2.4245e-06) and not DocNumber("2.5e-06").matches(2.4245e-06)
    assert DocNumber("127").matches(127) and not DocNumber("127").matches(128)
    assert DocNumber("-0.2314138").matches(-0.23141384919663888)


def test_doc_json_with_ellipses() -> None:
    doc = parse_doc_json('{..., "a": 1.50, "g": [0.1, ...], "s": "x, ...", "d": {"e": 2}, ...}')
    fresh = {"a": 1.4951, "g": [0.1004, 0.3], "s": "x, ...", "d": {"e": 2, "f": 3}, "z": 0}
    assert compare(doc, fresh) == []
    assert compare(doc, dict(fresh, a=1.51)) == ["a: doc shows 1.50, fresh value 1.51"]
    assert compare(doc, {k: v for k, v in fresh.items() if k != "s"}) == [
        "s: key shown in the doc is missing from the output"
    ]
    assert compare(parse_doc_json('{"g": [0.1]}'), {"g": [0.1, 0.2]})  # no `...`: the whole list


def test_a_changed_digit_is_reported() -> None:
    """Edit a copy of a README block (one digit of a number shown) and check the mismatch is reported."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ex = next(e for e in collect(readme, "README.md") if "strong-coupling" in e.command)
    fresh = subprocess.run(
        ephkin_argv(ex.command, ROOT), cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert check_output(ex, fresh, "", 0) == []
    m = re.search(r'"E_min": (-?\d+\.\d*?)(\d)([,}])', ex.output[0])
    assert m, ex.output[0]
    wrong = str((int(m.group(2)) + 1) % 10)
    line = ex.output[0][: m.start(2)] + wrong + ex.output[0][m.end(2) :]
    edited_text = readme.replace(ex.output[0], line, 1)
    edited = next(e for e in collect(edited_text, "README.md") if "strong-coupling" in e.command)
    errs = check_output(edited, fresh, "", 0)
    assert len(errs) == 1 and errs[0].startswith("E_min: doc shows"), errs
    # a key the output does not have, and a changed error line
    gone = readme.replace(ex.output[0], ex.output[0].replace('"E_min"', '"E_minimum"', 1), 1)
    gone_ex = next(e for e in collect(gone, "README.md") if "strong-coupling" in e.command)
    assert any("E_minimum: key shown" in s for s in check_output(gone_ex, fresh, "", 0))
    err_ex = Example("README.md", 0, "ephkin lambda-c --T0 -1", ["ephkin lambda-c: error: --T0 must be > 0"])
    assert check_output(err_ex, "", "ephkin lambda-c: error: --T0 must be > 0 (got -1.0)\n", 2)


def test_tags_and_what_is_an_example() -> None:
    """A tag before a block skips it with its reason; blocks without `$ ephkin` or without output are not examples."""
    text = "\n".join(
        [
            "<!-- docs-test: slow takes 2 min -->",
            "```",
            "$ ephkin evolve --a-ee 200 --json",
            '{"steps": 113, ...}',
            "```",
            "```",
            "ephkin two-temp --json",
            "```",
            "```",
            "$ ephkin info",
            "```",
            "```",
            "$ ephkin zinv --T0 0.2 --json",
            '{"E_min": 1.0}',
            "```",
        ]
    )
    ex = collect(text, "x.md")
    assert [(e.line, e.tag) for e in ex] == [(3, ("slow", "takes 2 min")), (13, None)]
