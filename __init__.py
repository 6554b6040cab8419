"""ephkin: nonequilibrium kinetics of electrons coupled to phonons in metals.

The physics is in ``ephkin.pde``, the PETSc/SLEPc engines and the command line in
``ephkin.solvers``.  This module only holds the version: the one place it is written
(pyproject.toml reads it, ``ephkin.pde.__version__`` and ``ephkin --version`` re-export it).
"""

__version__ = "0.2.0"
