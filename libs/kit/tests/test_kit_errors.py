from __future__ import annotations

import grpc
import pytest
from lmp_kit.errors import (
    AlreadyExistsError,
    DomainError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from lmp_kit.grpc_server import _validation_message, new_traceparent
from lmp_kit.logs import trace_id_of
from pydantic import BaseModel, ValidationError, model_validator


class Window(BaseModel):
    start: int
    end: int

    @model_validator(mode="after")
    def check_order(self) -> Window:
        if self.end < self.start:
            msg = "end before start"
            raise ValueError(msg)
        return self


class Query(BaseModel):
    city_id: str
    window: Window


def validation_error_of(data):
    with pytest.raises(ValidationError) as raised:
        Query.model_validate(data)
    return raised.value


@pytest.mark.parametrize(
    ("error_class", "code"),
    [
        (InvalidArgumentError, grpc.StatusCode.INVALID_ARGUMENT),
        (NotFoundError, grpc.StatusCode.NOT_FOUND),
        (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
        (FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
        (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
        (UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED),
        (DomainError, grpc.StatusCode.FAILED_PRECONDITION),
    ],
)
def test_each_domain_error_maps_to_its_status_code_and_keeps_its_message(error_class, code):
    error = error_class("what went wrong")

    assert error.status == code
    assert error.message == "what went wrong"
    assert str(error) == "what went wrong"
    assert isinstance(error, DomainError)


def test_a_validation_message_names_each_field_by_its_dotted_path():
    error = validation_error_of({"window": {"start": "soon", "end": 3}})

    message = _validation_message(error)

    assert message == (
        "city_id: Field required; window.start: Input should be a valid integer, "
        "unable to parse string as an integer"
    )


def test_a_validation_error_of_a_whole_model_is_named_by_its_path():
    error = validation_error_of({"city_id": "sarov", "window": {"start": 5, "end": 3}})

    assert _validation_message(error) == "window: Value error, end before start"


def test_a_validation_error_of_the_request_itself_is_named_request():
    with pytest.raises(ValidationError) as raised:
        Window.model_validate({"start": 5, "end": 3})

    assert _validation_message(raised.value) == "request: Value error, end before start"


def test_a_new_traceparent_is_a_w3c_traceparent_with_a_fresh_trace_id():
    first, second = new_traceparent(), new_traceparent()

    assert len(trace_id_of(first)) == 32
    assert first.startswith("00-")
    assert first.endswith("-01")
    assert trace_id_of(first) != trace_id_of(second)
