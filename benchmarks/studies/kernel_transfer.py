"""|Sigma' response at E* + Omega| / |f' wiggle at E*| for a wiggle of wavenumber k (docs/grid-convergence.md):
the discrete Sigma[f] = -K g of pde.kinetic, applied to g = bump(E - 0.4) cos(k E), read on 1.25 < E < 1.55.
Einstein: the kernel's pole makes the transfer independent of k (Hilbert transform); Lorentzian width w:
it decays like exp(-w k)."""
import numpy as np

from ephkin.pde.grids import project_spectrum
from ephkin.pde.linearized import KernelOperator
from ephkin.pde.spectra import make_spectrum

eps, L = 2.5e-4, 16000
E = eps * np.arange(1, L + 1)
specs = ["einstein", "lorentz:1:0.2", "lorentz:1:0.1", "lorentz:1:0.05"]
print("k      " + "  ".join(f"{s:>15s}" for s in specs))
ops = []
for s in specs:
    sp = make_spectrum(s, 1.0, "g")
    r, lam_r = project_spectrum(sp, eps)
    ops.append(KernelOperator(L, r, eps * lam_r * r.astype(float) ** 2))
bump = np.exp(-(((E - 0.4) / 0.05) ** 2))
out_win = (E > 1.25) & (E < 1.55)
for k in (10, 30, 100, 300, 1000, 3000, 6000):
    g = bump * np.cos(k * E)
    gp = np.gradient(g, eps)
    row = []
    for K in ops:
        sig = -K.matvec(g)
        sp_ = np.gradient(sig, eps)
        row.append(np.max(np.abs(sp_[out_win])) / np.max(np.abs(gp)))
    print(f"{k:<6d} " + "  ".join(f"{x:15.4g}" for x in row))
