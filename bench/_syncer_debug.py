#!/usr/bin/env python3
"""`syncer ARGS` with syncer's loggers at DEBUG, as JSON lines on stderr: one `api request`
line per API request (method, path, status), which is how the benchmarks count syncer's
requests on a real API server. Otherwise exactly the console script.

Usage: python bench/_syncer_debug.py [syncer arguments]
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import syncer.logs

_configure = syncer.logs.configure_logging


def _at_debug(*args: Any, **kwargs: Any) -> None:
    _configure(*args, **{**kwargs, "fmt": "json"})
    logging.getLogger("syncer").setLevel(logging.DEBUG)


syncer.logs.configure_logging = _at_debug  # before syncer.cli imports it

from syncer.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
