#!/usr/bin/env python3
"""Container health check: exit 0 when the gRPC server at HOST:PORT reports SERVING.

The image has no grpc_health_probe (not packaged in Debian); the service's own grpcio does it.
"""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else "127.0.0.1:50051"
    with grpc.insecure_channel(target) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=3
            )
        except grpc.RpcError as error:
            print(f"{target}: {error.code().name}", file=sys.stderr)  # noqa: T201  # the reason
            return 1
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
