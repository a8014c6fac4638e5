"""Real servers for the integration tests: the ones named by the environment, or our own.

`POSTGRES_DSN`, `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI` point at external servers; each
one left unset is started here on a free port for the session and stopped at its end.
"""

from __future__ import annotations

import email
import email.policy
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.common.v1 import events_pb2, events_pb2_grpc
from lmp.expertise.v1 import expertise_pb2, expertise_pb2_grpc
from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp.voting.v1 import voting_pb2_grpc
from lmp_devstack import free_port, start_postgres, start_secantus, start_tansu
from lmp_kit.auth import issuer_of
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from pymongo import AsyncMongoClient

from lmp_cli.stack import ServiceProcess, isolated_env

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from datetime import datetime

    from lmp_devstack import RunningServer

HERE = Path(__file__).parent
T = TypeVar("T")


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


class Slice:
    """The first end-to-end slice on real servers: registry and kpi as `lmp serve` processes."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[ServiceProcess] = []
        settings = Settings.from_env("registry", env)
        self.issuer = issuer_of(settings)
        self.mongo_database = Settings.from_env("kpi", env).mongodb_database

    def service(
        self,
        name: str,
        components: tuple[str, ...] = ("api", "relay", "consumers"),
        label: str = "",
    ) -> ServiceProcess:
        env = dict(self.env)
        if "api" not in components:
            env[f"LMP_{name.upper()}_METRICS_PORT"] = str(free_port())
        process = ServiceProcess(name, env, self.log_dir, components=components, label=label)
        self.processes.append(process)
        return process

    def start(
        self,
        name: str,
        components: tuple[str, ...] = ("api", "relay", "consumers"),
        label: str = "",
    ) -> ServiceProcess:
        process = self.service(name, components, label)
        process.start()
        return process

    def target(self, name: str) -> str:
        return Settings.from_env(name, self.env).endpoint.grpc_target

    def token(self, *roles: str, cities: tuple[str, ...] = ("sarov", "seversk")) -> str:
        return self.issuer.issue("tester", roles=roles or ("working_group",), cities=cities)

    def metadata(
        self, *roles: str, cities: tuple[str, ...] = ("sarov", "seversk")
    ) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(*roles, cities=cities)}"),)

    def register_city(
        self, city_id: str = "sarov", *, population: int = 90_000, voter_target: int = 100
    ) -> None:
        self.registry().RegisterCity(
            registry_pb2.RegisterCityRequest(
                city_id=city_id,
                name=city_id.title(),
                region="Region",
                kind="zato",
                population=population,
                voter_target=voter_target,
            ),
            metadata=self.metadata("programme_office", cities=("*",)),
            timeout=10,
        )

    def registry(self) -> registry_pb2_grpc.RegistryServiceStub:
        return registry_pb2_grpc.RegistryServiceStub(grpc.insecure_channel(self.target("registry")))

    def voting(self) -> voting_pb2_grpc.VotingServiceStub:
        return voting_pb2_grpc.VotingServiceStub(grpc.insecure_channel(self.target("voting")))

    def kpi(self) -> kpi_pb2_grpc.KpiServiceStub:
        return kpi_pb2_grpc.KpiServiceStub(grpc.insecure_channel(self.target("kpi")))

    def event_log(self, name: str = "registry") -> events_pb2_grpc.EventLogStub:
        return events_pb2_grpc.EventLogStub(grpc.insecure_channel(self.target(name)))

    def head(self, name: str = "registry") -> int:
        metadata = (
            ("authorization", f"Bearer {service_token(Settings.from_env(name, self.env))()}"),
        )
        response = self.event_log(name).ReadEvents(
            events_pb2.ReadEventsRequest(after=0, limit=1), metadata=metadata, timeout=10
        )
        return int(response.max_notification_id)

    def register(self, count: int, city: str = "sarov", prefix: str = "Problem") -> None:
        stub = self.registry()
        metadata = self.metadata()
        for number in range(count):
            stub.RegisterProblem(
                registry_pb2.RegisterProblemRequest(
                    city_id=city, title=f"{prefix} {number}", description="found in a test"
                ),
                metadata=metadata,
                timeout=10,
            )

    def problem(self, city: str = "sarov", title: str = "A problem a practice solves") -> str:
        """The id of a problem of the city for a practice to solve (a practice always solves
        one): registered on the first call, the same one after (its request key)."""
        response = self.registry().RegisterProblem(
            registry_pb2.RegisterProblemRequest(
                city_id=city,
                title=title,
                description="",
                request_id="problem-" + "-".join(title.split()),
            ),
            metadata=self.metadata("working_group", cities=(city,)),
            timeout=10,
        )
        return response.problem.problem_id

    def registered(self, city: str = "sarov") -> int:
        response = self.kpi().ListProblemStats(
            kpi_pb2.ListProblemStatsRequest(city_id=city), metadata=self.metadata(), timeout=10
        )
        return sum(m.problems_registered for m in response.months)

    def wait_registered(self, expected: int, city: str = "sarov", timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline:
            seen = self.registered(city)
            if seen >= expected:
                return seen
            time.sleep(0.2)
        return seen

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def slice_env(
    tmp_path: Path, kafka_bootstrap: str, mongodb_uri: str, postgres_dsn: str | None = None
) -> dict[str, str]:
    return isolated_env(
        tmp_path / "data",
        prefix="t",
        postgres_dsn=postgres_dsn,
        settings={
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "MONGODB_URI": mongodb_uri,
            "LMP_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "LMP_RECONCILE_INTERVAL_S": "2",
        },
    )


@pytest.fixture
def slice_factory(
    tmp_path: Path, kafka_bootstrap: str, mongodb_uri: str
) -> Iterator[Callable[..., Slice]]:
    made: list[Slice] = []

    def make(postgres_dsn: str | None = None, kafka: str | None = None) -> Slice:
        env = slice_env(tmp_path, kafka or kafka_bootstrap, mongodb_uri, postgres_dsn)
        made.append(Slice(env, tmp_path / "logs"))
        return made[-1]

    yield make
    for each in made:
        each.stop()


@pytest.fixture
def stack(slice_factory: Callable[..., Slice]) -> Slice:
    """Registry and kpi running on SQLite event stores, the session's Kafka and MongoDB."""
    made = slice_factory()
    made.start("registry")
    made.start("kpi")
    return made


@pytest.fixture
def voting_stack(slice_factory: Callable[..., Slice]) -> Slice:
    """Registry and voting running, with a pseudonym key for the residents' ballots."""
    made = slice_factory()
    made.env["LMP_VOTING_PSEUDONYM_KEY"] = "an-integration-test-pseudonym-master-key"
    made.start("registry")
    made.start("voting")
    return made


def stamp(moment: datetime) -> Timestamp:
    message = Timestamp()
    message.FromDatetime(moment)
    return message


def council_concludes(stack: Slice, practice_id: str, verdict: str, **more: Any) -> None:
    """The Expert Council concludes a review of the practice at a held session (expertise),
    and the registry records the verdict from it: the only way to the council's statuses."""
    expertise = expertise_pb2_grpc.ExpertiseServiceStub(
        grpc.insecure_channel(stack.target("expertise"))
    )
    office = stack.metadata("programme_office", cities=("*",))
    chair = stack.metadata("expert", cities=("*",))
    wg = stack.metadata("working_group", cities=("sarov",))
    secondary = verdict == "prioritized"
    if not secondary:
        expertise.FormCouncil(expertise_pb2.FormCouncilRequest(), metadata=office, timeout=10)
        expertise.AdmitMember(
            expertise_pb2.AdmitMemberRequest(
                member=expertise_pb2.Member(person_id="tester", name="Chair", cities=["*"])
            ),
            metadata=office,
            timeout=10,
        )
        expertise.AppointChair(
            expertise_pb2.AppointChairRequest(person_id="tester"), metadata=office, timeout=10
        )
    round_ = "secondary" if secondary else "primary"
    review = eventually(
        lambda: expertise.OpenReview(
            expertise_pb2.OpenReviewRequest(practice_id=practice_id, round=round_),
            metadata=wg,
            timeout=10,
        )
    )
    if secondary:
        expertise.ScorePractice(
            expertise_pb2.ScorePracticeRequest(
                review_id=review.review_id,
                scores=expertise_pb2.CriterionScores(
                    effectiveness=5, resource_intensity=4, time_to_implement=4, fit_to_city_needs=5
                ),
            ),
            metadata=chair,
            timeout=10,
        )
        expertise.AssessPractice(
            expertise_pb2.AssessPracticeRequest(
                review_id=review.review_id,
                scores=expertise_pb2.CriterionScores(
                    effectiveness=5, resource_intensity=4, time_to_implement=4, fit_to_city_needs=5
                ),
                rationale="The working group's assessment on the four criteria",
            ),
            metadata=wg,
            timeout=10,
        )
    day = "2026-12-02" if secondary else "2026-12-01"
    session = expertise.ScheduleSession(
        expertise_pb2.ScheduleSessionRequest(
            city_id="sarov", scheduled_on=day, agenda=[practice_id]
        ),
        metadata=chair,
        timeout=10,
    )
    expertise.HoldSession(
        expertise_pb2.HoldSessionRequest(
            session_id=session.session_id, held_on=day, attendees=["tester"], minutes="Decided"
        ),
        metadata=chair,
        timeout=10,
    )
    expertise.ConcludeReview(
        expertise_pb2.ConcludeReviewRequest(
            review_id=review.review_id,
            session_id=session.session_id,
            verdict=verdict,
            rationale="Decided at the session",
            **more,
        ),
        metadata=chair,
        timeout=10,
    )
    registry = stack.registry()

    def recorded() -> None:
        found = registry.GetPractice(
            registry_pb2.GetPracticeRequest(practice_id=practice_id), metadata=wg, timeout=10
        )
        assert found.status == verdict

    eventually(recorded)


def eventually(call: Callable[..., T], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (grpc.RpcError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture
async def mongo(mongodb_uri: str) -> AsyncIterator[tuple[AsyncMongoClient[Any], str]]:
    """A client of the session's MongoDB and the name of a database of this test's own,
    dropped afterwards."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    name = f"t{uuid.uuid4().hex[:10]}_test"
    yield client, name
    await client.drop_database(name)
    await client.close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802  # aiosmtpd's hook
        del server, session
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 OK"
