"""What the command line says when it refuses something: the subcommand's own usage, one line
per warning, and refusals of bad values before anything is imported, trained or written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lmf.cli import build_parser
from lmf.commands.train import config_from_args
from lmf.core import runs


@pytest.mark.parametrize("value", ["-5", "0", "nan", "soon"])
def test_reproduce_refuses_a_timeout_that_is_not_above_0(value, capsys):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["reproduce", "--timeout", value])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: lmf reproduce")
    assert f"argument --timeout: expected a number above 0, got '{value}'" in err


def test_reproduce_takes_a_positive_timeout():
    assert build_parser().parse_args(["reproduce", "--timeout", "90"]).timeout == 90.0


def lmf(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lmf.cli", *args], capture_output=True,
                          text=True, timeout=600)


#: A tiny run of ``lmf train`` (a few seconds on the CPU).
TINY_TRAIN = ("train", "--model", "timm:test_resnet", "--loss", "cce", "--epochs", "1",
              "--image-size", "16", "--device", "cpu", "--quiet")


@pytest.mark.slow
def test_warnings_are_one_line_without_the_library_source(tmp_path):
    results = tmp_path / "results"
    identity = config_from_args(build_parser().parse_args([*TINY_TRAIN])).identity()
    damaged = runs.make_run_dir(runs.run_dir(identity, results))
    runs.mark_done(damaged)  # done, but none of its files: trained again with a warning
    done = lmf(*TINY_TRAIN, "--results", str(results))
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.startswith(f"warning: run {damaged.name} was marked done but lacks")
    assert ".py:" not in done.stderr and "warnings.warn" not in done.stderr


@pytest.mark.parametrize(("argv", "usage"), [
    (["sweep", "paper", "--epochs", "1"], "usage: lmf sweep"),
    (["data", "prepare", "ham10000", "--bogus"], "usage: lmf data prepare"),
    (["train", "--no-such-flag"], "usage: lmf train"),
])
def test_unknown_arguments_are_refused_with_the_subcommands_usage(argv, usage, capsys):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    refused = " ".join(argv[2:] if argv[0] == "sweep" else argv[-1:])
    assert err.strip().splitlines()[-1].endswith(f"error: unrecognized arguments: {refused}")


@pytest.mark.parametrize(("flag", "message"), [
    (("--lr", "0"), "lr must be a number in (0, inf), got 0.0"),
    (("--epochs", "0"), "epochs must be an integer >= 1, got 0"),
])
def test_a_bad_number_is_refused_before_torch_is_imported(flag, message, tmp_path):
    code = ("import sys; from lmf.cli import main; "
            f"code = main(['train', *{list(flag)!r}, '--results', {str(tmp_path)!r}]); "
            "print(code, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["2", "False"]
    assert done.stderr.strip() == f"lmf train: error: {message}"
    assert list(tmp_path.iterdir()) == []
