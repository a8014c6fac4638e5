from __future__ import annotations

import pytest
from lmp_kit.eventstore import event_store_env, postgres_env
from lmp_kit.settings import Settings, SettingsError

JWT_KEY = "a-test-secret-that-is-long-enough-for-hs256"


def settings_of(service="registry", **env):
    return Settings.from_env(service, {"LMP_JWT_SECRET": JWT_KEY, **env})


def test_the_memory_store_is_the_popo_persistence_module():
    env = event_store_env(settings_of(LMP_EVENT_STORE="memory"))

    assert env == {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def test_the_sqlite_store_is_one_file_per_service_under_the_data_dir(tmp_path):
    data_dir = tmp_path / "not-yet" / "there"

    registry = event_store_env(settings_of("registry", LMP_DATA_DIR=str(data_dir)))
    voting = event_store_env(settings_of("voting", LMP_DATA_DIR=str(data_dir)))

    assert registry["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert registry["SQLITE_DBNAME"] == str(data_dir / "registry.events.sqlite")
    assert voting["SQLITE_DBNAME"] == str(data_dir / "voting.events.sqlite")
    assert data_dir.is_dir()


def test_postgres_env_reads_host_port_database_user_and_escaped_password():
    dsn = "postgresql://lmp%40ops:p%40ss%2Fw0rd%3A@db.example.org:6543/lmp%20events"

    env = postgres_env(settings_of("kpi", POSTGRES_DSN=dsn))

    assert env["POSTGRES_HOST"] == "db.example.org"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_DBNAME"] == "lmp events"
    assert env["POSTGRES_USER"] == "lmp@ops"
    assert env["POSTGRES_PASSWORD"] == "p@ss/w0rd:"  # noqa: S105  # a made-up credential
    assert env["POSTGRES_SCHEMA"] == "lmp_kpi"


def test_postgres_env_fills_in_the_usual_port_user_and_database():
    env = postgres_env(settings_of(POSTGRES_DSN="postgres://db"))

    assert env["POSTGRES_HOST"] == "db"
    assert env["POSTGRES_PORT"] == "5432"
    assert env["POSTGRES_DBNAME"] == "postgres"
    assert env["POSTGRES_USER"] == "postgres"
    assert env["POSTGRES_PASSWORD"] == ""


def test_the_schema_is_the_configured_prefix_and_the_service():
    settings = settings_of(
        "notifications",
        POSTGRES_DSN="postgresql://db/lmp",
        LMP_POSTGRES_SCHEMA_PREFIX="city_",
    )

    assert postgres_env(settings)["POSTGRES_SCHEMA"] == "city_notifications"


@pytest.mark.parametrize(
    "dsn",
    [
        "mysql://user@db:3306/lmp",
        "host=db dbname=lmp user=lmp",
        "postgresql:///lmp",
    ],
)
def test_a_dsn_that_is_not_a_postgres_url_with_a_host_is_a_settings_error(dsn):
    with pytest.raises(SettingsError, match="POSTGRES_DSN must look like postgresql://"):
        postgres_env(settings_of(POSTGRES_DSN=dsn))


def test_a_dsn_with_a_non_numeric_port_is_a_settings_error():
    with pytest.raises(SettingsError, match="POSTGRES_DSN must look like postgresql://"):
        postgres_env(settings_of(POSTGRES_DSN="postgresql://lmp@db:fivefourthreetwo/lmp"))
