"""The PETSc option prefix of each engine (``-stab_eps_type ...``): declared once, read by the engines
and by the command families that pass their options through (a cheap import: no PETSc, no numpy)."""

STABILITY = "stab_"  #: SLEPc EPS / MUMPS inertia of the linear problem, Eq. (14)
KINETIC = "kin_"  #: TS / SNES / KSP of the kinetic DAE, Eq. (S27)
NAC = "nac_"  #: TS of seed 001 Eqs. (2)-(3)
AVALANCHE = "aval_"  #: SNES of the seed 003 lattice steady state
