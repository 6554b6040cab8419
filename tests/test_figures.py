"""Every figure that a command's -o writes, checked through its matplotlib objects (not pixels): every axes has
x and y labels with a unit in brackets or marked dimensionless (an inset: labels), a title, a legend whose
entries are exactly the labelled artists, every curve of data is labelled, and no line is empty.  Also the
--format pdf/svg and --dpi of every -o command."""

import os
import re

import numpy as np
import pytest

from ephkin.solvers import plots
from ephkin.solvers.cli import main

UNIT = re.compile(r"\[.+\]|dimensionless|/")


@pytest.fixture
def figures(monkeypatch):
    """The Figures saved, by file name (recorded just before they are written)."""
    seen = {}
    save = plots._save

    def record(fig, path, keep_suffix=False):
        written = save(fig, path, keep_suffix)
        seen[os.path.basename(written)] = fig
        return written

    monkeypatch.setattr(plots, "_save", record)
    yield seen
    plots.configure()


def _label(ax, which):
    """The axes' own x/y label, or that of an axes it shares the axis with (stacked panels)."""
    own = getattr(ax, f"get_{which}label")()
    if own:
        return own
    shared = getattr(ax, f"get_shared_{which}_axes")().get_siblings(ax)
    return next((getattr(a, f"get_{which}label")() for a in shared if getattr(a, f"get_{which}label")()), "")


def _line_has_data(line):
    x, y = (np.asarray(v, float) for v in line.get_data())
    return x.size > 0 and np.isfinite(y).any()


def check_figure(name, fig):
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    assert fig.axes, name
    for ax in fig.axes:
        where = f"{name}: axes {ax.get_title()!r}"
        for which in ("x", "y"):
            label = _label(ax, which)
            assert label and UNIT.search(label), f"{where}: {which}label {label!r} has no unit"
        assert ax.get_title() or suptitle, f"{where}: no title"
        in_container = {id(a) for c in ax.containers for a in c.get_children()}  # stem markers: the stem's entry
        for line in ax.get_lines():
            assert _line_has_data(line), f"{where}: empty line {line.get_label()!r}"
            if np.size(line.get_xdata()) > 2 and id(line) not in in_container:  # a curve, not an axhline/axvline
                assert not line.get_label().startswith("_"), f"{where}: a curve without a legend entry"
        handles, labels = ax.get_legend_handles_labels()
        legend = ax.get_legend()
        if labels:
            assert legend is not None, f"{where}: labelled lines {labels} but no legend"
            assert [t.get_text() for t in legend.get_texts()] == labels, where
        for ins in ax.child_axes:  # insets
            assert ins.get_xlabel() and ins.get_ylabel(), f"{where}: inset without axis labels"
            assert all(_line_has_data(line) for line in ins.get_lines())


def check_all(figures, names):
    assert set(names) <= set(figures), f"missing figures: {set(names) - set(figures)}"
    for name, fig in figures.items():
        check_figure(name, fig)


def test_default_job_figures(tmp_path, figures, capsys):
    assert main(["run", "-o", str(tmp_path), "--quiet"]) == 0
    check_all(figures, ["lambda_c.png", "zinv.png", "cel.png", "eigenvectors.png"])
    for name in figures:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # lambda_c: every curve drawn, the y ticks cover the data
    ax = figures["lambda_c.png"].axes[0]
    lo, hi = ax.get_ylim()
    data = np.concatenate([np.asarray(ln.get_ydata(), float) for ln in ax.get_lines()])
    data = data[np.isfinite(data)]
    assert lo <= data.min() and data.max() <= hi and len(ax.get_lines()) == 4
    ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
    assert len(ticks) >= 4 and min(ticks) <= 1.5 * data.min() and max(ticks) >= data.max() / 1.5
    assert "modes:40-60" in ax.get_title()
    # zinv: the -0.21 dip of lambda = 2.169 inside the y range, zeros in the legend, no "seed" in the title
    ax = figures["zinv.png"].axes[0]
    assert ax.get_ylim()[1] < 10 and ax.get_ylim()[0] < -0.21
    assert any("zero" in t.get_text() for t in ax.get_legend().get_texts()) and "seed" not in ax.get_title()
    assert ax.child_axes and ax.child_axes[0].get_ylim()[0] < -0.21 < 0 < ax.child_axes[0].get_ylim()[1] < 1
    # cel: T- and T+ named, lambda in the title
    ax = figures["cel.png"].axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("T_-" in t for t in texts) and any("T_+" in t for t in texts) and r"\lambda" in ax.get_title()
    assert r"\lambda" in figures["eigenvectors.png"]._suptitle.get_text()


def test_stability_lambda_c_and_scan_figures(tmp_path, figures, capsys):
    argv = ["stability", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--lam-scan", "1", "2", "5"]
    assert main(argv + ["-o", str(tmp_path / "s"), "--quiet"]) == 0
    argv = ["lambda-c", "--spectrum", "einstein", "--T0", "0.18", "0.2"]
    assert main(argv + ["-o", str(tmp_path / "l"), "--quiet"]) == 0
    check_all(figures, ["eigenvectors.png", "gamma_vs_lambda.png", "lambda_c.png"])
    ax = figures["gamma_vs_lambda.png"].axes[0]
    assert all(len(ln.get_xdata()) >= 3 for ln in ax.get_lines() if not ln.get_label().startswith(("_", r"$\lambda_c")))


def test_evolve_figures(tmp_path, figures, capsys):
    argv = ["evolve", "--spectrum", "einstein", "--lam", "1.0", "--T0", "0.20", "--T-in", "0.202", "--t-end", "5",
            "--grid-step", "0.025", "--a-ee", "1", "-o", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    check_all(figures, ["f_E_t.png", "T_eff.png"])
    ax = figures["f_E_t.png"].axes[0]
    assert r"\lambda" in ax.get_title() and "hbar" in ax.get_legend().get_title().get_text()


def test_nac_figures(tmp_path, figures, capsys):
    assert main(["nac", "sigma", "--mu", "0", "--omega-p", "0.5", "--zeta", "2", "--t-end", "0.5",
                 "-o", str(tmp_path / "s"), "--quiet"]) == 0
    assert main(["nac", "evolve", "--filling", "0.3333333", "--omega-p", "0.6667", "--t-end", "3",
                 "-o", str(tmp_path / "e"), "--quiet"]) == 0
    check_all(figures, ["f_eps.png", "transient.png", "f_final.png"])


def test_spectrum_and_avalanche_figures(tmp_path, figures, capsys):
    assert main(["spectrum", "--spectrum", "modes:40-60", "-o", str(tmp_path / "s"), "--quiet"]) == 0
    assert main(["avalanche", "curve", "--g-ep", "0.1", "--gamma", "0.002", "--omega0", "0.3",
                 "--E-range", "5e-4", "3e-2", "12", "-o", str(tmp_path / "c"), "--quiet"]) == 0
    assert main(["avalanche", "lattice", "--gamma", "0.005", "--g-ep", "0.3", "--omega0", "0.3", "--delta", "1",
                 "--E", "0.01", "--n-omega", "2048", "-o", str(tmp_path / "l"), "--quiet"]) == 0
    check_all(figures, ["spectrum.png", "lambda.png", "spectra.png"])


def test_sweep_figure(tmp_path, figures, capsys):
    text = ('model = "two-temp"\n[parameters]\nspectrum = "einstein"\nlam = 4.5\nunits = "plain"\nT0 = 0.5\n'
            '[sweep]\nT_in = [0.495, 0.505]\n[plot]\nx = "T_in"\ny = ["T_final"]\n')
    (tmp_path / "run.toml").write_text(text)
    assert main(["sweep", str(tmp_path / "run.toml"), "-o", str(tmp_path / "o"), "--format", "svg"]) == 0
    check_all(figures, ["sweep.svg"])
    assert (tmp_path / "o" / "sweep.svg").read_text()[:200].find("<svg") >= 0


def test_break_jumps_log_space():
    x = np.arange(8.0)
    y = 10.0 ** np.arange(8.0)  # log-spaced: equal relative steps, no jump
    assert not np.isnan(plots._break_jumps(x, y, log=True)[1]).any()
    assert np.isnan(plots._break_jumps(x, np.r_[y[:4], y[4:] * 1e9], log=True)[1]).sum() == 1


@pytest.mark.parametrize("fmt, magic", [("pdf", b"%PDF"), ("svg", b"<svg")])
def test_format_pdf_svg(tmp_path, figures, capsys, fmt, magic):
    argv = ["zinv", "--spectrum", "einstein", "--lam", "2.169", "--T0", "0.2", "-o", str(tmp_path), "--quiet"]
    assert main(argv + ["--format", fmt, "--dpi", "72"]) == 0
    assert not (tmp_path / "zinv.png").exists()
    data = (tmp_path / f"zinv.{fmt}").read_bytes()
    assert magic in data[:400]
    check_all(figures, [f"zinv.{fmt}"])
    # the setting does not outlive the command
    figures.clear()
    assert main(argv) == 0 and (tmp_path / "zinv.png").exists()


def test_bad_format_and_dpi_are_refused(tmp_path, capsys):
    assert main_exit(["zinv", "--spectrum", "einstein", "--T0", "0.2", "--format", "jpg"]) == 2
    assert main_exit(["zinv", "--spectrum", "einstein", "--T0", "0.2", "--dpi", "0"]) == 2


def main_exit(argv):
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_sweep_branching_ratio_line_and_labels(tmp_path, figures):
    rows = [{"status": "ok", "param.T0": str(e), "param.units": "g", "result.branching_ratio": str(0.5 * e),
             "result.n_ex": str(e * e)} for e in (1.0, 2.0, 3.0, 4.0)]
    spec = {"x": "T0", "y": ["result.branching_ratio", "result.n_ex"], "logy": True}
    path = plots.plot_sweep(str(tmp_path / "sweep.png"), rows, spec)
    assert path.endswith("sweep.png")
    check_all(figures, ["sweep.png"])
    ax = figures["sweep.png"].axes[0]
    assert r"$\rho$ = 1" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert "dimensionless" in ax.get_ylabel() and ax.get_title()
    # a run file's [plot] file keeps its own suffix whatever --format says
    plots.configure(format="pdf")
    assert plots.plot_sweep(str(tmp_path / "mine.svg"), rows, dict(spec, file="mine.svg")).endswith("mine.svg")
    assert plots.plot_sweep(str(tmp_path / "sweep.png"), rows, spec).endswith("sweep.pdf")


def test_dpi_sets_the_png_size(tmp_path, figures, capsys):
    argv = ["zinv", "--spectrum", "einstein", "--lam", "2.169", "--T0", "0.2", "-o", str(tmp_path), "--quiet"]
    sizes = []
    for dpi in ("50", "100"):
        assert main(argv + ["--dpi", dpi]) == 0
        head = (tmp_path / "zinv.png").read_bytes()[:24]
        sizes.append(int.from_bytes(head[16:20], "big"))  # IHDR width
    w, h = figures["zinv.png"].get_size_inches()
    assert sizes == [round(w * 50), round(w * 100)]
