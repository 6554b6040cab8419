"""Fields on the energy grid written with meshio: XDMF/HDF5 time series readable in ParaView/VisIt."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["SnapshotWriter"]


class SnapshotWriter:
    """f(E, t) as an XDMF/HDF5 time series (meshio; the energy grid as a 1-D line mesh), written
    as the run goes, so that an interrupted run leaves the snapshots so far readable."""

    def __init__(self, out, E, name="f_E_t", field="f"):
        import meshio

        # meshio 5.3 resolves the .h5 (and the .xdmf at exit) against the working directory:
        # open and close the writer from inside the output directory
        self.out = os.path.abspath(out)
        self.path, self.field = os.path.join(self.out, name + ".xdmf"), field
        points = np.column_stack([E, np.zeros_like(E)])
        cells = [("line", np.column_stack([np.arange(E.size - 1), np.arange(1, E.size)]))]
        self.w = meshio.xdmf.TimeSeriesWriter(name + ".xdmf")
        with _cwd(self.out):
            self.w.__enter__()
            self.w.write_points_cells(points, cells)
        self.samples, self.n = [], 0
        self.files = [self.path, self.path.replace(".xdmf", ".h5")]

    def __call__(self, t, f):
        self.w.write_data(t, point_data={self.field: np.asarray(f)})
        self.n += 1
        if len(self.samples) < 400:
            self.samples.append((t, np.asarray(f).copy()))

    def close(self):
        with _cwd(self.out):
            self.w.__exit__(None, None, None)


class _cwd:
    """Temporarily change the working directory."""

    def __init__(self, path):
        self.path, self.old = path, None

    def __enter__(self):
        self.old = os.getcwd()
        os.chdir(self.path)

    def __exit__(self, *exc):
        os.chdir(self.old)
