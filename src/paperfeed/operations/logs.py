"""Log lines: one per request and one per job, as text or as JSON (``PAPERFEED_LOG_FORMAT``).

Every line goes through the ``paperfeed`` logger to standard error, where systemd's
journal or a container runtime picks it up. Text reads
``request GET /papers/{arxiv_id} 200 12.3 ms``; JSON is one object per line with the
same fields (``event``, ``method``, ``route``, ``status``, ``ms``, ...) for log shippers.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from paperfeed.config import Settings

REQUEST_LOGGER = "paperfeed.request"
JOB_LOGGER = "paperfeed.job"
# fields a record carries when it is a request or a job line (``extra=``)
_FIELDS = ("event", "method", "route", "status", "ms", "job", "outcome")
_HANDLER_NAME = "paperfeed-operations"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        details = getattr(record, "details", None)
        if isinstance(details, dict):
            entry.update(details)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(settings: Settings, *, quiet: bool = False) -> None:
    """Send ``paperfeed.*`` log records at INFO and above to standard error, as the
    settings say; calling it again only updates the format and the level.

    Args:
        settings: the log format (``PAPERFEED_LOG_FORMAT``).
        quiet: WARNING and above only (a command's ``--quiet``): under cron, whatever
            reaches standard error is mailed, and a run that went well must send nothing.
    """
    logger = logging.getLogger("paperfeed")
    handler = next((item for item in logger.handlers if item.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        logger.addHandler(handler)
    elif isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)  # the current one (a test runner swaps it)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    # propagation stays on: a handler on the root (pytest's, an embedding app's) sees them too
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def log_request(method: str, route: str, status: int, seconds: float) -> None:
    """One request line. The route template, never the raw path: paths carry tokens
    (confirmation and unsubscribe links) that have no place in a log."""
    milliseconds = round(seconds * 1000, 1)
    logging.getLogger(REQUEST_LOGGER).info(
        "request %s %s %s %.1f ms",
        method,
        route,
        status,
        milliseconds,
        extra={
            "event": "request",
            "method": method,
            "route": route,
            "status": status,
            "ms": milliseconds,
        },
    )
