"""ephkin.pde -- the physics of electron-phonon kinetics as discretised operators.

Everything here is plain NumPy/SciPy: spectra alpha^2F(omega), equilibrium
Eliashberg functions (Sigma, Z0^-1, C_el), transport and T_c formulas.
No PETSc imports live in this package (engines are in ``solvers``).
"""

from ephkin import __version__  # the one place the version is written: ephkin/__init__.py

__all__ = ["__version__"]
