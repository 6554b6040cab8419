"""Fields on the energy grid as a self-describing HDF5 time series with an XDMF 3 index (ParaView/VisIt,
``meshio.xdmf.TimeSeriesReader``), written as the run goes and readable after a kill -9.

An HDF5 file that is open for writing when its process is killed is usually unreadable (HDF5 has one
writer and no journal), so one growing dataset cannot survive a kill -9.  The snapshots are kept in memory
for a chunk (``chunk_s`` seconds or ``chunk_steps`` snapshots) and then written as one closed HDF5 file,
``NAME_h5/NNNNN.h5``, under a temporary name and renamed into place.  Each chunk costs the same whatever the
length of the run (a run with a tiny ``--flush-every`` stays linear in its steps):

* the XDMF file ``NAME.xdmf`` is appended to in place, its grids written into a reserve that XML readers skip (a
  processing instruction, ``<?ephkin-reserve ...?>``, after the root element) and then shown by changing one
  byte, so that the file is well-formed XML at every moment -- after a kill -9 anywhere, and for a reader
  while the run writes (see :class:`_AppendableXdmf`);
* the one-file index ``NAME.h5`` is rewritten (temporary file + rename) when the series has doubled since its
  last writing, and at the end: amortised O(1) per step; after a kill -9 it holds at least half of the steps
  the XDMF lists, every one complete.

After a kill -9 everything the XDMF and ``NAME.h5`` reference is complete; at most the last chunk is lost.

Layout (every dataset with a ``units`` attribute, every file with ``title``, ``ephkin_version``,
``layout`` attributes)::

    NAME.h5              the whole series in one file (h5py, netCDF-style):
      /time   (N,)       times of the snapshots, increasing
      /E      (L,)       the energy grid
      /f      (N, L)     f[i, j] = f(E[j], time[i]); an HDF5 virtual dataset over the chunks' /f
    NAME_h5/mesh.h5      the grid for the XDMF: /E, /points (L, 2) = (E, 0), /connectivity (L-1, 2)
    NAME_h5/NNNNN.h5     chunk NNNNN: /time (n,), /E (L,), /f (n, L) (chunked, extendable along time),
                         /steps/SSSSSS the row of /f of global step SSSSSS (a virtual view, referenced
                         by the XDMF), attribute first_step
    NAME.xdmf            XDMF 3: a Uniform grid "energy_grid" (Polyline over E, Geometry XY (E, 0)) and a
                         Temporal collection with one grid per step (Time Value, Attribute f at the nodes)

``/time`` and ``/E`` are HDF5 dimension scales of ``/f``.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import numpy as np

__all__ = ["SnapshotWriter", "HistoryCSV"]

_XI = "http://www.w3.org/2001/XInclude"
_MESH_XPOINTER = "xpointer(//Grid[@Name='energy_grid']/*[self::Topology or self::Geometry])"
_TITLE = "ephkin f(E, t): electron distribution on the energy grid against time"
_LAYOUT = (
    "f[i, j] = f(E[j], time[i]) (dimensions time x E); time and E carry their units; "
    "steps/SSSSSS (chunk files) is row SSSSSS of the series, referenced by the XDMF file"
)


def _version():
    try:
        from . import __version__
    except ImportError:  # pragma: no cover - a source tree without the package metadata
        try:
            from ephkin import __version__
        except ImportError:
            return "unknown"
    return str(__version__)


def _atomic_h5(path, fill):
    """Write the HDF5 file ``path`` with ``fill(h5)`` under a temporary name, then rename it into place: a
    reader (or a kill -9) never sees a half-written file."""
    import h5py

    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as h5:
            fill(h5)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _describe(h5, what, E_units, t_units, f_units, field):
    h5.attrs["title"] = f"{_TITLE} ({what})"
    h5.attrs["ephkin_version"] = _version()
    h5.attrs["layout"] = _LAYOUT
    h5.attrs["field"] = field
    h5.attrs["time_units"], h5.attrs["E_units"], h5.attrs["f_units"] = t_units, E_units, f_units


def _scales(h5, f, time_name="time", E_name="E"):
    """Mark /time and /E as the dimension scales of ``f`` (netCDF/xarray-style coordinates)."""
    h5[time_name].make_scale("time")
    h5[E_name].make_scale("E")
    f.dims[0].label, f.dims[1].label = "time", "E"
    f.dims[0].attach_scale(h5[time_name])
    f.dims[1].attach_scale(h5[E_name])


def _data_item(parent, text, dims, number="Float", precision=8):
    item = ET.SubElement(
        parent,
        "DataItem",
        Dimensions=" ".join(str(d) for d in dims),
        NumberType=number,
        Precision=str(precision),
        Format="HDF",
    )
    item.text = text
    return item


def _blank(n):
    """``n`` bytes of white space, in lines of 80."""
    return (b" " * 79 + b"\n") * (n // 80) + b" " * (n % 80)


class _AppendableXdmf:
    """An XDMF file that grows by appending step grids in place, well-formed at every moment.

    The file ends with ``H S O reserve C``: ``H`` = ``<!---->`` (an empty comment inside the temporal collection),
    ``S`` the closing tags of the collection, Domain and Xdmf, ``O`` = ``<?ephkin-reserve `` opening a processing
    instruction after the root element (XML allows them there; parsers skip it) whose text is the reserve, and
    ``C`` = ``?>`` closing it.  Appending the grids ``G``:

    1. ``D = "-->" G H S O`` is written at the start of the reserve: inside the processing instruction, so that
       any part of it (a write cut short by a kill) is still skipped;
    2. one byte of the old ``H`` is changed, ``<!---->`` -> ``<!-- ->``: the old ``H S O`` become one comment that
       the ``-->`` of D closes; G is now inside the collection, the new ``S`` closes the root and the new ``O``
       opens the rest of the reserve.  A one-byte write is never half done.

    When the reserve is too short, spaces and a new ``<?c?>`` are appended (the closer placed within one page, so
    that it is written whole) and one byte of the old ``C`` is changed (``?>`` -> `` >``): the processing
    instruction then ends at the new closer.  Nothing that was written is rewritten: each append costs O(len(G)).
    """

    H = b"<!---->"
    S = b"\n    </Grid>\n  </Domain>\n</Xdmf>\n"
    O = b"<?ephkin-reserve "
    C = b"?>\n"
    PAGE = 4096

    def __init__(self, path, head, reserve=PAGE):
        self.path = path
        tail = self.H + self.S + self.O
        data = head + tail + _blank(reserve) + self.C
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self.fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        self.h_at = len(head)  # the current H
        self.free_at = len(head) + len(tail)  # where the next D goes (just after the current O)
        self.close_at = len(data) - len(self.C)  # the '?' of the closer of the reserve
        self.size = len(data)

    def _grow(self, need):
        """Make the reserve hold ``need`` more bytes: spaces and a closer appended, the old closer opened."""
        closer = b"<?c?>\n"
        n = (-(self.size + len(closer))) % self.PAGE  # the closer ends on a page boundary: written whole
        while n < need:
            n += self.PAGE
        os.pwrite(self.fd, _blank(n) + closer, self.size)
        old, self.close_at = self.close_at, self.size + n + 3
        self.size += n + len(closer)
        os.pwrite(self.fd, b" ", old)  # the old "?>" -> " >": the reserve now runs to the new closer

    def append(self, grids):
        """Append the grids (XML text of step ``Grid`` elements, without ``?>``)."""
        D = b"-->" + grids + self.H + self.S + self.O
        if self.close_at - self.free_at < len(D):
            self._grow(len(D) - (self.close_at - self.free_at))
        os.pwrite(self.fd, D, self.free_at)
        os.pwrite(self.fd, b" ", self.h_at + 4)  # "<!---->" -> "<!-- ->": the grids are shown
        self.h_at = self.free_at + 3 + len(grids)
        self.free_at += len(D)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class SnapshotWriter:
    """f(E, t) written as the run goes: chunk files, a one-file HDF5 index and an XDMF file (see the module
    docstring for the layout).  ``E_units``, ``t_units``, ``f_units``: the ``units`` attributes of /E,
    /time, /f ("energy" and "time" by default: the run's own units, as in its summary.json)."""

    def __init__(
        self,
        out,
        E,
        name="f_E_t",
        field="f",
        chunk_s=10.0,
        chunk_steps=500,
        E_units="energy",
        t_units="time",
        f_units="-",
    ):
        out = os.path.abspath(out)
        self.path, self.field = os.path.join(out, name + ".xdmf"), field
        self.h5_path = os.path.join(out, name + ".h5")
        self.dirname = name + "_h5"
        self.chunks = os.path.join(out, self.dirname)
        os.makedirs(self.chunks, exist_ok=True)
        self.E = np.array(E, dtype=np.float64).ravel()
        self.units = {"E_units": E_units, "t_units": t_units, "f_units": f_units, "field": field}
        self.chunk_s, self.chunk_steps = chunk_s, chunk_steps
        self.samples, self.n, self.since = [], 0, time.monotonic()
        self.buf_t, self.buf_f = [], []
        self.times, self.chunk_list = [], []  # every written time; (file name, first step, n) per chunk
        self.indexed = 0  # steps in NAME.h5 as last written
        self._write_mesh()
        self._init_xdmf()
        self._write_index()  # the mesh, an empty index and an XDMF without time steps yet
        self.files = [self.path, self.h5_path, self.chunks]

    # -- the files ------------------------------------------------------------------------------------------

    def _write_mesh(self):
        L = self.E.size
        if L >= 2:
            conn = np.column_stack([np.arange(L - 1), np.arange(1, L)]).astype(np.int64)
        else:
            conn = np.arange(L, dtype=np.int64).reshape(-1, 1)
        self.topology = ("Polyline", conn.shape) if L >= 2 else ("Polyvertex", conn.shape)

        def fill(h5):
            _describe(h5, "the energy grid as an XDMF mesh", **self.units)
            h5.create_dataset("E", data=self.E).attrs["units"] = self.units["E_units"]
            pts = h5.create_dataset("points", data=np.column_stack([self.E, np.zeros_like(self.E)]))
            pts.attrs["units"] = self.units["E_units"]
            pts.attrs["meaning"] = "(E, 0): the grid as points of the plane"
            h5.create_dataset("connectivity", data=conn).attrs["meaning"] = "line segments (j, j + 1)"

        _atomic_h5(os.path.join(self.chunks, "mesh.h5"), fill)

    def _init_xdmf(self):
        ET.register_namespace("xi", _XI)
        self.root = ET.Element("Xdmf", Version="3.0")
        domain = ET.SubElement(self.root, "Domain")
        mesh = ET.SubElement(domain, "Grid", Name="energy_grid", GridType="Uniform")
        kind, shape = self.topology
        topo = ET.SubElement(mesh, "Topology", TopologyType=kind, NumberOfElements=str(shape[0]))
        topo.set("NodesPerElement", str(shape[1]))
        _data_item(topo, f"{self.dirname}/mesh.h5:/connectivity", shape, number="Int")
        geo = ET.SubElement(mesh, "Geometry", GeometryType="XY")
        _data_item(geo, f"{self.dirname}/mesh.h5:/points", (self.E.size, 2))
        collection = ET.SubElement(domain, "Grid", Name=self.field + "_t", GridType="Collection")
        collection.set("CollectionType", "Temporal")
        # the document up to the collection's first step: ElementTree writes it (and declares xmlns:xi, which the
        # steps use), cut where a placeholder step stands
        ET.SubElement(collection, ET.QName(_XI, "include"), href="PLACEHOLDER")
        tree = ET.ElementTree(self.root)
        ET.indent(tree)
        text = ET.tostring(self.root, encoding="unicode", xml_declaration=False)
        head = "<?xml version='1.0' encoding='utf-8'?>\n" + text[: text.index("<xi:include")]
        self.xdmf = _AppendableXdmf(self.path, head.encode("utf-8"))

    def _xdmf_step(self, step, t, chunk_file):
        """The XML text of the step's grid (as ElementTree's indent would lay it out inside the collection)."""
        where = escape(f"{self.dirname}/{chunk_file}:/steps/{step:06d}")
        return (
            f'<Grid Name="step_{step:06d}" GridType="Uniform">\n'
            f"      <xi:include xpointer={quoteattr(_MESH_XPOINTER)} />\n"
            f'      <Time Value="{float(t)!r}" />\n'
            f"      <Attribute Name={quoteattr(self.field)} AttributeType=\"Scalar\" Center=\"Node\">\n"
            f'        <DataItem Dimensions="{self.E.size}" NumberType="Float" Precision="8" Format="HDF">{where}'
            "</DataItem>\n"
            "      </Attribute>\n"
            "    </Grid>\n    "
        )

    def _write_chunk(self):
        import h5py

        k, first = len(self.chunk_list), len(self.times)
        name = f"{k:05d}.h5"
        t, f = np.asarray(self.buf_t, dtype=np.float64), np.asarray(self.buf_f, dtype=np.float64)
        n, L = f.shape

        def fill(h5):
            _describe(h5, f"chunk {k}: steps {first}..{first + n - 1}", **self.units)
            h5.attrs["first_step"] = first
            h5.create_dataset("time", data=t, maxshape=(None,)).attrs["units"] = self.units["t_units"]
            h5.create_dataset("E", data=self.E).attrs["units"] = self.units["E_units"]
            ds = h5.create_dataset("f", data=f, maxshape=(None, L), chunks=(min(n, max(1, 2**16 // L)), L))
            ds.attrs["units"] = self.units["f_units"]
            _scales(h5, ds)
            src = h5py.VirtualSource(".", "f", shape=(n, L))
            for i in range(n):
                row = h5py.VirtualLayout(shape=(L,), dtype=np.float64)
                row[:] = src[i]
                h5.create_virtual_dataset(f"steps/{first + i:06d}", row)

        _atomic_h5(os.path.join(self.chunks, name), fill)
        self.chunk_list.append((name, first, n))
        self.times.extend(t.tolist())
        self.xdmf.append("".join(self._xdmf_step(first + i, ti, name) for i, ti in enumerate(t)).encode("utf-8"))

    def _write_index(self):
        import h5py

        N, L = len(self.times), self.E.size

        def fill(h5):
            _describe(h5, f"{N} snapshots in {len(self.chunk_list)} chunk files under {self.dirname}/", **self.units)
            h5.attrs["chunk_files"] = [f"{self.dirname}/{c}" for c, _, _ in self.chunk_list]
            h5.create_dataset("time", data=np.asarray(self.times, dtype=np.float64)).attrs["units"] = self.units[
                "t_units"
            ]
            h5.create_dataset("E", data=self.E).attrs["units"] = self.units["E_units"]
            if N:
                layout = h5py.VirtualLayout(shape=(N, L), dtype=np.float64)
                for c, first, n in self.chunk_list:
                    layout[first : first + n] = h5py.VirtualSource(f"{self.dirname}/{c}", "f", shape=(n, L))
                ds = h5.create_virtual_dataset("f", layout)
            else:
                ds = h5.create_dataset("f", shape=(0, L), maxshape=(None, L), dtype=np.float64)
            ds.attrs["units"] = self.units["f_units"]
            _scales(h5, ds)

        _atomic_h5(self.h5_path, fill)
        self.indexed = N

    # -- the writer -----------------------------------------------------------------------------------------

    def __call__(self, t, f):
        f = np.array(f, dtype=np.float64).ravel()
        self.buf_t.append(float(t))
        self.buf_f.append(f)
        self.n += 1
        if len(self.samples) < 400:
            self.samples.append((t, f.copy()))
        if len(self.buf_t) >= self.chunk_steps or time.monotonic() - self.since >= self.chunk_s:
            self.flush()

    def flush(self, index=False):
        """Write the buffered snapshots as a closed chunk and append them to the XDMF; rewrite the index when the
        series has doubled since its last writing (or with ``index``)."""
        if self.buf_t:
            self._write_chunk()
            self.buf_t, self.buf_f = [], []
        if index or len(self.times) >= 2 * max(self.indexed, 1):
            self._write_index()
        self.since = time.monotonic()

    def close(self):
        if self.xdmf.fd is None:
            return
        self.flush(index=self.indexed != len(self.times) or bool(self.buf_t))
        self.xdmf.close()


class HistoryCSV:
    """A CSV table appended one row per step and flushed at once (a kill -9 loses no finished row):
    ``columns`` names the table's columns, ``row(t, values)`` maps a step's values to them, ``units`` (one
    per column; "-" for a pure number) gives their units.

    The file's first line is a comment naming the units, the second the header, then the data::

        # units: t [time], max_deviation [-], energy [energy], mass_min [-]
        t,max_deviation,energy,mass_min
        0.0,0.01,...

    Read it with ``pandas.read_csv(path, comment="#")``, ``numpy.loadtxt(path, delimiter=",",
    comments="#", skiprows=2)`` (numpy counts the comment line among the skipped rows) or
    ``numpy.genfromtxt(path, delimiter=",", names=True, skip_header=1)``, or ``csv.DictReader(line for line in
    open(path) if not line.startswith("#"))``.  Without ``units`` there is no comment line."""

    def __init__(self, path, columns, row, units=None):
        self.path, self.row = path, row
        from .safefile import open_nofollow

        self.fh = open_nofollow(path, "w", newline="")  # a link named history.csv is refused, its target untouched
        if units is not None:
            if len(units) != len(columns):
                raise ValueError(f"HistoryCSV: {len(columns)} columns but {len(units)} units")
            self.fh.write("# units: " + ", ".join(f"{c} [{u}]" for c, u in zip(columns, units)) + "\n")
        self.fh.write(",".join(columns) + "\n")
        self.fh.flush()

    def __call__(self, t, values):
        self.fh.write(",".join(repr(float(v)) for v in self.row(t, values)) + "\n")
        self.fh.flush()

    def close(self):
        self.fh.close()
