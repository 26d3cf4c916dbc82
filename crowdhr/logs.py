"""Structured log lines: `time level logger message key=value ...`, one per event, on stdout."""

from __future__ import annotations

import logging

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class StructuredFormatter(logging.Formatter):
    """Writes the record's message followed by every `extra=` field as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in vars(record).items() if key not in _STANDARD}
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quoted(record.getMessage())}",
        ]
        parts += [f"{key}={_quoted(value)}" for key, value in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quoted(value: object) -> str:
    text = str(value)
    if not text or any(char.isspace() or char in '"=' for char in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
