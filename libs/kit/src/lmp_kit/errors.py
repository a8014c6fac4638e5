"""Domain errors; each maps to one gRPC status code and never to INTERNAL."""

from __future__ import annotations

import grpc


class DomainError(Exception):
    status = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(DomainError):
    status = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(DomainError):
    status = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(DomainError):
    status = grpc.StatusCode.ALREADY_EXISTS


class FailedPreconditionError(DomainError):
    status = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDeniedError(DomainError):
    status = grpc.StatusCode.PERMISSION_DENIED


class UnauthenticatedError(DomainError):
    status = grpc.StatusCode.UNAUTHENTICATED


class ConcurrentChangeError(DomainError):
    """The record changed under the command more often than it was retried."""

    status = grpc.StatusCode.ABORTED


class NotYetError(DomainError):
    """The record exists, but the read model answering the call has not caught up with it yet
    (a read right after the command that wrote it): retry shortly, the answer will come."""

    status = grpc.StatusCode.UNAVAILABLE
