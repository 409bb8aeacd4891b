"""What the command line says when it refuses something: the subcommand's own usage, one line
per warning, and refusals of bad values before anything is imported, trained or written."""

from __future__ import annotations

import pytest

from lmf.cli import build_parser


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
