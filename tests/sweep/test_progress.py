"""A sweep's progress: one ``run k/N`` line per finished run in the ``LMF_PROGRESS`` file, counted
over the whole grid, and ``follow`` passing a file's new lines on while they are written."""

from __future__ import annotations

import dataclasses
import re
import threading
import time

import pytest

from lmf.core.errors import RunError
from lmf.sweep import ensure
from lmf.sweep.progress import PROGRESS_ENV, follow, progress_line, run_name

LINE = re.compile(r"^run (\d+)/(\d+) (\S+) done in \d+ s$")


@pytest.mark.slow
def test_each_finished_run_appends_one_line_counting_the_whole_grid(results, tmp_path,
                                                                    tiny_grid, monkeypatch):
    channel = tmp_path / "progress"
    monkeypatch.setenv(PROGRESS_ENV, str(channel))
    grid = tiny_grid(3)
    ensure(grid[:2], results=results)
    first = channel.read_text().splitlines()
    assert [LINE.match(line).groups() for line in first] == [
        ("1", "2", "digits_lt-efficientnetv2_s-cce"), ("2", "2", "digits_lt-efficientnetv2_s-focal")]
    ensure(grid, results=results)  # two done already: the third is run 3 of 3
    assert LINE.match(channel.read_text().splitlines()[2]).groups() == (
        "3", "3", "digits_lt-efficientnetv2_s-ldam")
    ensure(grid, results=results)  # nothing to train: no line
    assert len(channel.read_text().splitlines()) == 3


def test_a_failed_run_is_a_failed_line(results, tmp_path, tiny_grid, monkeypatch):
    channel = tmp_path / "progress"
    monkeypatch.setenv(PROGRESS_ENV, str(channel))
    diverging = dataclasses.replace(tiny_grid(1)[0], lr=1e30)
    with pytest.raises(RunError):
        ensure([diverging], results=results, quiet=True)
    line = channel.read_text().strip()
    assert line.startswith("run 1/1 digits_lt-efficientnetv2_s-cce FAILED in ")
    assert "non-finite" in line and f"{diverging.run_id}.log" in line


def test_progress_line_names_the_run_by_its_grid_labels():
    task = {"dataset": "ham10000", "model": "timm:resnet10t", "loss": "lmf",
            "labels": {"dataset_id": "ham10000", "model_id": "resnet50"}}
    assert run_name(task) == "ham10000-resnet50-lmf"
    assert run_name({"dataset": "digits_lt", "model": "timm:x", "loss": "cce"}) == (
        "digits_lt-timm:x-cce")
    assert progress_line(7, 15, task, {"ok": True, "seconds": 41.6}) == (
        "run 7/15 ham10000-resnet50-lmf done in 42 s")


def test_follow_passes_on_the_lines_written_during_the_block(tmp_path):
    channel = tmp_path / "channel"
    channel.write_text("before the block\n")
    seen, times = [], []

    def echo(line):
        seen.append(line)
        times.append(time.perf_counter())

    def writer():
        with open(channel, "a") as out:
            out.write("run 1/2 a done in 1 s\n")
            out.flush()
            time.sleep(0.6)
            out.write("run 2/2 b")  # half a line: passed on only once it is complete
            out.flush()
            time.sleep(0.6)
            out.write(" done in 2 s\n")

    with follow(channel, echo, interval=0.05):
        started = time.perf_counter()
        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.4)
        assert seen == ["run 1/2 a done in 1 s"]  # while the block still runs
        thread.join()
    assert seen == ["run 1/2 a done in 1 s", "run 2/2 b done in 2 s"]
    assert times[1] - started >= 1.2
