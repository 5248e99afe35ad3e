"""The command line's log handler writes to stderr as it is at each record."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from syncer.logs import configure_logging


def test_logging_follows_stderr_when_it_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("syncer")  # put back as it was after the test
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logger.level)
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging()
    first.close()  # as a test runner closes the stream it captured into
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("syncer.test").warning("still heard")
    assert second.getvalue() == "warning: still heard\n"
