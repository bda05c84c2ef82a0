"""Module loggers keep the logger they bound, and still follow every later configuration and stdout swap."""

from __future__ import annotations

import io
import json
import sys

import pytest
from structlog.testing import capture_logs

from app.logs import configure_logging, get_logger

log = get_logger(__name__)


def test_a_module_logger_follows_each_new_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(False, "WARNING")
    log.info("quiet_line")
    log.warning("loud_line")
    configure_logging(False, "INFO")  # a bound logger kept from before would still drop INFO
    log.info("now_heard", count=2)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["loud_line", "now_heard"]
    assert lines[1]["count"] == 2 and lines[1]["level"] == "info"
    configure_logging(True, "INFO")  # the console renderer: no longer JSON
    log.info("console_line")
    assert "console_line" in capsys.readouterr().out


def test_lines_go_to_stdout_as_it_is_now_and_capture_logs_sees_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(False, "INFO")
    log.info("first")
    assert "first" in capsys.readouterr().out
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", swapped)  # after the logger was bound, without configuring again
    log.info("second")
    assert "second" in swapped.getvalue()
    monkeypatch.undo()
    with capture_logs() as captured:
        log.info("captured", channel="263771234567")
    assert [entry["event"] for entry in captured] == ["captured"]
    assert capsys.readouterr().out == ""
