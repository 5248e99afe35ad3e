"""Logging set-up for the command line. Modules only call `logging.getLogger(__name__)` and
pass context in `extra`; this module shows that context, as `key=value` text or JSON lines."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

__all__ = ["configure_logging"]

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _context(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in _context(record).items())
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        return f"{line} {extra}" if extra else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        data: dict[str, object] = {"time": f"{stamp}Z", "level": record.levelname.lower(),
                                   "logger": record.name, "message": record.getMessage()}
        data.update(_context(record))
        return json.dumps(data, default=str)


class _Stderr(logging.StreamHandler[Any]):
    """Writes to `sys.stderr` as it is when a record is emitted, not as it was when logging
    was configured: a process that replaces stderr (a test runner capturing it, a daemon)
    must not leave the handler writing to a closed stream."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(*, verbose: bool = False, fmt: str = "text") -> None:
    handler = _Stderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger = logging.getLogger("syncer")
    logger.handlers[:] = [handler]  # idempotent: main() may run more than once in a process
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
