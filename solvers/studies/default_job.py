"""The default job (``ephkin run`` without a file, ``make run``): seed 000's equilibrium results -- Table S1 (the
Z0 criterion, the C_el bound and the linear lambda_c with both kernels), the Fig. S1 eigenvectors, the Fig. 1
insets with the strong-coupling limit, and Fig. 3 (C_el < 0 for Einstein lambda = 4.5)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .base import Array, Params, Progress, Result, Study, out, param
from .common import ENERGY
from .zinv import TC_STRONG

#: Seed 000 Table S1 column 2 (linear analysis, suppressed "paper" kernel) -- comparison only.
TABLE_S1_LINEAR = {
    0.180: 1.1335,
    0.192: 1.3262,
    0.204: 1.5644,
    0.217: 1.8991,
    0.229: 2.3096,
    0.241: 2.8822,
    0.253: 3.7427,
    0.266: 5.3639,
    0.278: 8.6508,
}
#: Seed 000 Table S1 column 3 (Z0 criterion) -- for the comparison column only.
TABLE_S1_ZINV = {
    0.180: 1.1333,
    0.192: 1.3253,
    0.204: 1.5644,
    0.217: 1.8980,
    0.229: 2.3094,
    0.241: 2.8820,
    0.253: 3.7416,
    0.266: 5.3642,
    0.278: 8.6517,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class DefaultJobParams(Params):
    """Parameters of :func:`run`: the Table S1 spectrum (the seed's)."""

    spectrum: str = param("modes:40-60", help="alpha^2F of Table S1 and Fig. S1 (the seed's modes:40-60)")


@dataclasses.dataclass(kw_only=True)
class DefaultJobResult(Result):
    """Result of :func:`run`."""

    job: str = out(help="what the job computes", default="default: seed 000 equilibrium toolkit")
    table_s1: list[dict[str, Any]] = out(
        help="Table S1: lambda_c by the Z0 criterion, C_el and the linear "
        "analysis (both kernels), with the seed's columns",
        default=[],
    )
    stability_modes: dict[str, Any] = out(
        key="stability_modes_lambda_5_T0_0.20", default={}, help="Fig. S1: the gamma spectrum at lambda = 5, T0 = 0.20"
    )
    zinv_E: Array | None = out(array=True, unit=ENERGY, help="energies of the Fig. 1 inset curves")
    zinv_curves: dict[str, Array] = out(array=True, default={}, help="Z0^-1(E) per label (Fig. 1 insets)")
    zinv_zeros: list[float] = out(array=True, default=[], unit=ENERGY, help="their zeros")
    cel_T: Array | None = out(array=True, unit="Omega", help="temperatures of Fig. 3")
    cel_ratio: Array | None = out(array=True, help="C_el/C_free on cel_T (Fig. 3)")
    cel_energy: Array | None = out(array=True, help="electronic energy on cel_T (Fig. 3)")
    modes: Any = out(array=True, help="the Fig. S1 StabilityResult (eigenvectors for the plot)")


def run(
    params: DefaultJobParams, *, progress: Progress | None = None, petsc_options: list[str] | None = None
) -> DefaultJobResult:
    """Table S1, Fig. S1, Fig. 1 insets and Fig. 3 of seed 000 (see the module docstring).

    Parameters
    ----------
    params : DefaultJobParams
    progress : callable, optional
        One line per Table S1 row and per figure.
    petsc_options : list of str, optional
        Unused (the job's solvers are dense at these sizes); accepted for a uniform signature.

    Returns
    -------
    DefaultJobResult
    """
    from ephkin.pde import eliashberg as eq
    from ephkin.pde.instability import cel_analysis, strong_coupling_analysis, zinv_analysis
    from ephkin.pde.spectra import make_spectrum, parse_spectrum

    from . import lambda_c, stability

    say = progress or (lambda msg: None)
    shape = parse_spectrum(params.spectrum)
    res = DefaultJobResult()
    rows = []
    for i, (T0, ref) in enumerate(TABLE_S1_ZINV.items()):
        row = lambda_c.lambda_c_row(shape, T0, lambda_c.LambdaCParams(spectrum=params.spectrum, T0=(T0,)))
        row["table_s1"] = ref
        row["rel_diff"] = row["lambda_c"] / ref - 1.0
        rows.append(row)
        say(
            f"[{i + 1}/9] Table S1 T0={T0:.3f}: lambda_c={row['lambda_c']:.6f} (seed {ref}), "
            f"C_el<0 above lambda={row['lambda_c_cel']}"
        )
    for row in rows:
        for kernel in ("exact", "paper"):
            lp = lambda_c.LambdaCParams(spectrum=params.spectrum, T0=(row["T0"],), method="linear", kernel=kernel)
            row[f"lambda_c_linear_{kernel}"] = lambda_c.lambda_c_row(shape, row["T0"], lp)["lambda_c"]
        row["table_s1_col2"] = TABLE_S1_LINEAR[row["T0"]]
        say(
            f"Table S1 T0={row['T0']:.3f}: linear lambda_c exact kernel {row['lambda_c_linear_exact']:.5f}, "
            f"paper kernel {row['lambda_c_linear_paper']:.5f} (seed {row['table_s1_col2']})"
        )
    res.table_s1 = rows
    # Fig. S1: eigenvectors at lambda = 5, T0 = 0.20 (exact kernel)
    st = stability.run(stability.StabilityParams(spectrum=params.spectrum, lam=5.0, T0=0.20, nev=6))
    res.modes, res.stability_modes = st, st.to_dict()
    say(f"Fig. S1: lambda=5, T0=0.20: {st.n_negative} unstable modes, slowest stable gamma {st.gamma_min_positive:.5f}")
    # Fig. 1 insets: Einstein, T0 = 0.20, lambda = 2.169 (unstable) and 1.0 (stable)
    E = np.linspace(0.0, 2.5, 801)
    for lam in (1.0, 2.169):
        s = make_spectrum("einstein", lam, "g")
        a = zinv_analysis(s, 0.20)
        res.zinv_curves[f"Einstein, $\\lambda$ = {lam}, $T_0$ = 0.20 g"] = eq.zinv(s, E, 0.20)
        res.extra[f"einstein_lambda_{lam}_T0_0.20"] = a
        res.zinv_zeros += a["zeros"]
    res.zinv_curves[f"strong coupling (Eq. S38), $T_0 = T_c$ = {TC_STRONG} g"] = eq.zinv_strong(E, TC_STRONG)
    res.zinv_E = E
    res.extra["strong_coupling_T0_Tc"] = strong_coupling_analysis(TC_STRONG)
    say("Fig. 1 insets: Z0^-1(E) for Einstein lambda = 1.0, 2.169 and the strong-coupling limit")
    # Fig. 3: Einstein lambda = 4.5, temperatures in units of Omega
    s = make_spectrum("einstein", 4.5, "plain")
    ca = cel_analysis(s, 0.01, 5.0)
    res.extra["einstein_lambda_4.5_cel"] = ca
    res.cel_T = np.linspace(0.01, 1.5, 300)
    res.cel_ratio, res.cel_energy = eq.cel_ratio(s, res.cel_T), eq.electronic_energy(s, res.cel_T)
    say(f"Fig. 3: C_el < 0 for {ca['T_minus']:.4f} < T/Omega < {ca['T_plus']:.4f}")
    worst = max(abs(r["rel_diff"]) for r in rows)
    res.message = f"Table S1 (Z0 criterion) within {worst:.1e} of the seed's printed values"
    return res


STUDY = Study(
    "run", DefaultJobParams, run, "the default job: seed 000 Table S1, Fig. S1, Fig. 1 insets, Fig. 3", runfile=False
)
