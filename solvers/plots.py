"""PNG plots of what users look at (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _unit(units):
    """Axis-label suffix for energies in ``units`` ("g", "plain", "Omega")."""
    return {"g": " (units of g)", "plain": " (spectrum's unit)", "Omega": r" (units of $\Omega$)"}.get(units,
                                                                                                 f" ({units})")


def _plain_log_ticks(axis):
    """Log-axis tick labels as plain numbers (2, 5, 10), not 2x10^0."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    axis.set_major_formatter(fmt)
    axis.set_minor_formatter(fmt)


def _save(fig, path):
    from .safefile import write_atomic

    fig.tight_layout()
    try:
        write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=120))  # never through a link named like the figure
    finally:
        plt.close(fig)
    return path


def plot_zinv(path, E, curves, units, zeros=(), title=""):
    """Z0^-1(E) curves (label -> values) with the axis and the zeros marked (seed 000 Fig. 1 insets)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, z in curves.items():
        ax.plot(E, z, label=label)
    ax.axhline(0.0, color="k", lw=0.8)
    for e in zeros:
        ax.axvline(e, color="r", ls="--", lw=0.8)
    ax.set_xlabel("E" + _unit(units))
    ax.set_ylabel(r"$Z_0^{-1}(E)$")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_lambda_c(path, T0, series, units):
    """lambda_c(T0) for several criteria (seed 000 Fig. S2)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for (label, vals), mk in zip(series.items(), "xo^sd"):
        v = np.array([np.nan if x is None else x for x in vals], dtype=float)
        ax.plot(T0, v, mk + "-", label=label, ms=5, lw=0.8)
    ax.set_xlabel("$T_0$" + _unit(units))
    ax.set_ylabel(r"$\lambda_c$")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_cel(path, T, ratio, energy, window, units):
    """epsilon(T) with C_el inset and the window T_- < T < T_+ where C_el < 0 (seed 000 Fig. 3)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(T, energy, "b-")
    ax.set_xlabel("T" + _unit(units))
    ax.set_ylabel(r"$\varepsilon(T)-\varepsilon(0)$  [$\nu_0$]")
    for t in window:
        if t is not None:
            ax.axvline(t, color="r", ls="--", lw=0.8)
    ins = ax.inset_axes([0.12, 0.55, 0.36, 0.33])
    ins.plot(T, ratio, "k-", lw=0.8)
    ins.axhline(0.0, color="gray", lw=0.5)
    ins.set_title(r"$C_{el}/C_{free}$", fontsize=8)
    ins.set_xlabel("T", fontsize=7, labelpad=1)
    ins.tick_params(labelsize=7)
    return _save(fig, path)


def plot_spectrum(path, omega, a2f, peaks, units):
    """alpha^2F(omega): continuous part as a line, delta peaks as stems of height lambda_k."""
    fig, ax = plt.subplots(figsize=(6, 4))
    if a2f is not None:
        ax.plot(omega, a2f, "b-", label=r"$\alpha^2F(\omega)$")
    if peaks is not None and len(peaks[0]):
        ax.stem(peaks[0], peaks[1], linefmt="r-", markerfmt="ro", basefmt=" ", label=r"$\lambda_k$ (delta peaks)")
    ax.set_xlabel(r"$\omega$" + _unit(units))
    ax.set_ylabel(r"$\alpha^2F(\omega)$, $\lambda_k$")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_eigenvectors(path, E, vecs, gammas, zinv, units, k=3):
    """Eigenvectors phi(E) of Eq. (14): up to k stable and k unstable, zeros of Z0^-1 dashed (Fig. S1)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    gam = np.asarray(gammas)
    sc = np.sign(zinv)
    zeros = E[:-1][sc[:-1] * sc[1:] < 0]
    tiny = 1e-9 * max(1.0, float(np.max(np.abs(gam)))) if gam.size else 0.0  # ladder null modes: gamma = 0
    for ax, sel, title in ((axes[0], gam > tiny, "stable (gamma > 0)"), (axes[1], gam < -tiny, "unstable (gamma < 0)")):
        idx = np.nonzero(sel)[0]
        idx = idx[np.argsort(np.abs(gam[idx]))][:k]
        for i in idx:
            ax.plot(E, vecs[:, i], lw=0.9, label=f"gamma = {gam[i]:.4g}")
        for z in zeros:
            ax.axvline(z, color="r", ls="--", lw=0.8)
        ax.set_title(title)
        ax.set_xlabel("E" + _unit(units))
        if idx.size:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no eigenvector computed", ha="center", transform=ax.transAxes, fontsize=9)
    axes[0].set_ylabel("φ(E) (max-normalised)")  # plain text: mathtext's first use costs ~0.1 s
    return _save(fig, path)


def plot_gamma_scan(path, table, units):
    """gamma(lambda): the generalized eigenvalues nearest 0 at each coupling (seed 000 Fig. 2)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.concatenate([np.full(len(gam), lam) for lam, gam in table]),
            np.concatenate([gam for _, gam in table]), "k.", ms=3)  # one Line2D, not one per lambda
    ax.axhline(0.0, color="r", lw=0.8)
    ax.set_xlabel("λ")
    ax.set_ylabel("γ")
    ax.set_yscale("symlog", linthresh=1e-2)
    _plain_log_ticks(ax.yaxis)  # plain numbers, no mathtext (its first use costs ~0.1 s)
    return _save(fig, path)


def plot_distribution(path, E, samples, f_eq, zinv, zeros, units):
    """f(E, t) - f0(T0) at several times, with Z0^-1(E) in an inset (seed 000 Fig. 1)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    pick = samples if len(samples) <= 6 else [samples[i] for i in np.linspace(0, len(samples) - 1, 6).astype(int)]
    for t, f in pick:
        ax.plot(E, f - f_eq, lw=0.9, label=f"t = {t:.3g}")
    for z in zeros:
        ax.axvline(z, color="r", ls="--", lw=0.8)
    ax.set_xlim(0, min(E[-1], 3.0 * max(zeros) if len(zeros) else 3.0))
    ax.set_xlabel("E" + _unit(units))
    ax.set_ylabel(r"$f(E,t) - f_0(E, T_0)$")
    ax.legend(fontsize=7, loc="center right")
    ins = ax.inset_axes([0.6, 0.62, 0.36, 0.3])
    ins.plot(E, zinv, "k-", lw=0.8)
    ins.axhline(0.0, color="gray", lw=0.5)
    ins.set_xlim(ax.get_xlim())
    ins.set_title(r"$Z_0^{-1}(E)$", fontsize=8)
    ins.tick_params(labelsize=7)
    return _save(fig, path)


def plot_effective_temperature(path, t, T_eff, T_two_temp, info):
    """T_eff(t) of Eq. (15) (Eq. (S6)) against T(t) of the two-temperature equation (16)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(t, T_eff, "b-", lw=1.2, label=r"$T_{eff}(t)$, Eq. (15) with $a_{ee}$ = " + f"{info['a_ee']:g}")
    ax.plot(t, T_two_temp, "k--", lw=1, label="two-temperature equation (16)")
    ax.axhline(info["T0"], color="gray", lw=0.6)
    ax.set_xlabel("t (rescaled, $\\pi t \\to t$)")
    ax.set_ylabel("T" + _unit(info.get("units", "g")))
    ax.set_title(f"{info.get('spectrum', '')}, $\\lambda$ = {info['lambda']:g}, $T_0$ = {info['T0']:g}, "
                 f"$T_{{in}}$ = {info['T_in']:g}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_sweep(path, rows, spec):
    """The [plot] table of a run file: y columns against the x parameter of a sweep's results.csv rows,
    one curve per value of ``series``; failed points are left out.  Returns the path, or None if no
    row has the columns asked for."""
    x, ys, series = "param." + spec["x"], spec["y"], spec.get("series")
    ok = [r for r in rows if r.get("status") == "ok" and r.get(x) not in (None, "")]
    groups = {}
    for r in ok:
        groups.setdefault(r.get("param." + series) if series else None, []).append(r)
    fig, ax = plt.subplots(figsize=(6, 4))
    drawn = 0
    for key, rs in groups.items():
        for y in ys:
            pts = sorted((float(r[x]), float(r[y])) for r in rs if r.get(y) not in (None, "", "None"))
            if pts:
                label = ", ".join(s for s in (f"{_label(series)} = {key}" if series else "",
                                              _label(y) if len(ys) > 1 else "") if s)
                ax.plot(*_break_jumps(*zip(*pts)), ".-", lw=1, ms=4, label=label or None)
                drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel(_label(spec["x"]))
    ax.set_ylabel(_label(ys[0]) if len(ys) == 1 else "")
    ax.set_xscale("log" if spec.get("logx") else "linear")
    ax.set_yscale("log" if spec.get("logy") else "linear")
    if spec.get("title"):
        ax.set_title(spec["title"], fontsize=9)
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=7)
    return _save(fig, path)


#: Axis labels of result columns and parameters that sweeps plot most.
_LABELS = {"lambda_c": r"$\lambda_c$", "T0": "$T_0$", "T_in": r"$T_{in}$", "lam": r"$\lambda$",
           "T_final": r"$T(t \to \infty)$", "gamma_min_positive": r"slowest $\gamma > 0$", "E_av": r"$E_{av}$",
           "sigma_over_sigma0": r"$\sigma/\sigma_0$", "omega_p": r"$\omega_p / W$", "n_ex": r"$n_{ex}$",
           "refine": "refine", "E": "E", "zeta": r"$\zeta$", "g_ep": r"$g_{ep}$", "gamma": r"$\Gamma$",
           "omega0": r"$\omega_0$", "T": "T", "lambda_c_cel": r"$\lambda$ where $C_{el} = 0$",
           "a_ee": r"$a_{ee}$", "two_temp_gap_max": r"max $|T_{eff} - T_{2T}| / |T_{in} - T_0|$",
           "T_eff_final": r"$T_{eff}(t_{end})$"}


def _label(column):
    """A readable axis label for a results column ("result." and "param." prefixes dropped)."""
    name = column.split(".", 1)[-1] if column.startswith(("param.", "result.")) else column
    return _LABELS.get(name, name.replace("_", " "))


def _break_jumps(x, y, factor=8.0):
    """(x, y) with NaN inserted where y jumps by more than ``factor`` times the median step, so a line
    is not drawn across a discontinuity (the markers stay)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if y.size < 4:
        return x, y
    dy = np.abs(np.diff(y))
    med = float(np.median(dy))
    cut = np.nonzero(dy > factor * max(med, 1e-300))[0] if med > 0 else np.zeros(0, int)
    return np.insert(x, cut + 1, np.nan), np.insert(y, cut + 1, np.nan)


def plot_nac_distribution(path, eps, dos_rel, f, f_T, info):
    """f(eps) (blue), f_T (red dashed) and D/D_F (cyan dash-dotted): seed 001 Figs. 1, 3c, 5."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(eps, f, "b-", lw=1.2, label="f")
    ax.plot(eps, f_T, "r--", lw=1, label=r"$f_T$")
    ax.plot(eps, dos_rel / max(float(np.max(dos_rel)), 1e-300), "c-.", lw=1, label=r"$D/D_{max}$")
    ax.set_xlabel(r"$\varepsilon / W$")
    ax.set_ylabel(r"occupation $f(\varepsilon)$; $D/D_{max}$")
    when = f", t = {info['t_end']:g}/$\\Gamma_{{eph}}$" if "t_end" in info else ""
    ax.set_title(f"{info['dos']}, $\\omega_p$ = {info['omega_p']:.4g} W, T = {info['T']:.3g} W{when}"
                 + (f", $\\sigma/\\sigma_0$ = {info['sigma_over_sigma0']:.4f}" if "sigma_over_sigma0" in info else ""),
                 fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_nac_transient(path, t, sigma, zeta_rel, E_star, info):
    """sigma/sigma0 and zeta/zeta0 against Gamma_eph t (Fig. 3a), E*(t) below (Fig. 3b)."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(6, 5), sharex=True)
    a1.plot(t, sigma, "b-", lw=1.2, label=r"$\sigma/\sigma_0$")
    a1.plot(t, zeta_rel, "r-", lw=1, label=r"$\zeta/\zeta_0$")
    a1.axhline(0.0, color="k", lw=0.6)
    a1.legend(fontsize=8)
    a1.set_title(f"{info['dos']}, filling {info['filling']:.3g}, $\\omega_p$ = {info['omega_p']:.4g} W, "
                 f"T = {info['T']:.3g} W", fontsize=9)
    a2.plot(t, E_star, "g-", lw=1.2)
    a2.set_ylabel(r"$E^*$ (F units)")
    a2.set_xlabel(r"$\Gamma_{eph} t$")
    return _save(fig, path)


def plot_avalanche_lambda(path, E, lam6, lam7, info):
    """lambda(E) of Eq. (A6) (line) and lambda' of (A7) (circles) with lambda = 1 and the roots (seed 003 Fig. 6)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(E, lam6, "k-", lw=1.2, label="Eq. (A6)")
    ax.plot(E, lam7, "o", ms=3, mfc="none", label="Eq. (A7), numerical")
    ax.axhline(1.0, color="r", lw=0.8)
    for key in ("E_av", "E_av_upper"):
        if info.get(key):
            ax.axvline(info[key], color="r", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("E")
    ax.set_ylabel(r"$\lambda$")
    ax.set_title(f"beta = {info['beta']:.4g} (beta_c = {info['beta_c']:.4g})", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_avalanche_spectra(path, sp, info):
    """Site spectral function A(omega) and occupation spectrum n(omega) of the biased chain (log scale)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(sp.omega, np.maximum(sp.A, 1e-300), "k-", lw=1, label=r"$A(\omega)$")
    ax.semilogy(sp.omega, np.maximum(sp.n, 1e-300), "b-", lw=1, label=r"$-iG^<(\omega)$")
    ax.set_ylim(max(1e-12, float(np.max(sp.n)) * 1e-10), None)
    ax.set_xlabel(r"$\omega$")
    ax.set_title(f"E = {info['E']:g}, Gamma = {info['gamma']:g}, g = {info['g_ep']:g}: n_ex = {info['n_ex']:.4g}",
                 fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)
