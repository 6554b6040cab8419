"""``python -m ephkin.solvers.cli`` runs the ``ephkin`` command line."""

import sys

from . import main

sys.exit(main())
