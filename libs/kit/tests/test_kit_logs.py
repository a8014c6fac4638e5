from __future__ import annotations

import io
import json
import logging

import pytest
from lmp_kit.logs import (
    JsonFormatter,
    RepeatFilter,
    adopt_library_loggers,
    current_city,
    current_traceparent,
    trace_id_of,
)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


@pytest.fixture
def logged():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("registry"))
    logger = logging.getLogger("lmp.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.fixture
def in_city():
    city = current_city.set("sarov")
    trace = current_traceparent.set(TRACEPARENT)
    yield
    current_traceparent.reset(trace)
    current_city.reset(city)


def entries(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_on_one_line(logged):
    logger, stream = logged

    logger.info("first")
    logger.warning("second\nspans two lines")

    first, second = entries(stream)
    assert first["message"] == "first"
    assert second["message"] == "second\nspans two lines"


def test_a_record_names_the_service_level_logger_and_message(logged):
    logger, stream = logged

    logger.warning("problem %s registered", "Ямы")

    (entry,) = entries(stream)
    assert entry["service"] == "registry"
    assert entry["level"] == "warning"
    assert entry["logger"] == "lmp.test.logs"
    assert entry["message"] == "problem Ямы registered"
    assert "time" in entry


@pytest.mark.usefixtures("in_city")
def test_a_record_carries_the_city_and_trace_id_of_the_context(logged):
    logger, stream = logged

    logger.info("registered")

    (entry,) = entries(stream)
    assert entry["city"] == "sarov"
    assert entry["trace_id"] == TRACE_ID


def test_outside_a_city_and_a_trace_there_is_no_city_or_trace_id(logged):
    logger, stream = logged

    logger.info("starting")

    (entry,) = entries(stream)
    assert "city" not in entry
    assert "trace_id" not in entry


def test_extra_fields_and_errors_are_included(logged):
    logger, stream = logged

    try:
        raise RuntimeError("boom")  # noqa: EM101, TRY301  # the error under test
    except RuntimeError:
        logger.exception("failed", extra={"grpc_port": 50051})

    (entry,) = entries(stream)
    assert entry["grpc_port"] == 50051
    assert "RuntimeError: boom" in entry["error"]


@pytest.mark.parametrize("traceparent", ["", "garbage", "00-abc-def"])
def test_a_malformed_traceparent_has_no_trace_id(traceparent):
    assert trace_id_of(traceparent) == ""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_failure_logs_once_a_window_and_says_how_often_it_repeated(logged):
    logger, stream = logged
    clock = Clock()
    repeats = RepeatFilter(window_s=10.0, clock=clock)
    logger.addFilter(repeats)
    try:
        for offset in range(500):
            clock.now = offset * 0.01
            logger.error("OffsetCommit failed on partition %s: %s", offset % 4, "Unknown")
        logger.error("another kind of failure")
        clock.now = 10.5
        logger.error("OffsetCommit failed on partition %s: %s", 1, "Unknown")
        logger.info("info is never held back")
        logger.info("info is never held back")
    finally:
        logger.removeFilter(repeats)

    first, other, summary, info, again = entries(stream)
    assert first["message"] == "OffsetCommit failed on partition 0: Unknown"
    assert "repeated" not in first
    assert other["message"] == "another kind of failure"
    assert summary["repeated"] == 499  # the 500 failures but the first
    assert summary["repeated_over_s"] == 10.5  # since the first passed
    assert info["message"] == again["message"] == "info is never held back"


def test_library_loggers_with_their_own_handlers_go_through_the_root_handler():
    library = logging.getLogger("lmp.test.library_with_its_own_handler")
    own = logging.StreamHandler(io.StringIO())
    library.addHandler(own)
    library.propagate = False
    try:
        adopt_library_loggers()

        assert own not in library.handlers
        assert library.propagate
    finally:
        library.removeHandler(own)
