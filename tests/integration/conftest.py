"""Real servers for the integration tests: the ones named by the environment, or our own.

`POSTGRES_DSN`, `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI` point at external servers; each
one left unset is started here on a free port for the session and stopped at its end.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lmp_kit.servers import start_postgres, start_secantus, start_tansu

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lmp_kit.servers import RunningServer

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The hook sees every collected test; only the ones in this folder need real servers.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


def _external(variable: str) -> str | None:
    return os.environ.get(variable) or None


@pytest.fixture(scope="session")
def _tansu_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer | None]:
    if _external("KAFKA_BOOTSTRAP_SERVERS"):
        yield None
        return
    with start_tansu(tmp_path_factory.mktemp("tansu")) as server:
        yield server


@pytest.fixture(scope="session")
def tansu(_tansu_server: RunningServer | None) -> RunningServer:
    """The broker we started ourselves; tests that restart it skip on an external one."""
    if _tansu_server is None:
        pytest.skip("the Kafka broker is external (KAFKA_BOOTSTRAP_SERVERS)")
    return _tansu_server


@pytest.fixture(scope="session")
def kafka_bootstrap(_tansu_server: RunningServer | None) -> str:
    if _tansu_server is None:
        return os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    return _tansu_server.address


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = _external("MONGODB_URI")
    if external is not None:
        yield external
        return
    with start_secantus(tmp_path_factory.mktemp("secantus")) as server:
        yield server.address


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = _external("POSTGRES_DSN")
    if external is not None:
        yield external
        return
    with start_postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server.address
