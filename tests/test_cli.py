"""The command line refuses bad options in one line, never with a traceback (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestration.cli import app, is_loopback

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["leads", "list", "--limit", "-1"],
        ["leads", "list", "--limit", "0"],
        ["generate", "--seed", "-3"],
        ["ui", "--port", "70000"],
    ],
)
def test_out_of_range_options_are_refused_clearly(args: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Invalid value" in result.output, result.output


def test_ui_refuses_a_non_loopback_host_without_expose(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ui", "--host", "0.0.0.0", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "Refusing to serve on 0.0.0.0" in result.output
    assert "--expose" in result.output and "DNS rebinding" in result.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
