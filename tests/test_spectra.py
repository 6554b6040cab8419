"""Spectra alpha^2F: shapes, units (docs/theory.md §0), moments against closed forms, file parsing."""

import math

import numpy as np
import pytest

from ephkin.pde.errors import InputError
from ephkin.pde.spectra import make_spectrum, parse_spectrum, read_a2f_file


def test_modes_g_units_match_spec():
    # docs/theory.md §0: omega_k = r_k eps, lambda_k = lambda/21, eps = (lambda/21 sum r_k^2)^(-1/2)
    for lam in (0.5, 1.4788, 8.65):
        s = make_spectrum("modes:40-60", lam, "g")
        r = np.arange(40, 61)
        eps = (lam / 21 * np.sum(r**2)) ** -0.5
        np.testing.assert_allclose(s.omega, r * eps, rtol=1e-14)
        np.testing.assert_allclose(2 * s.weight / s.omega, lam / 21, rtol=1e-14)
        assert s.lam == pytest.approx(lam, rel=1e-14)
        assert s.g == pytest.approx(1.0, rel=1e-14)


def test_einstein_g_and_plain_units():
    s = make_spectrum("einstein", 2.169, "g")
    assert s.omega[0] == pytest.approx(1 / math.sqrt(2.169), rel=1e-15)  # Omega = 0.679
    p = make_spectrum("einstein", 4.5, "plain")
    assert p.omega[0] == 1.0 and p.lam == pytest.approx(4.5)
    m = p.moments()
    assert m["omega_log"] == pytest.approx(1.0) and m["omega2_mean"] == pytest.approx(1.0)


def test_debye_moments_closed_form():
    # alpha^2F = lambda (w/wD)^2: omega_log = wD e^{-1/2}, <w^2> = wD^2/2, <w> = 2wD/3
    m = make_spectrum("debye:2.0", 1.3, "plain").moments()
    assert m["lambda"] == pytest.approx(1.3, rel=1e-13)
    assert m["omega_log"] == pytest.approx(2.0 * math.exp(-0.5), rel=1e-12)
    assert m["omega2_mean"] == pytest.approx(2.0, rel=1e-13)
    assert m["omega1_mean"] == pytest.approx(4.0 / 3.0, rel=1e-13)


def test_lorentz_quadrature_converges_and_scales():
    s = make_spectrum("lorentz:1.0:0.1,2.0:0.2", 1.7, "plain")
    lam_coarse = 2 * np.sum(s.nodes(h=0.2)[1] / s.nodes(h=0.2)[0])
    lam_fine = 2 * np.sum(s.nodes(h=0.001)[1] / s.nodes(h=0.001)[0])
    assert lam_fine == pytest.approx(1.7, rel=1e-12)
    assert lam_coarse == pytest.approx(1.7, rel=1e-6)
    g = make_spectrum("lorentz:1.0:0.1,2.0:0.2", 1.7, "g")
    assert g.g == pytest.approx(1.0, rel=1e-12) and g.lam == pytest.approx(1.7, rel=1e-12)


def test_tabulated_file_matches_analytic_debye(tmp_path):
    # a table of the Debye shape: piecewise-linear interpolation converges as h^2 (up to a
    # log correction from the panel at omega = 0: observed orders 1.84, 1.86 here)
    errs = []
    for n in (101, 201, 401):
        w = np.linspace(0.0, 1.0, n)
        f = tmp_path / f"a2f_{n}.dat"
        np.savetxt(f, np.column_stack([w, 0.8 * w**2]), header="omega a2F")
        m = make_spectrum(f"file:{f}", None, "plain").moments()
        errs.append(abs(m["omega2_mean"] - 0.5))
        assert m["lambda"] == pytest.approx(0.8, rel=1e-3)
    order = math.log2(errs[0] / errs[1]), math.log2(errs[1] / errs[2])
    assert 1.8 < order[0] < order[1] < 2.05


EPW = """ w[meV] a2f and integrated 2*a2f/w for   3 smearing values
   0.5000000   0.0010000   0.0020000   0.0030000
   1.0000000   0.0100000   0.0200000   0.0300000
   1.5000000   0.0200000   0.0400000   0.0600000
   2.0000000   0.0000000   0.0000000   0.0000000
 Integrated el-ph coupling
  #             0.1000000   0.2000000   0.3000000
 Phonon smearing (meV)
  #             0.0500000   0.1000000   0.1500000
Electron smearing (eV)   0.1000000
Fermi window (eV)   1.0000000
Summed el-ph coupling    0.6000000
"""


def test_epw_layout_and_column(tmp_path):
    f = tmp_path / "pb.a2f"
    f.write_text(EPW)
    om, a = read_a2f_file(str(f))
    np.testing.assert_array_equal(om, [0.5, 1.0, 1.5, 2.0])
    np.testing.assert_array_equal(a, [0.001, 0.01, 0.02, 0.0])
    _, a3 = read_a2f_file(str(f), 3)
    np.testing.assert_array_equal(a3, [0.002, 0.02, 0.04, 0.0])
    s1, s3 = parse_spectrum(f"file:{f}"), parse_spectrum(f"file:{f}:3")
    assert s3.lam == pytest.approx(2 * s1.lam, rel=1e-12)  # column 3 is twice column 2


@pytest.mark.parametrize(
    "content, words",
    [
        ("", "no numeric rows"),
        ("1.0\n2.0\n", "at least 2 columns"),
        ("0.1 0.2\n0.1 0.3\n", "strictly increasing"),
        ("0.1 0.2\n0.2 -0.5\n0.3 0.1\n", "negative"),
        ("0.1 0\n0.2 0\n", "zero everywhere"),
        ("0.0 0.3\n0.2 0.1\n", r"alpha\^2F\(0\)"),
    ],
)
def test_malformed_files(tmp_path, content, words):
    f = tmp_path / "bad.dat"
    f.write_text(content)
    with pytest.raises(InputError, match=words) as e:
        parse_spectrum(f"file:{f}")
    assert "\n" not in str(e.value) and "file:" in str(e.value)


def test_unreadable_and_unknown():
    with pytest.raises(InputError, match="cannot read"):
        parse_spectrum("file:/nonexistent/a2f.dat")
    for bad in ("", "phonons", "modes:60-40", "modes:x", "peaks:1", "lorentz:0.1:0.5", "einstein:-1"):
        with pytest.raises(InputError):
            parse_spectrum(bad)
    with pytest.raises(InputError, match="lam must be > 0") as e:
        make_spectrum("einstein", -1.0)
    assert e.value.param == "lam" and "--" not in str(e.value)
    with pytest.raises(InputError, match="units must be") as e:
        make_spectrum("einstein", 1.0, "kelvin")
    assert e.value.param == "units"


def _table(n=200):
    w = np.linspace(0.05, 10.0, n)
    return w, np.exp(-0.5 * (w - 5.0) ** 2)


@pytest.mark.parametrize("bad", ["1.2e-0x", "************", "nan?", "abc"])
def test_corrupt_number_mid_table_is_an_error_naming_the_line(tmp_path, bad):
    # issue 15: one corrupt number on row 101 used to cut the table off there (lambda 0.565 -> 0.362)
    w, a = _table()
    rows = [f"{x:12.7f}{y:12.7f}" for x, y in zip(w, a)]
    rows[100] = f"{w[100]:12.7f}  {bad}"
    f = tmp_path / "corrupt.a2f"
    f.write_text("# omega[meV]  a2F\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match="line 102") as e:  # the comment line is line 1
        parse_spectrum(f"file:{f}")
    assert e.value.param == "spectrum" and str(f) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("content, words", [
    ("omega a2F\n0.1 0.2\n0.2 0.1\n", "line 1"),  # an unmarked header is not skipped silently
    ("0.1 0.2\n0.2 0.1\nend of table\n", "line 3"),  # nor an unmarked footer
    ("0.1 0.2\n0.2\n0.3 0.1\n", "line 2.*1 columns"),  # a truncated row
    ("0.1 0.2 0.3\n0.2 0.1 0.2\n0.3 0.1\n", "line 3.*2 columns"),
])
def test_unmarked_text_and_ragged_rows(tmp_path, content, words):
    f = tmp_path / "bad.dat"
    f.write_text(content)
    with pytest.raises(InputError, match=words):
        parse_spectrum(f"file:{f}")


def test_comments_and_inline_comments_are_skipped(tmp_path):
    w, a = _table(50)
    body = "\n".join(f"{x} {y}" + ("  # peak" if i == 25 else "") for i, (x, y) in enumerate(zip(w, a)))
    f = tmp_path / "c.dat"
    f.write_text("# header\n   # indented comment\n\n" + body + "\n# footer\n")
    om, a2f = read_a2f_file(str(f))
    np.testing.assert_allclose(om, w)
    np.testing.assert_allclose(a2f, a)


EPW_CUMULATIVE = """ w[meV] a2f and integrated 2*a2f/w for    2 smearing values
   0.5000000   0.0010000   0.0020000   0.0040000   0.0080000
   1.0000000   0.0100000   0.0200000   0.0240000   0.0480000
   1.5000000   0.0200000   0.0400000   0.0507000   0.1014000
   2.0000000   0.0000000   0.0000000   0.0507000   0.1014000
 Integrated el-ph coupling
  #              0.0507000   0.1014000
 Phonon smearing (meV)
  #              0.0500000   0.1000000
 Electron smearing (eV)   0.1000000
 Fermi window (eV)   1.0000000
 Summed el-ph coupling    0.0500000
"""


def test_epw_layout_with_cumulative_lambda_columns(tmp_path):
    # EPW with the Eliashberg module writes omega, a2F(1..N), lambda(omega)(1..N)
    f = tmp_path / "x.a2f"
    f.write_text(EPW_CUMULATIVE)
    om, a = read_a2f_file(str(f), 3)
    np.testing.assert_array_equal(a, [0.002, 0.02, 0.04, 0.0])
    with pytest.raises(InputError, match="cumulative lambda"):
        read_a2f_file(str(f), 4)


def test_binary_spectrum_file(tmp_path):
    f = tmp_path / "bin.a2f"
    f.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="cannot read") as e:
        parse_spectrum(f"file:{f}")
    assert "\n" not in str(e.value)


def test_shipped_example_pb_model_a2f():
    # docs/examples/pb_model.a2f: EPW layout (provenance '#' lines, EPW header, omega, a2F, cumulative
    # lambda, summary block), tabulated from the two-Lorentzian model written in its header.  The
    # model's lambda and omega_log are recomputed here by adaptive quadrature of the formula.
    import pathlib
    import re

    from scipy.integrate import quad

    root = pathlib.Path(__file__).resolve().parents[1]
    path = root / "docs" / "examples" / "pb_model.a2f"
    text = path.read_text()
    par = dict((k, float(v)) for k, v in re.findall(r"\b([AGWD]_[TLSC]) = ([0-9.]+)", text))
    assert len(par) == 9

    def model(w):
        peaks = (par["A_T"] * par["G_T"] ** 2 / ((w - par["W_T"]) ** 2 + par["G_T"] ** 2)
                 + par["A_L"] * par["G_L"] ** 2 / ((w - par["W_L"]) ** 2 + par["G_L"] ** 2))
        return peaks * -math.expm1(-((w / par["W_S"]) ** 2)) / (1 + math.exp((w - par["W_C"]) / par["D_C"]))

    pts = [par["W_S"], par["W_T"], par["W_L"], par["W_C"]]
    lam = 2 * quad(lambda w: model(w) / w, 0, 14, points=pts, limit=400)[0]
    wlog = math.exp(2 * quad(lambda w: model(w) * math.log(w) / w, 0, 14, points=pts, limit=400)[0] / lam)
    assert lam == pytest.approx(1.55, abs=0.01) and wlog == pytest.approx(4.56, abs=0.01)

    s = make_spectrum(f"file:{path}", None, "plain")
    m = s.moments()
    assert m["lambda"] == pytest.approx(lam, rel=1e-4)  # piecewise-linear table of the model
    assert m["omega_log"] == pytest.approx(wlog, rel=1e-4)
    assert s.omega_max == pytest.approx(12.0)
    # the file's own summary block: EPW's integrated coupling (cumulative lambda column at the end)
    assert float(re.search(r"Integrated el-ph coupling\s*\n\s*#\s*([0-9.]+)", text).group(1)) == pytest.approx(
        lam, rel=1e-4)
    # column 3 is EPW's cumulative lambda, not an alpha^2F
    with pytest.raises(InputError, match="cumulative lambda"):
        parse_spectrum(f"file:{path}:3")


def test_a_long_table_costs_what_its_grid_costs_not_rows_times_grid(tmp_path):
    """A 10^5-row alpha^2F (DFT output on a fine mesh): its rows are not panel breaks, so its quadrature has as
    many nodes as a 300-row table's, and its integrals are those of the piecewise-linear table exactly."""
    import numpy as np

    from ephkin.pde.spectra import parse_spectrum

    def table(rows):
        w = np.linspace(0.0, 3.0, rows)
        a = 0.5 * w**2 * np.exp(-(((w - 1) / 0.3) ** 2))
        np.savetxt(tmp_path / f"t{rows}.a2f", np.c_[w, a])
        return w, a, parse_spectrum(f"file:{tmp_path / f't{rows}.a2f'}")

    w, a, s = table(100001)
    *_, short = table(301)
    assert s.breaks.size == 2
    for h in (None, 0.05, 0.5):
        assert s.nodes(h)[0].size == short.nodes(h)[0].size < 8000
    # lambda = 2 int a2F/w dw of the piecewise-linear table, segment by segment in closed form:
    # int (p + q w)/w dw = p ln(w1/w0) + q (w1 - w0) (the first segment, from w = 0, has p = 0)
    q = np.diff(a) / np.diff(w)
    p = a[:-1] - q * w[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(w[:-1] > 0, np.log(w[1:] / np.where(w[:-1] > 0, w[:-1], 1.0)), 0.0)
    exact = 2.0 * float(np.sum(p * logs + q * np.diff(w)))
    assert abs(s.lam / exact - 1) < 1e-12
    # and the smooth function the table samples (mpmath), to the table's own O(h^2)
    import mpmath

    smooth = 2 * mpmath.quad(lambda x: 0.5 * x * mpmath.e ** (-(((x - 1) / 0.3) ** 2)), [0, 1, 3])
    assert abs(s.lam / float(smooth) - 1) < 1e-8


def test_table_quadrature_is_exact_for_the_piecewise_linear_table():
    """Product integration of a table with rows inside the panels (docs/theory.md §1) against the old rule,
    Gauss-Legendre between every pair of rows, on a kinked, irregular 40-row table: Z0^-1, Sigma, C_el."""
    import numpy as np

    from ephkin.pde import eliashberg
    from ephkin.pde.spectra import Spectrum, _TableDensity

    rng = np.random.default_rng(3)
    x = np.concatenate([[0.0], np.sort(rng.uniform(0.05, 1.2, 38)), [1.25]])
    y = np.concatenate([[0.0], rng.uniform(0.0, 1.0, 38), [0.0]]) * x
    s = Spectrum("table", density=_TableDensity(tuple(x), tuple(y)), breaks=np.array([x[0], x[-1]]))
    gx, gw = np.polynomial.legendre.leggauss(24)
    mid, half = 0.5 * (x[1:] + x[:-1]), 0.5 * np.diff(x)
    om = (mid[:, None] + half[:, None] * gx).ravel()
    ref = Spectrum("peaks", omega=om, weight=(half[:, None] * gw).ravel() * np.interp(om, x, y))
    E = np.linspace(0.0, 3.0, 31)
    for T in (0.05, 0.2):
        assert np.allclose(eliashberg.zinv(s, E, T), eliashberg.zinv(ref, E, T), rtol=0, atol=1e-12)
        assert np.allclose(eliashberg.sigma(s, E, T), eliashberg.sigma(ref, E, T), rtol=0, atol=1e-12)
        assert abs(eliashberg.cel_ratio(s, np.array([T]))[0] - eliashberg.cel_ratio(ref, np.array([T]))[0]) < 1e-12
    # and a rescaled table (every trial lambda of a scan) takes the same nodes, scaled
    r = s.scaled(2.0, 0.5)
    om_r, w_r = r.nodes(0.05)
    om_s, w_s = s.nodes(0.1)
    assert np.allclose(om_r, 0.5 * om_s, rtol=1e-15) and np.allclose(w_r, w_s, rtol=1e-14)
