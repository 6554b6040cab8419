"""lambda_c and the instability criteria against seed 000 (Table S1, Einstein example, S38, Fig. 3)."""

import math

import numpy as np
import pytest

from ephkin.pde import eliashberg as eq
from ephkin.pde.instability import (
    cel_analysis,
    lambda_c_cel,
    lambda_c_zinv,
    strong_coupling_analysis,
    strong_coupling_T0_max,
    zinv_analysis,
    zinv_minimum,
)
from ephkin.pde.spectra import make_spectrum, parse_spectrum

# seed 000 Table S1, column 3 (minimise Z0^-1)
TABLE_S1 = [(0.180, 1.1333), (0.192, 1.3253), (0.204, 1.5644), (0.217, 1.8980), (0.229, 2.3094),
            (0.241, 2.8820), (0.253, 3.7416), (0.266, 5.3642), (0.278, 8.6517)]


@pytest.mark.parametrize("T0, ref", TABLE_S1)
def test_table_s1_column3(T0, ref):
    r = lambda_c_zinv(parse_spectrum("modes:40-60"), T0)
    assert r["lambda_c"] == pytest.approx(ref, rel=2e-4)
    assert abs(r["zinv_min"]) < 1e-8  # the root is a root


def test_cel_bound_values_from_spec():
    # docs/theory.md §2.1: for modes:40-60 at T0 = 0.278, C_el/C_free = +0.096 at lambda = 3.5 and -0.090
    # at lambda = 4.5; so C_el turns negative in between, far below Table S1's lambda_c = 8.65.
    # (The theorem lambda_c <= lambda_cel holds for the *linear* lambda_c with the exact kernel,
    # not for the Z0 criterion: at T0 = 0.278 the Z0 criterion gives 8.65 > lambda_cel.)
    assert float(eq.cel_ratio(make_spectrum("modes:40-60", 3.5), 0.278)) == pytest.approx(0.096, abs=1e-3)
    assert float(eq.cel_ratio(make_spectrum("modes:40-60", 4.5), 0.278)) == pytest.approx(-0.090, abs=1e-3)
    shape = parse_spectrum("modes:40-60")
    lcel = lambda_c_cel(shape, 0.278)
    assert 3.5 < lcel < 4.5
    assert float(eq.cel_ratio(make_spectrum("modes:40-60", lcel), 0.278)) == pytest.approx(0.0, abs=1e-9)
    assert lambda_c_zinv(shape, 0.278)["lambda_c"] > lcel
    # g units, lambda -> infinity: C_el/C_free -> 1 - 6/(4 pi^2 T0^2), so above T0 = 0.39 it never turns negative
    assert lambda_c_cel(shape, 0.45) is None


def test_einstein_example():
    # seed 000 (example at T0 = 0.20 g, not the printed 0.183 g):
    # lambda_c = 1.2716 and E_min = 1.4437 Omega at T0 = 0.20 g
    r = lambda_c_zinv(parse_spectrum("einstein"), 0.20)
    assert r["lambda_c"] == pytest.approx(1.2716, abs=1e-4)
    assert r["E_min"] * math.sqrt(r["lambda_c"]) == pytest.approx(1.4437, abs=1e-4)


def test_units_consistency_g_vs_plain():
    # plain units: Z0^-1 = 1 - lambda G(E) so lambda_c = 1/max_E G; g units: T0/Omega = T0 sqrt(lambda_c)
    rg = lambda_c_zinv(parse_spectrum("einstein"), 0.20)
    t_plain = 0.20 * math.sqrt(rg["lambda_c"])
    rp = lambda_c_zinv(parse_spectrum("einstein"), t_plain, units="plain")
    assert rp["lambda_c"] == pytest.approx(rg["lambda_c"], rel=1e-8)
    s1 = make_spectrum("einstein", 1.0, "plain")
    E = np.linspace(0, 4, 40001)
    G = 1 - eq.zinv(s1, E, t_plain)
    assert rp["lambda_c"] == pytest.approx(1 / G.max(), rel=1e-6)


def test_einstein_zeros_unstable_case():
    # docs/theory.md §5: continuum zeros of Z0^-1 at E = 0.930 and 1.302 for lambda = 2.169, T0 = 0.20
    a = zinv_analysis(make_spectrum("einstein", 2.169), 0.20)
    assert a["unstable"]
    assert [round(z, 3) for z in a["zeros"]] == [0.930, 1.302]
    assert a["negative_interval"] == pytest.approx(a["zeros"])
    assert not zinv_analysis(make_spectrum("einstein", 1.0), 0.20)["unstable"]


def test_global_minimum_two_wells():
    # two well separated dips: the scan must find the deeper one, checked by brute force
    s = make_spectrum("peaks:0.3:0.6,2.0:2.5", None, "plain")
    E = np.linspace(0, 6, 600001)
    z = eq.zinv(s, E, 0.05)
    e_min, z_min = zinv_minimum(s, 0.05)
    assert z_min <= z.min() + 1e-12 and e_min == pytest.approx(E[np.argmin(z)], abs=2e-5)


def test_strong_coupling_interval_and_T0_max():
    # Eq. (S38) at T0 = T_c = 0.1827: the seed prints 0.40 < E < 1.16; the exact limit gives
    # 0.38983 (mpmath: findroot of 1 - Re psi2(1/2 + iE/2piT)/(4 pi^2 T^2)); finite lambda ~ 100
    # (Eq. (5)) gives 0.403, which is presumably where the seed's 0.40 comes from.
    a = strong_coupling_analysis(0.1827)
    assert a["negative_interval"] == pytest.approx([0.389826826032666, 1.16059885218298], abs=1e-10)
    assert strong_coupling_analysis(0.5)["negative_interval"] is None
    assert round(strong_coupling_T0_max() / 0.1827, 2) == 1.63


def test_cel_window_einstein():
    # seed 000 Fig. 3: lambda = 4.5, C_el < 0 for 0.39 < T/Omega < 0.67; lambda > 3.69 needed
    c = cel_analysis(make_spectrum("einstein", 4.5, "plain"), 0.01, 5.0)
    assert round(c["T_minus"], 2) == 0.39 and round(c["T_plus"], 2) == 0.67
    assert round(c["lambda_min"], 2) == 3.69
    c = cel_analysis(make_spectrum("einstein", 3.6, "plain"), 0.01, 5.0)
    assert c["T_minus"] is None and c["negative_intervals"] == []


def test_zinv_deviation_bound_constants_and_bound():
    """The constants of the bound by mpmath, and the bound above max_E |Z0^-1 - 1| on several spectra and T."""
    import mpmath

    from ephkin.pde.eliashberg import zinv
    from ephkin.pde.instability import IM_TRIGAMMA_MAX, IM_TRIGAMMA_SLOPE_MAX, zinv_deviation_bound
    from ephkin.pde.spectra import parse_spectrum

    h = lambda y: mpmath.im(mpmath.psi(1, 0.5 + 1j * y))  # noqa: E731
    y_max = mpmath.findroot(lambda y: mpmath.diff(h, y), 0.3)
    assert abs(abs(float(h(y_max))) - IM_TRIGAMMA_MAX) < 1e-12
    assert abs(float(abs(mpmath.psi(2, 0.5))) - IM_TRIGAMMA_SLOPE_MAX) < 1e-12
    E = np.linspace(0.0, 6.0, 3001)
    for spec in ("einstein", "modes:40-60", "debye", "lorentz:1:0.05"):
        for lam in (0.05, 0.5, 3.0):
            for T in (0.05, 0.2, 1.0):
                s = parse_spectrum(spec).with_lambda(lam, "g")
                dev = float(np.max(np.abs(zinv(s, E, T) - 1.0)))
                assert dev <= zinv_deviation_bound(s, T) * (1 + 1e-12)


def test_lambda_c_skipping_proven_stable_couplings_changes_nothing(monkeypatch):
    """The scan that skips couplings the bound proves stable finds the very same lambda_c as the full scan."""
    import ephkin.pde.instability as ins
    from ephkin.pde.spectra import parse_spectrum

    s = parse_spectrum("debye")
    fast = ins.lambda_c_zinv(s, 0.2)["lambda_c"]
    monkeypatch.setattr(ins, "zinv_deviation_bound", lambda spectrum, T: 2.0)
    assert ins.lambda_c_zinv(s, 0.2)["lambda_c"] == fast
