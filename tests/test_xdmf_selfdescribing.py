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
