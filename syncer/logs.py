"""Logging set-up for the command line. Modules only call `logging.getLogger(__name__)` and
pass context in `extra`; this module shows that context, as `key=value` text or JSON lines."""

from __future__ import annotations

import json
import logging
import sys
import time

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


def configure_logging(*, verbose: bool = False, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger = logging.getLogger("syncer")
    logger.handlers[:] = [handler]  # idempotent: main() may run more than once in a process
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
