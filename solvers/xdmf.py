"""Fields on the energy grid written with meshio: XDMF/HDF5 time series readable in ParaView/VisIt,
that survive a kill -9 of a long run.

An HDF5 file that is open for writing when its process is killed is usually unreadable.  So the data
go to a sequence of HDF5 files, ``NAME_h5/NNNNN.h5``, each closed before the next is opened (a chunk:
``chunk_s`` seconds or ``chunk_steps`` snapshots), and after each chunk the XDMF file is rewritten
atomically (temporary file + rename) to reference every closed chunk.  After a kill -9 the XDMF and all
it references are readable (``meshio.xdmf.TimeSeriesReader``); at most the last chunk is lost.
"""

from __future__ import annotations

import os
import time

import numpy as np

__all__ = ["SnapshotWriter", "HistoryCSV"]


def _chunked_writer():
    """meshio's TimeSeriesWriter (its XDMF elements) with the HDF5 data in per-chunk files."""
    import h5py
    import meshio

    class ChunkedXdmf(meshio.xdmf.TimeSeriesWriter):
        def __init__(self, path):
            super().__init__(path, data_format="HDF")
            self.path = os.path.abspath(path)
            self.dirname = os.path.basename(self.path)[: -len(".xdmf")] + "_h5"
            self.chunks = os.path.join(os.path.dirname(self.path), self.dirname)
            os.makedirs(self.chunks, exist_ok=True)
            self.chunk, self.h5 = 0, None

        def numpy_to_xml_string(self, data):
            if self.h5 is None:
                self.h5 = h5py.File(os.path.join(self.chunks, f"{self.chunk:05d}.h5"), "w")
            name = f"data{self.data_counter}"
            self.data_counter += 1
            self.h5.create_dataset(name, data=data)
            return f"{self.dirname}/{self.chunk:05d}.h5:/{name}"

        def flush(self):
            """Close the open chunk, then point the XDMF at everything written so far (atomic rename)."""
            if self.h5 is not None:
                self.h5.close()
                self.h5 = None
                self.chunk += 1
            tmp = f"{self.path}.{os.getpid()}.tmp"
            meshio._common.write_xml(tmp, self.xdmf_file)
            os.replace(tmp, self.path)

    return ChunkedXdmf


class SnapshotWriter:
    """f(E, t) as an XDMF time series (meshio; the energy grid as a 1-D line mesh) in per-chunk HDF5
    files (see the module docstring), written as the run goes."""

    def __init__(self, out, E, name="f_E_t", field="f", chunk_s=10.0, chunk_steps=500):
        self.path, self.field = os.path.join(os.path.abspath(out), name + ".xdmf"), field
        self.chunk_s, self.chunk_steps = chunk_s, chunk_steps
        self.w = _chunked_writer()(self.path)
        points = np.column_stack([E, np.zeros_like(E)])
        self.w.write_points_cells(points, [("line", np.column_stack([np.arange(E.size - 1), np.arange(1, E.size)]))])
        self.w.flush()  # the mesh, and an XDMF without time steps yet
        self.samples, self.n, self.in_chunk, self.since = [], 0, 0, time.monotonic()
        self.files = [self.path, self.w.chunks]

    def __call__(self, t, f):
        self.w.write_data(t, point_data={self.field: np.asarray(f)})
        self.n += 1
        self.in_chunk += 1
        if len(self.samples) < 400:
            self.samples.append((t, np.asarray(f).copy()))
        if self.in_chunk >= self.chunk_steps or time.monotonic() - self.since >= self.chunk_s:
            self.flush()

    def flush(self):
        self.w.flush()
        self.in_chunk, self.since = 0, time.monotonic()

    def close(self):
        self.flush()


class HistoryCSV:
    """A CSV table appended one row per step and flushed at once (a kill -9 loses no finished row):
    ``columns`` names the table's columns, ``row(values)`` maps a step's values to them."""

    def __init__(self, path, columns, row):
        self.path, self.row = path, row
        from .safefile import open_nofollow

        self.fh = open_nofollow(path, "w", newline="")  # a link named history.csv is refused, its target untouched
        self.fh.write(",".join(columns) + "\n")
        self.fh.flush()

    def __call__(self, t, values):
        self.fh.write(",".join(repr(float(v)) for v in self.row(t, values)) + "\n")
        self.fh.flush()

    def close(self):
        self.fh.close()
