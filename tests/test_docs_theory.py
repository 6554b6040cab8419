"""docs/theory.md states every equation the code cites, under the paper the citation refers to.

Citations are read from every ``.py`` file under ``pde/`` and ``solvers/``: "Eq. (n)" or "Eqs. (n)"
followed by any chain of further numbers joined by ",", "/", "=", "-", "–" or "and", e.g.
"Eqs. (2)-(10), (44)-(55)" or "Eq. (9)/(31)"; a range "(a)-(b)" stands for every number from a to b
("(S19)-(S21)" for S19, S20, S21).

Which paper a citation refers to (the four seed papers number their equations independently):

* "(Sn)" is the supplement of seed 000 and "(An)", "(Bn)", "(Cn)" the appendices of seed 003,
  whatever the module;
* a plain number belongs to the seed named last before it on the same line ("seed 001 Eq. (8)"),
  else to the module's paper (:data:`MODULE_PAPER`: first matching path prefix), else to seed 000.

The labelling convention of docs/theory.md: every "## " section names its paper in its title,
"(seed 00N)"; an equation is stated in the section of its paper with the label in bold, **(n)**, exactly
as the code cites it ("**(S26)**", "**(8)**").  Each citation must find its bold label in a section of
its paper.
"""

import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THEORY = os.path.join(ROOT, "docs", "theory.md")
CODE_DIRS = ("pde", "solvers")

#: The paper of a module's plain equation numbers: the first prefix (relative path, "/") that matches.
MODULE_PAPER = (
    ("pde/nac.py", "001"),
    ("pde/dos.py", "001"),
    ("solvers/nac.py", "001"),
    ("solvers/studies/nac_", "001"),
    ("solvers/cli/nac.py", "001"),
    ("pde/avalanche.py", "003"),
    ("pde/keldysh.py", "003"),
    ("pde/wannier_stark.py", "003"),
    ("solvers/avalanche.py", "003"),
    ("solvers/studies/avalanche_", "003"),
    ("solvers/cli/avalanche.py", "003"),
    ("pde/phonons.py", "002"),
)
DEFAULT_PAPER = "000"

LABEL = r"\(([A-Z]?)(\d+)([a-z]?)\)"
SEP = r"\s*(?:,|/|=|-|–|\band\b)\s*"
CITATION = re.compile(rf"\bEqs?\.\s*{LABEL}(?:{SEP}{LABEL})*")
ONE = re.compile(LABEL)
SEED = re.compile(r"\bseed (00\d)\b")
SECTION = re.compile(r"^## (.*)$", re.M)
BOLD = re.compile(r"\*\*\(([A-Z]?\d+[a-z]?)\)\*\*")


def module_paper(rel):
    """The paper of the plain equation numbers in the file ``rel`` (path relative to the checkout)."""
    for prefix, paper in MODULE_PAPER:
        if rel.startswith(prefix):
            return paper
    return DEFAULT_PAPER


def expand(chain):
    """The labels of one citation chain ("Eqs. (2)-(4), (S7)" -> 2, 3, 4, S7), ranges expanded."""
    out = []
    prev = None
    for m in ONE.finditer(chain):
        letter, num, suffix = m.group(1), int(m.group(2)), m.group(3)
        between = chain[prev.end() : m.start()] if prev is not None else ""
        if prev is not None and re.fullmatch(r"\s*[-–]\s*", between) and not suffix and not prev.group(3):
            if prev.group(1) != letter or num < int(prev.group(2)):
                raise ValueError(f"malformed range {chain!r}")
            out.extend(f"{letter}{n}" for n in range(int(prev.group(2)) + 1, num + 1))
        else:
            out.append(f"{letter}{num}{suffix}")
        prev = m
    return out


def citations_in(text, default):
    """[(paper, label, line number)] of every citation in ``text`` (a file whose plain numbers are ``default``)."""
    out = []
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    for m in CITATION.finditer(text):
        lineno = sum(1 for s in line_starts if s <= m.start())
        line_start = line_starts[lineno - 1]
        seeds = SEED.findall(text[line_start : m.start()])
        plain = seeds[-1] if seeds else default
        for label in expand(m.group(0)):
            if label[0] == "S":
                paper = "000"
            elif label[0] in "ABC":
                paper = "003"
            else:
                paper = plain
            out.append((paper, label, lineno))
    return out


def code_citations():
    """{(paper, label): ["path:line", ...]} over every .py file under pde/ and solvers/."""
    out = {}
    for d in CODE_DIRS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
            for f in sorted(files):
                if not f.endswith(".py"):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
                for paper, label, lineno in citations_in(text, module_paper(rel)):
                    out.setdefault((paper, label), []).append(f"{rel}:{lineno}")
    return out


def theory_labels():
    """{paper: set of bold labels} of docs/theory.md, by the paper named in each "## " section title."""
    with open(THEORY, encoding="utf-8") as fh:
        text = fh.read()
    heads = list(SECTION.finditer(text))
    out = {}
    for i, h in enumerate(heads):
        papers = set(SEED.findall(h.group(1)))
        assert len(papers) == 1, f"docs/theory.md section {h.group(1)!r} must name exactly one paper, '(seed 00N)'"
        body = text[h.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        out.setdefault(papers.pop(), set()).update(BOLD.findall(body))
    return out


def test_expand_and_attribute():
    """The reader itself: ranges, chains, letters and the "seed 00N" override."""
    assert expand("Eqs. (2)-(4), (44)") == ["2", "3", "4", "44"]
    assert expand("Eq. (S19)-(S21)") == ["S19", "S20", "S21"]
    assert expand("Eq. (9)/(31)") == ["9", "31"]
    assert expand("Eqs. (4), (5) = (44), (46)") == ["4", "5", "44", "46"]
    got = citations_in("x Eq. (8) and seed 001 Eq. (8), Eq. (A6), Eq. (S6)\nEq. (3)", "003")
    assert got == [("003", "8", 1), ("001", "8", 1), ("003", "A6", 1), ("000", "S6", 1), ("003", "3", 2)]


def test_every_cited_equation_is_stated():
    """Every equation number cited in pde/ and solvers/ has its bold label in its paper's section."""
    cited = code_citations()
    assert len(cited) > 50, "the citation reader found almost nothing: is the pattern broken?"
    labels = theory_labels()
    missing = sorted(
        (paper, label, where) for (paper, label), where in cited.items() if label not in labels.get(paper, set())
    )
    assert not missing, "equations cited in the code but not stated in docs/theory.md:\n" + "\n".join(
        f"  seed {paper} ({label}), cited at {', '.join(where[:3])}" for paper, label, where in missing
    )


def test_code_does_not_cite_the_private_spec():
    """Users do not have the project's private notes: the code cites docs/theory.md and the papers."""
    # the issue's own check, literally: `grep -rn SPEC pde solvers` finds nothing
    out = subprocess.run(["grep", "-rn", "SPEC", "pde", "solvers"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1 and not out.stdout, "pde/ or solvers/ mention SPEC:\n" + out.stdout
