"""Writes stay inside -o and only to names ephkin owns (issue 28): run-file output names are plain file names,
checked before any point runs; -o '' is refused."""

import os

import pytest

from ephkin.solvers.cli import main

GOOD = """model = "lambda-c"
[parameters]
spectrum = "einstein"
[sweep]
T0 = [0.18, 0.20]
[plot]
x = "T0"
y = ["lambda_c"]
"""


@pytest.mark.parametrize(
    "name",
    [
        "../escape.png",
        "/tmp/escape.png",
        "sub/x.png",
        "nosuch/dir/x.png",
        "..",
        ".hidden.png",
        "x" * 300 + ".png",
        "a\x00b.png",
        "sweep.txt",
        "",
    ],
)
def test_plot_file_names_that_could_leave_o_are_refused_before_computing(tmp_path, capsys, name):
    run = tmp_path / "rf.toml"
    run.write_text(
        GOOD + f"file = {name!r}\n".replace("'", '"') if "\x00" not in name else GOOD + 'file = "a\\u0000b.png"\n'
    )
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        before = set(os.listdir(tmp_path))
        assert main(["sweep", str(run), "-o", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "plot.file" in err
        assert set(os.listdir(tmp_path)) == before  # nothing written anywhere, -o not even created
    finally:
        os.chdir(cwd)


def test_a_plain_plot_name_is_written_inside_o(tmp_path, capsys):
    run = tmp_path / "rf.toml"
    run.write_text(GOOD + 'file = "lc.pdf"\n')
    assert main(["sweep", str(run), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    assert (tmp_path / "out" / "lc.pdf").is_file()


def test_plot_y_must_name_columns(tmp_path, capsys):
    run = tmp_path / "rf.toml"
    run.write_text(GOOD.replace('y = ["lambda_c"]', "y = [1, 2]"))
    assert main(["sweep", str(run), "-o", str(tmp_path / "out")]) == 2
    assert "plot.y" in capsys.readouterr().err


@pytest.mark.parametrize(
    "cmd",
    [
        ["sweep", "RUN"],
        ["evolve", "--spectrum", "einstein", "--T0", "0.2", "--T-in", "0.21", "--t-end", "0.1"],
        ["spectrum", "--spectrum", "einstein"],
    ],
)
def test_empty_output_directory_is_refused(tmp_path, capsys, cmd):
    run = tmp_path / "rf.toml"
    run.write_text(GOOD)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        before = set(os.listdir(tmp_path))
        assert main([str(run) if c == "RUN" else c for c in cmd] + ["-o", ""]) == 2
        assert "-o ''" in capsys.readouterr().err
        assert set(os.listdir(tmp_path)) == before
    finally:
        os.chdir(cwd)
