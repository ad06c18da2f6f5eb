"""Application logs on stderr: one readable line (``LOG_FORMAT = "text"``, the default) or
one JSON object a line (``"json"``) for a log collector.

Every request writes one ``ancrage.request`` line (see ``app.http``) with its request id,
method, endpoint, status, duration and the user's id. Never log names, e-mail addresses,
paths with query strings or any free text a user typed: structured fields go in the
record's ``fields`` extra and hold identifiers and counts only.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

HANDLER_NAME = "ancrage"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return line


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (not the one present at start-up)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(app) -> None:
    """Install one handler on the root logger (replacing ours from an earlier app), so the
    application's, the scheduler's and the libraries' records share one format."""
    log_format = str(app.config.get("LOG_FORMAT", "text")).lower()
    if log_format not in FORMATS:
        from app.config import ConfigurationError

        raise ConfigurationError(
            f"LOG_FORMAT inconnu : {log_format!r} (valeurs possibles : text, json)."
        )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    # Our records from INFO up; other libraries keep their own levels (WARNING by default).
    logging.getLogger("ancrage").setLevel(logging.INFO)
