import os

os.environ.setdefault("MPLBACKEND", "Agg")
# one BLAS thread, as every ephkin process has (ephkin.solvers.cli): results computed in this process and
# in the ephkin subprocesses the tests start agree to the last bit (set before numpy is imported)
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
