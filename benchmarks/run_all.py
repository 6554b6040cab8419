"""Run every benchmark in this folder (``make bench``); each prints its own ratios."""

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

for name in sorted(f[:-3] for f in os.listdir(HERE) if f.endswith(".py") and f != "run_all.py"):
    print(f"== benchmarks/{name}.py")
    importlib.import_module(name).main([])
