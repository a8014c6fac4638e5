"""Structured JSON logs that carry service, city and trace id.

Every line a service writes is one JSON object: libraries that bring their own handlers
(FastStream installs a coloured one) are brought under the kit's, and so are warnings and
uncaught exceptions. A dependency that fails the same way hundreds of times a second (aiokafka
during a broker outage) logs a line per kind and window, not a line per failure.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

current_city: ContextVar[str] = ContextVar("current_city", default="")
current_traceparent: ContextVar[str] = ContextVar("current_traceparent", default="")

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def trace_id_of(traceparent: str) -> str:
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 else ""  # noqa: PLR2004  # version-traceid-spanid-flags


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if city := current_city.get():
            entry["city"] = city
        if trace_id := trace_id_of(current_traceparent.get()):
            entry["trace_id"] = trace_id
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


REPEAT_WINDOW_S = 10.0
# Kinds of records remembered at most; older ones are forgotten first.
REPEAT_KINDS = 1_000


@dataclass
class _Repeats:
    since: float
    held: int = 0


class RepeatFilter(logging.Filter):
    """Passes the first record of a kind (logger, level, message template) and then at most
    one a window; that one carries `repeated`, how many of its kind were held back since the
    last one passed, and `repeated_over_s`. Records below `level` all pass."""

    def __init__(
        self,
        window_s: float = REPEAT_WINDOW_S,
        level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window_s = window_s
        self.level = level
        self.clock = clock
        self._kinds: dict[tuple[str, int, str], _Repeats] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.level:
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self._lock:
            seen = self._kinds.get(kind)
            if seen is not None and now - seen.since < self.window_s:
                seen.held += 1
                return False
            self._kinds.pop(kind, None)
            self._kinds[kind] = _Repeats(since=now)
            while len(self._kinds) > REPEAT_KINDS:
                del self._kinds[next(iter(self._kinds))]
        if seen is not None and seen.held:
            record.repeated = seen.held
            record.repeated_over_s = round(now - seen.since, 1)
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    adopt_library_loggers()
    for noisy in ("aiokafka", "faststream", "lmp_kit.kafka.faststream", "pymongo", "grpc"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(capture=True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def adopt_library_loggers() -> None:
    """Loggers that brought their own handlers (FastStream's write coloured plain text to
    stderr and do not propagate) pass their records to the root's handler instead."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and (logger.handlers or not logger.propagate):
            for own in list(logger.handlers):
                logger.removeHandler(own)
            logger.propagate = True


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    logging.getLogger("lmp_kit.uncaught").critical(
        "uncaught %s: %s", kind.__name__, error, exc_info=(kind, error, traceback)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    logging.getLogger("lmp_kit.uncaught").critical(
        "uncaught %s in thread %s: %s",
        args.exc_type.__name__,
        args.thread.name if args.thread else "?",
        args.exc_value,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
