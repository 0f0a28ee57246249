"""Keep site keys out of logs: `/hb/<key>` paths are rewritten to `/hb/<redacted>`.

Attached in `MonitoringConfig.ready()` to the loggers that print request paths: Django's
request and development-server loggers and the access loggers of gunicorn and uvicorn.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_HB_PATH = re.compile(r"/hb/[^/?#\s\"']+")
REDACTED = "/hb/<redacted>"
LOGGERS = ("django.request", "django.server", "gunicorn.access", "uvicorn.access",
           "uvicorn.error")


def redact(value: Any) -> Any:
    if isinstance(value, str):
        return _HB_PATH.sub(REDACTED, value)
    if isinstance(value, tuple):
        return tuple(redact(v) for v in value)
    if isinstance(value, dict):
        # In place: gunicorn passes a dict subclass that answers '-' for missing atoms.
        for k, v in list(value.items()):
            value[k] = redact(v)
        return value
    return value


class RedactKeysFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.msg)
        if record.args:
            record.args = redact(record.args)
        return True


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeysFilter) for f in logger.filters):
            logger.addFilter(RedactKeysFilter())
