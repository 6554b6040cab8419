"""Figures of what users look at (matplotlib, Agg backend: no display needed).

Every ``plot_*`` draws inside one style (:data:`STYLE`: fonts >= 9 pt, mathtext labels, a colour cycle
that also changes the line style, so overlapping curves stay distinguishable) and saves through
:func:`_save`, which writes atomically in the format and at the resolution :func:`configure` set
(``ephkin ... -o DIR --format pdf --dpi 300``; default PNG at :data:`DEFAULT_DPI`).  Axis labels carry
their unit in brackets ("E [g]") or say "[dimensionless]"; every drawn line that means something is
named in the legend; titles name the parameters.
"""

from __future__ import annotations

import functools
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402

#: Formats ``--format`` offers (a run file's ``[plot] file`` may also end in .eps/.ps).
FORMATS = ("png", "pdf", "svg")
DEFAULT_DPI = 150

#: Okabe-Ito colours (colour-blind safe), each with its own line style.
_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
_STYLES = ["-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (8, 2)), (0, (1, 1)), (0, (3, 1, 1, 1))]

#: The one style of every figure (``matplotlib.rc_context``).
STYLE = {
    "figure.figsize": (6.4, 4.4),
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "figure.titlesize": 11,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "lines.linewidth": 1.4,
    "lines.markersize": 5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "mathtext.fontset": "dejavusans",
    "axes.prop_cycle": cycler(color=_COLOURS) + cycler(linestyle=_STYLES),
    "svg.hashsalt": "ephkin",  # reproducible SVG ids
}

#: Set by :func:`configure` (the command line's ``--format``/``--dpi``).
_OUTPUT = {"format": None, "dpi": None}


def configure(format=None, dpi=None):
    """The format ("png", "pdf", "svg"; None: the name's own suffix, .png) and resolution (dots per inch;
    None: :data:`DEFAULT_DPI`) of every figure saved from now on.  ``configure()`` restores the defaults."""
    if format is not None and format not in FORMATS:
        raise ValueError(f"format {format!r}: one of {', '.join(FORMATS)}")
    if dpi is not None and not 10 <= dpi <= 2400:
        raise ValueError(f"dpi {dpi!r}: between 10 and 2400")
    _OUTPUT.update(format=format, dpi=dpi)


def _styled(func):
    """Draw (and save) ``func``'s figure inside :data:`STYLE`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plt.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


_SYMBOL = {"g": "g", "plain": "spectrum's unit", "Omega": r"$\Omega$"}


def _sym(units):
    return _SYMBOL.get(units, str(units))


def _unit(units):
    """Axis-label suffix for energies in ``units`` ("g", "plain", "Omega"): " [g]"."""
    return f" [{_sym(units)}]"


def _time_unit(units):
    s = _sym(units)
    return r" [$\hbar$/" + (f"({s})" if " " in s else s) + r"; $\pi t \to t$]"


DIMLESS = " [dimensionless]"


def _save(fig, path, keep_suffix=False):
    """Write ``fig`` atomically (never through a link named like the figure): the name's stem with the suffix
    of the configured format (``keep_suffix``: the name's own suffix decides, a run file's ``[plot] file``)."""
    from .safefile import write_atomic

    stem, suffix = os.path.splitext(path)
    if _OUTPUT["format"] and not keep_suffix:
        suffix = "." + _OUTPUT["format"]
        path = stem + suffix
    fmt = suffix[1:].lower() or "png"
    meta = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)  # reproducible files
    dpi = _OUTPUT["dpi"] or DEFAULT_DPI
    try:
        fig.tight_layout()
        write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt, metadata=meta))
    finally:
        plt.close(fig)
    return path


def _zero_lines(ax, zeros, units, what=r"zero of $Z_0^{-1}(E)$", xlim=None):
    """Vertical dashed lines at ``zeros`` (one legend entry naming them all)."""
    zs = [float(z) for z in zeros if xlim is None or xlim[0] <= z <= xlim[1]]
    for i, z in enumerate(zs):
        label = f"{what}: E = " + ", ".join(f"{v:.3g}" for v in zs) + f" {_sym(units)}" if i == 0 else None
        ax.axvline(z, color="0.35", ls=(0, (4, 3)), lw=0.9, label=label)


def _finite_range(arrays):
    vals = np.concatenate([np.asarray(a, float).ravel() for a in arrays]) if arrays else np.zeros(0)
    vals = vals[np.isfinite(vals)]
    return (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)


def _log_ylim(ax, arrays, pad=1.15):
    """Log y axis whose limits and plain-number ticks cover the data."""
    lo, hi = _finite_range([a[np.asarray(a, float) > 0] for a in (np.asarray(x, float) for x in arrays)])
    lo, hi = lo / pad, hi * pad
    ax.set_ylim(lo, hi)
    _plain_log_axis(ax.yaxis, lo, hi)


def _plain_log_axis(axis, lo, hi):
    """Log-axis ticks that cover [lo, hi] (1-1.5-2-3-5-7 within a decade, 1-2-5 over a few), labelled as plain
    numbers (2, 5, 10), not 2x10^0."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = np.log10(hi / lo) if lo > 0 and hi > lo else 10.0
    subs = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0) if decades < 1.3 else (1.0, 2.0, 5.0) if decades < 3 else (1.0,)
    axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


@_styled
def plot_zinv(path, E, curves, units, zeros=(), title=""):
    """Z0^-1(E) curves (label -> values) with the axis and the zeros marked (seed 000 Fig. 1 insets).  The y range
    comes from the curves that matter: a curve far larger than the others (the strong-coupling limit) runs off
    scale, and its legend entry says so; a shallow negative dip (Z0^-1 = -0.21 of lambda = 2.169) is zoomed in
    an inset, and each curve's negative minimum is marked and named in the legend."""
    fig, ax = plt.subplots(figsize=(7.6, 6.2))
    E = np.asarray(E, float)
    arrs = {lab: np.asarray(z, float) for lab, z in curves.items()}
    peaks = sorted(float(np.nanmax(np.abs(z))) for z in arrs.values())
    clip = 1.4 * peaks[-2] if len(peaks) > 1 and peaks[-1] > 2.5 * peaks[-2] else None
    lo, hi = _finite_range([np.clip(z, -clip, clip) if clip else z for z in arrs.values()])
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = hi - lo or 1.0
    shallow = []
    for lab, z in arrs.items():
        off = clip is not None and float(np.nanmax(np.abs(z))) > clip
        (line,) = ax.plot(E, z, label=lab + (f" (off scale above {clip:.2g})" if off else ""))
        i = int(np.nanargmin(z))
        if z[i] < 0:
            ax.plot(E[i], z[i], "v", color=line.get_color(), ms=6,
                    label=f"minimum {z[i]:.3g} at E = {E[i]:.3g} {_sym(units)}")
            if -z[i] < 0.12 * span:
                shallow.append((z, line))
    ax.axhline(0.0, color="k", lw=0.8)
    _zero_lines(ax, zeros, units)
    ax.set_ylim(lo - 0.06 * span, hi + 0.06 * span)
    ax.set_xlim(E[0], E[-1])
    ax.set_xlabel("E" + _unit(units))
    ax.set_ylabel(r"$Z_0^{-1}(E)$" + DIMLESS)
    ax.set_title(title or r"$Z_0^{-1}(E)$, Eq. (5)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=9)
    if shallow:  # zoom on the dips that the full range flattens
        neg = np.zeros(E.size, bool)
        for z, _ in shallow:
            neg |= z < 0
        e0, e1 = E[np.argmax(neg)], E[E.size - 1 - np.argmax(neg[::-1])]
        w = max(e1 - e0, 0.05 * (E[-1] - E[0]))
        x0, x1 = max(E[0], e0 - w), min(E[-1], e1 + w)
        depth = max(-float(np.min(z)) for z, _ in shallow)
        ins = ax.inset_axes([0.58, 0.52, 0.39, 0.42])
        for z, line in shallow:
            ins.plot(E, z, color=line.get_color(), ls=line.get_linestyle(), lw=1.2)
        ins.axhline(0.0, color="k", lw=0.6)
        for zz in zeros:
            ins.axvline(zz, color="0.35", ls=(0, (4, 3)), lw=0.9)
        ins.set_xlim(x0, x1)
        ins.set_ylim(-1.6 * depth, 1.6 * depth)
        ins.set_xlabel("E" + _unit(units), labelpad=1)
        ins.set_ylabel(r"$Z_0^{-1}$ (zoom)", labelpad=1)
        ins.tick_params(labelsize=9)
    return _save(fig, path)


#: lambda_c curves: markers of different shapes and sizes (open where large), so equal values stay visible.
_LC_MARKERS = [dict(marker="o", ms=9, mfc="none", mew=1.3), dict(marker="x", ms=7, mew=1.5),
               dict(marker="s", ms=5, mfc="none", mew=1.2), dict(marker="^", ms=6), dict(marker="d", ms=5)]


@_styled
def plot_lambda_c(path, T0, series, units, title=None):
    """lambda_c(T0) for several criteria (seed 000 Fig. S2)."""
    fig, ax = plt.subplots()
    drawn = []
    for (label, vals), mk in zip(series.items(), _LC_MARKERS * 3):
        v = np.array([np.nan if x is None else x for x in vals], dtype=float)
        ax.plot(T0, v, label=label, lw=1.1, **mk)
        drawn.append(v)
    ax.set_xlabel("$T_0$" + _unit(units))
    ax.set_ylabel(r"$\lambda_c$" + DIMLESS)
    ax.set_yscale("log")
    _log_ylim(ax, drawn)
    ax.set_title(title or r"$\lambda_c(T_0)$")
    ax.legend(loc="upper left")
    return _save(fig, path)


def _energy_unit2(units):
    return {"g": r"[$\nu_0\, g^2$]", "Omega": r"[$\nu_0\, \Omega^2$]"}.get(units, f"[$\\nu_0$ ({_sym(units)})$^2$]")


@_styled
def plot_cel(path, T, ratio, energy, window, units, title=None):
    """epsilon(T) with C_el inset and the window T_- < T < T_+ where C_el < 0 (seed 000 Fig. 3)."""
    fig, ax = plt.subplots()
    ax.plot(T, energy, color=_COLOURS[0], label=r"$\varepsilon(T)-\varepsilon(0)$")
    ax.set_xlabel("T" + _unit(units))
    ax.set_ylabel(r"$\varepsilon(T)-\varepsilon(0)$ " + _energy_unit2(units))
    ins = ax.inset_axes([0.13, 0.55, 0.36, 0.33])
    ins.plot(T, ratio, color="k", lw=1.0)
    ins.axhline(0.0, color="gray", lw=0.5)
    for t, name, colour in zip(window, ("$T_-$", "$T_+$"), (_COLOURS[1], _COLOURS[2])):
        if t is not None:
            ax.axvline(t, color=colour, ls="--", lw=1.0, label=f"{name} = {t:.3g} {_sym(units)}")
            ins.axvline(t, color=colour, ls="--", lw=0.8)
    if all(t is not None for t in window):
        ax.axvspan(window[0], window[1], color=_COLOURS[1], alpha=0.08, label=r"$C_{el} < 0$")
    ins.set_ylabel(r"$C_{el}/C_{free}$", labelpad=1)
    ins.set_xlabel("T" + _unit(units), labelpad=1)
    ins.tick_params(labelsize=9)
    ins.grid(False)
    ax.set_title(title or r"electronic energy and $C_{el}/C_{free}$ (Eq. S14)")
    ax.legend(loc="lower right")
    return _save(fig, path)


@_styled
def plot_spectrum(path, omega, a2f, peaks, units, title=None):
    """alpha^2F(omega): continuous part as a line, delta peaks as stems of height lambda_k."""
    fig, ax = plt.subplots()
    if a2f is not None:
        ax.plot(omega, a2f, color=_COLOURS[0], label=r"$\alpha^2F(\omega)$")
    if peaks is not None and len(peaks[0]):
        ax.stem(peaks[0], peaks[1], linefmt="C1-", markerfmt="C1o", basefmt=" ", label=r"$\lambda_k$ (delta peaks)")
    ax.set_xlabel(r"$\omega$" + _unit(units))
    ax.set_ylabel(r"$\alpha^2F(\omega)$, $\lambda_k$" + DIMLESS)
    ax.set_title(title or r"Eliashberg function $\alpha^2F(\omega)$")
    ax.legend()
    return _save(fig, path)


@_styled
def plot_eigenvectors(path, E, vecs, gammas, zinv, units, k=3, title=None):
    """Eigenvectors phi(E) of Eq. (14): up to k stable and k unstable; the zeros of Z0^-1(E) (where the kernel
    changes sign) dashed grey (Fig. S1).  The E range is the eigenvectors' support."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    E = np.asarray(E, float)
    gam = np.asarray(gammas)
    sc = np.sign(zinv)
    zeros = E[:-1][sc[:-1] * sc[1:] < 0]
    tiny = 1e-9 * max(1.0, float(np.max(np.abs(gam)))) if gam.size else 0.0  # ladder null modes: gamma = 0
    chosen = []
    for sel in (gam > tiny, gam < -tiny):
        idx = np.nonzero(sel)[0]
        chosen.append(idx[np.argsort(np.abs(gam[idx]))][:k])
    rate = rf" [{_sym(units)}/$\hbar$]"
    for ax, idx, name in zip(axes, chosen, (r"stable ($\gamma > 0$)", r"unstable ($\gamma < 0$)")):
        xlim = _support(E, [vecs[:, i] for i in idx])
        for i in idx:
            ax.plot(E, vecs[:, i], label=rf"$\gamma$ = {gam[i]:.4g}")
        _zero_lines(ax, zeros, units, xlim=xlim)
        ax.set_xlim(*xlim)
        ax.set_title(name)
        ax.set_xlabel("E" + _unit(units))
        ax.set_ylabel(r"$\phi(E)$ [max-normalised]")
        if not idx.size:
            ax.text(0.5, 0.5, "no eigenvector computed", ha="center", transform=ax.transAxes)
        if ax.get_legend_handles_labels()[1]:
            ax.legend(title=r"eigenvalue $\gamma$" + rate, fontsize=9, title_fontsize=9, loc="best")
    fig.suptitle(title or "eigenvectors of Eq. (14)")
    return _save(fig, path)


def _support(E, vecs, rel=0.02):
    """The E range where any of ``vecs`` exceeds ``rel`` of its maximum, padded by 5 % (all of E if none)."""
    support = np.zeros(E.size, bool)
    for v in vecs:
        v = np.abs(np.asarray(v, float))
        support |= v > rel * max(float(np.nanmax(v)), 1e-300)
    if not support.any():
        return E[0], E[-1]
    lo, hi = E[np.argmax(support)], E[E.size - 1 - np.argmax(support[::-1])]
    pad = 0.05 * (hi - lo or 1.0)
    return max(E[0], lo - pad), min(E[-1], hi + pad)


def _branches(table, poles=2):
    """gamma(lambda) as branches: each row of ``table`` is (lambda, the gammas nearest 0 then ``poles`` of the
    largest |gamma|); the gammas nearest 0 sorted at each lambda, the k-th of each lambda joined.  Returns
    lambdas, the near-0 branches (rows: lambda) and the poles (NaN-padded)."""
    lams = np.array([lam for lam, _ in table], float)
    rows = [np.asarray(g, float) for _, g in table]
    poles = poles if all(g.size > poles for g in rows) else 0
    n = max((g.size - poles for g in rows), default=0)
    G, P = np.full((len(rows), n), np.nan), np.full((len(rows), poles), np.nan)
    for j, g in enumerate(rows):
        near = np.sort(g[: g.size - poles])
        G[j, : near.size] = near
        P[j] = g[g.size - poles :]
    order = np.argsort(lams)
    return lams[order], G[order], P[order]


def _crossing(lams, gmin):
    """lambda where the smallest gamma near 0 first turns (truly) negative (linear interpolation), or None."""
    scale = float(np.nanmax(np.abs(gmin))) if np.isfinite(gmin).any() else 0.0
    for j in range(1, len(lams)):
        a, b = gmin[j - 1], gmin[j]
        if np.isfinite(a) and np.isfinite(b) and a > 0 and b < -1e-9 * scale:
            return float(lams[j - 1] + (lams[j] - lams[j - 1]) * a / (a - b))
    return None


@_styled
def plot_gamma_scan(path, table, units, lambda_c=None, title=None):
    """gamma(lambda) (seed 000 Fig. 2): the generalized eigenvalues nearest 0 at each coupling, sorted and joined
    into branches; the poles (largest |gamma|, diverging at lambda_c) as markers; lambda_c (given, or where the
    smallest gamma near 0 turns negative) marked."""
    fig, ax = plt.subplots()
    lams, G, P = _branches(table)
    many = G.shape[1] > 8
    for i in range(G.shape[1]):
        label = rf"$\gamma_{{{i + 1}}}$" + (" (smallest)" if i == 0 else "")
        if many:
            label = r"$\gamma$ nearest 0 (sorted at each $\lambda$)" if i == 0 else None
        ax.plot(lams, G[:, i], marker="o", ms=3.5, lw=1.0, label=label, **({"color": "k"} if many else {}))
    if P.size:
        ax.plot(np.repeat(lams, P.shape[1]), P.ravel(), "kx", ms=5, ls="none", label=r"poles (largest $|\gamma|$)")
    ax.axhline(0.0, color="k", lw=0.6)
    what = r"$\lambda_c$ = {:.4g}"
    if lambda_c is None and G.size:
        lambda_c = _crossing(lams, np.nanmin(G, axis=1))
        what = r"$\lambda_c \approx$ {:.3g} (smallest $\gamma$ = 0, interpolated)"
    if lambda_c is not None:
        ax.axvline(lambda_c, color="r", ls="--", lw=1.0, label=what.format(lambda_c))
    ax.set_xlabel(r"$\lambda$" + DIMLESS)
    ax.set_ylabel(rf"$\gamma$ [{_sym(units)}/$\hbar$]")
    ax.set_yscale("symlog", linthresh=1e-2)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_title(title or r"eigenvalues $\gamma(\lambda)$ nearest 0")
    ax.legend(fontsize=9, ncol=2 if G.shape[1] > 4 else 1, loc="center", bbox_to_anchor=(0.5, 0.3))
    return _save(fig, path)


@_styled
def plot_distribution(path, E, samples, f_eq, zinv, zeros, units, title=None):
    """f(E, t) - f0(T0) at several times (legend outside the axes), with Z0^-1(E) in an inset (seed 000 Fig. 1)."""
    fig, ax = plt.subplots(figsize=(8.4, 4.4))
    pick = samples if len(samples) <= 6 else [samples[i] for i in np.linspace(0, len(samples) - 1, 6).astype(int)]
    for t, f in pick:
        ax.plot(E, f - f_eq, label=f"t = {t:.3g}")
    xlim = (0, min(E[-1], 3.0 * max(zeros) if len(zeros) else 3.0))
    _zero_lines(ax, zeros, units, xlim=xlim)
    ax.set_xlim(*xlim)
    ax.set_xlabel("E" + _unit(units))
    ax.set_ylabel(r"$f(E,t) - f_0(E, T_0)$" + DIMLESS)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), title="time t" + _time_unit(units), title_fontsize=9)
    ins = ax.inset_axes([0.6, 0.6, 0.37, 0.32])
    ins.plot(E, zinv, "k-", lw=0.9)
    ins.axhline(0.0, color="gray", lw=0.5)
    ins.set_xlim(ax.get_xlim())
    ins.set_ylabel(r"$Z_0^{-1}(E)$", labelpad=1)
    ins.set_xlabel("E" + _unit(units), labelpad=1)
    ins.tick_params(labelsize=9)
    ins.grid(False)
    ax.set_title(title or r"$f(E,t) - f_0$")
    return _save(fig, path)


@_styled
def plot_effective_temperature(path, t, T_eff, T_two_temp, info):
    """T_eff(t) of Eq. (15) (Eq. (S6)) against T(t) of the two-temperature equation (16)."""
    fig, ax = plt.subplots()
    units = info.get("units", "g")
    ax.plot(t, T_eff, lw=1.4, label=r"$T_{eff}(t)$, Eq. (15) with $a_{ee}$ = " + f"{info['a_ee']:g}")
    ax.plot(t, T_two_temp, lw=1.2, label="two-temperature equation (16)")
    ax.axhline(info["T0"], color="gray", lw=0.8, ls=":", label=f"$T_0$ = {info['T0']:g} {_sym(units)}")
    ax.set_xlabel("t" + _time_unit(units))
    ax.set_ylabel("T" + _unit(units))
    ax.set_title(f"{info.get('spectrum', '')}, $\\lambda$ = {info['lambda']:g}, $T_0$ = {info['T0']:g}, "
                 f"$T_{{in}}$ = {info['T_in']:g} {_sym(units)}")
    ax.legend()
    return _save(fig, path)


@_styled
def plot_sweep(path, rows, spec):
    """The [plot] table of a run file: y columns against the x parameter of a sweep's results.csv rows,
    one curve per value of ``series``; failed points are left out.  The file name's suffix decides the
    format (``[plot] file``; the default name follows ``--format``).  Returns the path, or None if no row
    has the columns asked for."""
    x, ys, series = "param." + spec["x"], spec["y"], spec.get("series")
    ok = [r for r in rows if r.get("status") == "ok" and r.get(x) not in (None, "")]
    groups = {}
    for r in ok:
        groups.setdefault(r.get("param." + series) if series else None, []).append(r)
    units = next((r.get("param.units") for r in ok if r.get("param.units")), None)
    logy = bool(spec.get("logy"))
    fig, ax = plt.subplots()
    drawn = 0
    for key, rs in groups.items():
        for y in ys:
            pts = sorted((float(r[x]), float(r[y])) for r in rs if r.get(y) not in (None, "", "None"))
            if pts:
                label = ", ".join(s for s in (f"{_bare(series)} = {key}" if series else "",
                                              _bare(y) if len(ys) > 1 else "") if s)
                ax.plot(*_break_jumps(*zip(*pts), log=logy), marker=".", ms=6, label=label or _bare(y))
                drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    if any(_name(y).startswith("branching") for y in ys):
        ax.axhline(1.0, color="k", ls=":", lw=1.0, label=r"$\rho$ = 1")
    ax.set_xlabel(_label(spec["x"], units))
    yunits = {_label(y, units)[len(_bare(y)):] for y in ys}
    if len(yunits) == 1:
        ax.set_ylabel(", ".join(dict.fromkeys(_bare(y) for y in ys)) + yunits.pop())
    else:
        ax.set_ylabel(", ".join(dict.fromkeys(_label(y, units) for y in ys)))
    for axis, log in ((ax.xaxis, spec.get("logx")), (ax.yaxis, logy)):
        getattr(ax, f"set_{axis.axis_name}scale")("log" if log else "linear")
        if log:
            _plain_log_axis(axis, *getattr(ax, f"get_{axis.axis_name}lim")())
    ax.set_title(spec.get("title") or _fixed_params(ok, {spec["x"], series}))
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=9 if drawn <= 6 else 8)
    return _save(fig, path, keep_suffix="file" in spec)


def _fixed_params(rows, skip):
    """A title from the parameters every row shares ("spectrum = einstein, lam = 4.5")."""
    if not rows:
        return "sweep"
    keys = [k for k in rows[0] if k.startswith("param.") and k[6:] not in skip]
    same = [f"{_bare(k[6:])} = {rows[0][k]}" for k in keys
            if rows[0][k] not in (None, "") and all(r.get(k) == rows[0][k] for r in rows)]
    return ", ".join(same[:5]) or "sweep"


#: Axis labels of result columns and parameters that sweeps plot most.
_LABELS = {"lambda_c": r"$\lambda_c$", "T0": "$T_0$", "T_in": r"$T_{in}$", "lam": r"$\lambda$",
           "T_final": r"$T(t \to \infty)$", "gamma_min_positive": r"slowest $\gamma > 0$", "E_av": r"$E_{av}$",
           "sigma_over_sigma0": r"$\sigma/\sigma_0$", "omega_p": r"$\omega_p$", "n_ex": r"$n_{ex}$",
           "refine": "refine", "E": "E", "zeta": r"$\zeta$", "g_ep": r"$g_{ep}$", "gamma": r"$\Gamma$",
           "omega0": r"$\omega_0$", "T": "T", "lambda_c_cel": r"$\lambda$ where $C_{el} = 0$",
           "a_ee": r"$a_{ee}$", "two_temp_gap_max": r"max $|T_{eff} - T_{2T}| / |T_{in} - T_0|$",
           "T_eff_final": r"$T_{eff}(t_{end})$"}
#: Their units: "energy" (the run's units), a fixed unit, or dimensionless.
_UNITS = {"lambda_c": DIMLESS, "lam": DIMLESS, "lambda_c_cel": DIMLESS, "sigma_over_sigma0": DIMLESS,
          "two_temp_gap_max": DIMLESS, "a_ee": DIMLESS, "refine": DIMLESS, "n_ex": DIMLESS, "omega_p": " [W]",
          "T0": "energy", "T_in": "energy", "T_final": "energy", "T": "energy", "T_eff_final": "energy",
          "omega0": " [t]", "gamma": " [t]", "g_ep": " [t]", "E": " [t/a]", "E_av": " [t/a]",
          "gamma_min_positive": "rate"}


def _name(column):
    return column.split(".", 1)[-1] if column.startswith(("param.", "result.")) else column


def _bare(column):
    """A column's label without its unit."""
    name = _name(column)
    return _LABELS.get(name, name.replace("_", " "))


def _label(column, units=None):
    """A readable axis label for a results column ("result." and "param." prefixes dropped), with its unit
    where it is known (energies in the run's ``units``, g by default)."""
    name = _name(column)
    label = _bare(column)
    unit = _UNITS.get(name, DIMLESS if name.startswith("branching") else "")
    if unit == "energy":
        unit = _unit(units or "g")
    elif unit == "rate":
        unit = f" [{_sym(units or 'g')}/$\\hbar$]"
    return label + unit


def _break_jumps(x, y, factor=8.0, log=False):
    """(x, y) with NaN inserted where y jumps by more than ``factor`` times the median step, so a line
    is not drawn across a discontinuity (the markers stay).  ``log``: steps of log10(y) (a log axis, where
    log-spaced data has equal relative steps)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if y.size < 4:
        return x, y
    if log:
        if not np.all(y > 0):
            return x, y
        dy = np.abs(np.diff(np.log10(y)))
    else:
        dy = np.abs(np.diff(y))
    med = float(np.median(dy))
    cut = np.nonzero(dy > factor * max(med, 1e-300))[0] if med > 0 else np.zeros(0, int)
    return np.insert(x, cut + 1, np.nan), np.insert(y, cut + 1, np.nan)


@_styled
def plot_nac_distribution(path, eps, dos_rel, f, f_T, info):
    """f(eps), f_T (dashed) and D/D_max (dash-dotted): seed 001 Figs. 1, 3c, 5."""
    fig, ax = plt.subplots()
    ax.plot(eps, f, label=r"$f(\varepsilon)$")
    ax.plot(eps, f_T, label=r"$f_T(\varepsilon)$, Fermi function at T")
    ax.plot(eps, dos_rel / max(float(np.max(dos_rel)), 1e-300), label=r"$D(\varepsilon)/D_{max}$")
    ax.set_xlabel(r"$\varepsilon$ [W]")
    ax.set_ylabel(r"occupation $f(\varepsilon)$; $D/D_{max}$" + DIMLESS)
    when = f", t = {info['t_end']:g}/$\\Gamma_{{eph}}$" if "t_end" in info else ""
    ax.set_title(f"{info['dos']}, $\\omega_p$ = {info['omega_p']:.4g} W, T = {info['T']:.3g} W{when}"
                 + (f", $\\sigma/\\sigma_0$ = {info['sigma_over_sigma0']:.4f}" if "sigma_over_sigma0" in info else ""))
    ax.legend()
    return _save(fig, path)


@_styled
def plot_nac_transient(path, t, sigma, zeta_rel, E_star, info):
    """sigma/sigma0 and zeta/zeta0 against Gamma_eph t (Fig. 3a), E*(t) below (Fig. 3b)."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True)
    a1.plot(t, sigma, label=r"$\sigma/\sigma_0$")
    a1.plot(t, zeta_rel, label=r"$\zeta/\zeta_0$")
    a1.axhline(0.0, color="k", lw=0.6)
    a1.legend()
    a1.set_ylabel(r"$\sigma/\sigma_0$, $\zeta/\zeta_0$" + DIMLESS)
    a1.set_title(f"{info['dos']}, filling {info['filling']:.3g}, $\\omega_p$ = {info['omega_p']:.4g} W, "
                 f"T = {info['T']:.3g} W")
    a2.plot(t, E_star, color=_COLOURS[2], label=r"$E^*(t)$")
    a2.set_ylabel(r"$E^*$ [F units]")
    a2.set_xlabel(r"$\Gamma_{eph} t$" + DIMLESS)
    a2.set_title(r"characteristic energy $E^*(t)$")
    a2.legend()
    return _save(fig, path)


@_styled
def plot_avalanche_lambda(path, E, lam6, lam7, info):
    """lambda(E) of Eq. (A6) (line) and lambda' of (A7) (circles) with lambda = 1 and the roots (seed 003 Fig. 6)."""
    fig, ax = plt.subplots()
    ax.plot(E, lam6, "k-", lw=1.2, label="Eq. (A6)")
    ax.plot(E, lam7, "o", ms=3, mfc="none", label="Eq. (A7), numerical")
    ax.axhline(1.0, color="r", lw=0.8, label=r"$\lambda$ = 1")
    for key in ("E_av", "E_av_upper"):
        if info.get(key):
            ax.axvline(info[key], color="r", ls="--", lw=0.8, label=f"{_LABELS['E_av']} = {info[key]:.4g} t/a")
    ax.set_xscale("log")
    ax.set_xlabel("field E [t/a]")
    ax.set_ylabel(r"$\lambda$" + DIMLESS)
    ax.set_title(rf"avalanche multiplication $\lambda(E)$: $\beta$ = {info['beta']:.4g} "
                 rf"($\beta_c$ = {info['beta_c']:.4g})")
    ax.legend()
    return _save(fig, path)


@_styled
def plot_avalanche_spectra(path, sp, info):
    """Site spectral function A(omega) and occupation spectrum n(omega) of the biased chain (log scale)."""
    fig, ax = plt.subplots()
    ax.semilogy(sp.omega, np.maximum(sp.A, 1e-300), lw=1, label=r"$A(\omega)$")
    ax.semilogy(sp.omega, np.maximum(sp.n, 1e-300), lw=1, label=r"$-iG^<(\omega)$")
    ax.set_ylim(max(1e-12, float(np.max(sp.n)) * 1e-10), None)
    ax.set_xlabel(r"$\omega$ [t]")
    ax.set_ylabel(r"$A(\omega)$, $-iG^<(\omega)$ [1/t]")
    ax.set_title(rf"E = {info['E']:g} t/a, $\Gamma$ = {info['gamma']:g} t, $g_{{ep}}$ = {info['g_ep']:g} t: "
                 rf"$n_{{ex}}$ = {info['n_ex']:.4g}")
    ax.legend()
    return _save(fig, path)
