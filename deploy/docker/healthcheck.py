#!/usr/bin/env python3
"""Container health check: exit 0 when the gRPC server at HOST:PORT reports SERVING, or when an
HTTP URL (the console's http://127.0.0.1:8080/healthz) answers 200.

The image has no grpc_health_probe (not packaged in Debian) nor curl; the service's own grpcio
and the standard library do it.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT_S = 3


def http_check(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310  # the URL is the check's own argument
            status = int(response.status)
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: {error}", file=sys.stderr)  # noqa: T201  # the reason
        return 1
    return 0 if status == 200 else 1  # noqa: PLR2004  # HTTP OK


def grpc_check(target: str) -> int:
    with grpc.insecure_channel(target) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_S
            )
        except grpc.RpcError as error:
            print(f"{target}: {error.code().name}", file=sys.stderr)  # noqa: T201  # the reason
            return 1
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else "127.0.0.1:50051"
    if target.startswith(("http://", "https://")):
        return http_check(target)
    return grpc_check(target)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
