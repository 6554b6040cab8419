"""Issue 25 (data): the evolve -o time series is self-describing HDF5 (time, E, f with units, the ephkin
version), its XDMF is built with public APIs and read by ElementTree and meshio, history.csv names its units."""

import csv
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import ephkin
from ephkin.solvers.cli import main

h5py = pytest.importorskip("h5py")
meshio = pytest.importorskip("meshio")


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    from ephkin.solvers.studies import evolve as study

    out = str(tmp_path_factory.mktemp("series"))
    p = study.EvolveParams(spectrum="einstein", lam=1.0, T0=0.2, T_in=0.202, t_end=5.0, grid_step=0.025)
    return out, study.run(p, xdmf_dir=out)


def test_hdf5_lists_time_E_f_with_units_and_equals_the_samples(series):
    out, r = series
    with h5py.File(os.path.join(out, "f_E_t.h5"), "r") as h5:
        assert {"time", "E", "f"} <= set(h5)
        assert h5["time"].attrs["units"] and h5["E"].attrs["units"] and "units" in h5["f"].attrs
        assert h5.attrs["ephkin_version"] == ephkin.__version__ and "f(E" in h5.attrs["title"]
        assert "time" in h5.attrs["layout"]
        t, E, f = h5["time"][()], h5["E"][()], h5["f"][()]
        assert f.shape == (t.size, E.size) and E.size == r.E.size and t.size >= len(r.samples)
        assert np.all(np.diff(t) > 0)
        np.testing.assert_array_equal(E, r.E)
        for k, (tk, fk) in enumerate(r.samples):
            assert t[k] == tk
            np.testing.assert_array_equal(f[k], fk)
    # every chunk file on its own: time, E, f (extendable along time), and the same values
    chunks = sorted(c for c in os.listdir(os.path.join(out, "f_E_t_h5")) if c[0].isdigit())
    rows, times = [], []
    for c in chunks:
        with h5py.File(os.path.join(out, "f_E_t_h5", c), "r") as h5:
            assert h5["time"].attrs["units"] and h5["E"].attrs["units"] and h5["f"].maxshape[0] is None
            assert h5["f"].shape == (h5["time"].size, h5["E"].size) and h5["f"].chunks is not None
            times += list(h5["time"][()])
            rows += list(h5["f"][()])
    np.testing.assert_array_equal(times, t)
    np.testing.assert_array_equal(np.array(rows), f)


def test_xdmf_is_indented_xdmf3_read_alike_by_elementtree_and_meshio(series):
    out, r = series
    path = os.path.join(out, "f_E_t.xdmf")
    assert len(open(path).readlines()) > 20  # indented, not one long line
    root = ET.parse(path).getroot()
    assert root.tag == "Xdmf" and root.get("Version").startswith("3")
    coll = root.find("Domain/Grid[@CollectionType='Temporal']")
    steps = coll.findall("Grid")
    et_times = [float(g.find("Time").get("Value")) for g in steps]
    mesh = root.find("Domain/Grid[@Name='energy_grid']")
    assert mesh.find("Topology").get("TopologyType") == "Polyline" and mesh.find("Geometry") is not None
    with h5py.File(os.path.join(out, "f_E_t.h5"), "r") as h5:
        t, f = h5["time"][()], h5["f"][()]
    assert et_times == list(t)
    with meshio.xdmf.TimeSeriesReader(path) as rd:
        points, cells = rd.read_points_cells()
        np.testing.assert_array_equal(points[:, 0], r.E)
        assert cells[0].type == "line" and len(cells[0].data) == r.E.size - 1
        assert rd.num_steps == len(steps)
        for k in range(rd.num_steps):
            tk, pd, _ = rd.read_data(k)
            assert tk == t[k]
            np.testing.assert_array_equal(pd["f"], f[k])


def test_xdmf_module_uses_no_meshio_private_api():
    import ephkin.solvers.xdmf as mod

    src = open(mod.__file__).read()
    assert "_common" not in src and "meshio" not in src.split('"""', 2)[2].replace("meshio.xdmf.TimeSeriesReader", "")


def test_history_csv_first_line_names_units(tmp_path, capsys):
    out = tmp_path / "e"
    assert main(["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202", "--t-end", "2",
                 "--grid-step", "0.025", "-o", str(out), "--json"]) == 0
    capsys.readouterr()
    lines = open(out / "history.csv").read().splitlines()
    assert lines[0] == "# units: t [time], max_deviation [-], energy [g], mass_min [-]"
    assert lines[1] == "t,max_deviation,energy,mass_min"
    # numpy counts the comment line among skiprows: the units line and the header are two rows
    data = np.loadtxt(out / "history.csv", delimiter=",", comments="#", skiprows=2)
    assert data.shape == (len(lines) - 2, 4)
    rows = list(csv.DictReader(line for line in open(out / "history.csv") if not line.startswith("#")))
    assert [float(x["t"]) for x in rows] == list(data[:, 0])
    named = np.genfromtxt(out / "history.csv", delimiter=",", names=True, skip_header=1)
    assert named.dtype.names == ("t", "max_deviation", "energy", "mass_min")
    import importlib.util

    if importlib.util.find_spec("pandas") is not None:  # where pandas is installed, its reader too (not a dependency)
        import pandas

        df = pandas.read_csv(out / "history.csv", comment="#")
        assert list(df.columns) == ["t", "max_deviation", "energy", "mass_min"] and len(df) == len(data)


def test_history_csv_without_units_has_no_comment_and_checks_counts(tmp_path):
    from ephkin.solvers.xdmf import HistoryCSV

    h = HistoryCSV(str(tmp_path / "h.csv"), ["t", "x"], lambda t, v: (t, v))
    h(0.0, 1.5)
    h.close()
    assert open(tmp_path / "h.csv").read() == "t,x\n0.0,1.5\n"
    with pytest.raises(ValueError, match="units"):
        HistoryCSV(str(tmp_path / "g.csv"), ["t", "x"], lambda t, v: (t, v), units=["time"])


# each flush costs the same at any length of the run, and the XDMF is well-formed at every moment (issue 28) -----


def _recording(monkeypatch):
    """Record every write the writer makes: os.pwrite (in place) and the files os.replace puts in place."""
    calls, pwrite, replace = [], os.pwrite, os.replace

    def rec_pwrite(fd, data, offset):
        calls.append(("pwrite", os.readlink(f"/proc/self/fd/{fd}"), offset, bytes(data)))
        return pwrite(fd, data, offset)

    def rec_replace(src, dst):
        calls.append(("replace", os.path.abspath(dst), 0, open(src, "rb").read()))
        return replace(src, dst)

    monkeypatch.setattr(os, "pwrite", rec_pwrite)
    monkeypatch.setattr(os, "replace", rec_replace)
    return calls


def test_a_flush_costs_the_same_after_a_thousand_steps(tmp_path, monkeypatch):
    """One snapshot per chunk (the smallest --flush-every): the bytes written per flush -- chunk file, XDMF append,
    and the index rewritten when the series has doubled -- are the same at step 600 as at step 10 (the whole XDMF
    and index rewritten at every flush made them grow with the steps: 9x here)."""
    from ephkin.solvers.xdmf import SnapshotWriter

    calls = _recording(monkeypatch)
    E = np.linspace(-1.0, 1.0, 20)
    w = SnapshotWriter(str(tmp_path), E, chunk_s=1e9, chunk_steps=1)
    cost = []
    for k in range(660):
        before = len(calls)
        w(0.01 * k, np.full(E.size, float(k)))
        cost.append(sum(len(c[3]) for c in calls[before:]))
    w.close()
    early, late = np.mean(cost[10:60]), np.mean(cost[600:650])
    assert late < 1.3 * early, (early, late)
    index = [c for c in calls if c[0] == "replace" and c[1].endswith("f_E_t.h5")]
    assert len(index) <= 12  # at 1, 2, 4, ..., 512 steps, and at the end
    with h5py.File(tmp_path / "f_E_t.h5", "r") as h5:
        assert h5["f"].shape == (660, E.size) and h5["f"][659, 0] == 659.0
    with meshio.xdmf.TimeSeriesReader(str(tmp_path / "f_E_t.xdmf")) as rd:
        assert rd.num_steps == 660


def test_the_xdmf_is_well_formed_after_a_kill_at_any_write(tmp_path, monkeypatch):
    """Replay every write of a run, cut short anywhere a kill -9 can cut it (a write into the reserve at any byte;
    any write at a page boundary of the file -- the kernel copies a page whole), and parse the file as it would be
    left: always well-formed XML whose temporal collection holds the steps of the closed chunks, in order."""
    from ephkin.solvers.xdmf import SnapshotWriter

    calls = _recording(monkeypatch)
    E = np.linspace(-1.0, 1.0, 7)
    w = SnapshotWriter(str(tmp_path), E, chunk_s=1e9, chunk_steps=2)
    for k in range(41):  # ~20 chunks: the 4 kB reserve grows several times
        w(0.5 * k, np.full(E.size, float(k)))
    w.close()
    path = os.path.abspath(tmp_path / "f_E_t.xdmf")
    writes = [c for c in calls if c[1] == path]
    assert writes[0][0] == "replace" and all(c[0] == "pwrite" for c in writes[1:])
    assert any(c[3].startswith(b"-->") for c in writes) and any(c[3].endswith(b"<?c?>\n") for c in writes)

    def steps(content):
        root = ET.fromstring(bytes(content))
        return [float(g.find("Time").get("Value")) for g in root.find("Domain/Grid[@CollectionType='Temporal']")]

    content, shown, checked = bytearray(writes[0][3]), [], 0
    assert steps(content) == []
    for _, _, offset, data in writes[1:]:
        cuts = {offset + n for n in range(0, len(data), 13)} if data.startswith(b"-->") else set()
        cuts |= {p for p in range(offset - offset % 4096 + 4096, offset + len(data), 4096)}
        for cut in sorted(cuts):
            left = content[:]
            left[offset:cut] = data[: cut - offset]
            now = steps(left)
            assert now == shown, cut  # a write cut short shows nothing new, and hides nothing
            checked += 1
        content[offset : offset + len(data)] = data
        now = steps(content)
        assert now[: len(shown)] == shown
        shown = now
    assert shown == [0.5 * k for k in range(41)] and checked > 500
    assert bytes(content) == open(path, "rb").read()
