"""Write docs/examples/pb_model.a2f: a model alpha^2F of lead (Pb) in EPW's prefix.a2f layout.

The model (energies in meV) is two Lorentzian peaks at the positions of Pb's
transverse (~4.4 meV) and longitudinal (~8.5 meV) acoustic phonon peaks, made
to vanish as omega^2 at omega -> 0 (acoustic phonons) and cut off smoothly
above the top of the phonon spectrum:

    a2F(w) = [A_T G_T^2/((w - W_T)^2 + G_T^2) + A_L G_L^2/((w - W_L)^2 + G_L^2)]
             * (1 - exp(-(w/W_S)^2)) / (1 + exp((w - W_C)/D_C))

The parameters were chosen by hand so that lambda = 2 int a2F/w is about 1.55
and omega_log about 4.6 meV (the values usually quoted for Pb are lambda ~ 1.55
and omega_log ~ 4.8 meV).  It is a model for trying ephkin on an EPW-style
file, not Pb's computed or measured alpha^2F.  The table follows EPW's
single-smearing writer: w_i = i*dw (i >= 1), columns w[meV], a2F, cumulative
lambda(w), then the summary block.  Run from the repository root:  python docs/examples/make_pb_model.py
"""

import math
import sys

import numpy as np
from scipy.integrate import quad

A_T, W_T, G_T = 1.30, 4.4, 0.75   # transverse peak: height, centre, half width (meV)
A_L, W_L, G_L = 1.10, 8.5, 0.45   # longitudinal peak
W_S = 2.0                          # below W_S, a2F ~ w^2
W_C, D_C = 9.4, 0.2                # smooth cut-off at the top of the spectrum
DW, N = 0.05, 240                  # EPW-style grid: w_i = i*DW, i = 1..N (meV)


def a2f(w):
    w = np.asarray(w, dtype=float)
    peaks = A_T * G_T**2 / ((w - W_T) ** 2 + G_T**2) + A_L * G_L**2 / ((w - W_L) ** 2 + G_L**2)
    return peaks * -np.expm1(-((w / W_S) ** 2)) / (1.0 + np.exp((w - W_C) / D_C))


def moments():
    """lambda and omega_log of the continuous model (adaptive quadrature on (0, inf))."""
    pts = [W_S, W_T, W_L, W_C]
    lam = 2 * quad(lambda w: float(a2f(w)) / w, 0, 14, points=pts, epsabs=1e-13, limit=400)[0]
    lg = 2 * quad(lambda w: float(a2f(w)) * math.log(w) / w, 0, 14, points=pts, epsabs=1e-13, limit=400)[0]
    return lam, math.exp(lg / lam)


def main(path="docs/examples/pb_model.a2f"):
    w = DW * np.arange(1, N + 1)
    y = a2f(w)
    # cumulative lambda(w) = 2 int_0^w a2F/w' dw' (trapezoid from w = 0, where a2F/w -> 0)
    g = 2 * y / w
    cum = np.concatenate([[0.5 * g[0] * DW], 0.5 * g[0] * DW + np.cumsum(0.5 * (g[1:] + g[:-1]) * DW)])
    lam, wlog = moments()
    head = [
        "# Model alpha^2F of Pb (lead) in EPW's prefix.a2f layout, written by docs/examples/make_pb_model.py",
        "# (ephkin).  NOT a computed or measured spectrum: two Lorentzian peaks at Pb's transverse and",
        "# longitudinal phonon peaks, ~w^2 at low w, smooth cut-off at the top.  Energies in meV:",
        "#   a2F(w) = [A_T G_T^2/((w-W_T)^2+G_T^2) + A_L G_L^2/((w-W_L)^2+G_L^2)]",
        "#            * (1 - exp(-(w/W_S)^2)) / (1 + exp((w-W_C)/D_C))",
        f"#   A_T = {A_T}, W_T = {W_T}, G_T = {G_T}; A_L = {A_L}, W_L = {W_L}, G_L = {G_L};"
        f" W_S = {W_S}; W_C = {W_C}, D_C = {D_C}",
        f"# Continuous model (quadrature): lambda = {lam:.6f}, omega_log = {wlog:.6f} meV.",
        f"# Table: w_i = i*{DW} meV, i = 1..{N}; columns w[meV], a2F, cumulative 2 int a2F/w (trapezoid).",
        "# Use: ephkin spectrum --spectrum file:docs/examples/pb_model.a2f --units plain",
        " w[meV] a2f and integrated 2*a2f/w for    1 smearing values",
    ]
    rows = [f"{a:12.7f}{b:12.7f}{c:12.7f}" for a, b, c in zip(w, y, cum)]
    tail = [
        " Integrated el-ph coupling",
        f"  #         {cum[-1]:12.7f}",
        " Phonon smearing (meV)",
        f"  #         {0.0:12.7f}",
        f" Electron smearing (eV){0.0:12.7f}",
        f" Fermi window (eV){0.0:12.7f}",
        f" Summed el-ph coupling {lam:12.7f}",
    ]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(head + rows + tail) + "\n")
    return lam, wlog


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
