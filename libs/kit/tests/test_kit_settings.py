from __future__ import annotations

from pathlib import Path

import pytest
from lmp_kit.settings import DEFAULT_COMMAND_THREADS, SERVICES, Settings, SettingsError

JWT_KEY = "a-test-secret-that-is-long-enough-for-hs256"
BASE = {"LMP_JWT_SECRET": JWT_KEY}


@pytest.mark.parametrize(
    ("service", "grpc_port", "metrics_port"),
    [
        ("registry", 50051, 9101),
        ("voting", 50052, 9102),
        ("expertise", 50053, 9103),
        ("kpi", 50054, 9104),
        ("notifications", 50055, 9105),
    ],
)
def test_default_ports_follow_the_design_order(service, grpc_port, metrics_port):
    settings = Settings.from_env(service, BASE)

    assert settings.endpoint.grpc_port == grpc_port
    assert settings.endpoint.metrics_port == metrics_port
    assert settings.endpoint.grpc_target == f"127.0.0.1:{grpc_port}"


def test_every_service_knows_every_other_services_endpoint():
    settings = Settings.from_env("kpi", BASE)

    assert set(settings.endpoints) == set(SERVICES)
    assert settings.endpoints["registry"].grpc_target == "127.0.0.1:50051"


def test_defaults_without_postgres_are_sqlite_under_dot_lmp_with_lmp_names():
    settings = Settings.from_env("registry", BASE)

    assert settings.event_store == "sqlite"
    assert settings.data_dir == Path(".lmp")
    assert settings.topic == "lmp.registry.events"
    assert settings.topic_of("voting") == "lmp.voting.events"
    assert settings.consumer_group == "lmp.registry"
    assert settings.postgres_schema == "lmp_registry"
    assert settings.mongodb_database == "lmp_registry"
    assert (settings.jwt_issuer, settings.jwt_audience, settings.jwt_algorithm) == (
        "lmp",
        "lmp",
        "HS256",
    )
    assert settings.jwt_verify_key == settings.jwt_signing_key == JWT_KEY


def test_a_postgres_dsn_chooses_the_postgres_event_store():
    dsn = "postgresql://lmp@db:5432/lmp"
    settings = Settings.from_env("voting", {**BASE, "POSTGRES_DSN": dsn})

    assert settings.event_store == "postgres"
    assert settings.postgres_dsn == dsn


def test_an_explicit_event_store_wins_over_a_postgres_dsn():
    env = {**BASE, "POSTGRES_DSN": "postgresql://db/lmp", "LMP_EVENT_STORE": "memory"}

    assert Settings.from_env("voting", env).event_store == "memory"


def test_a_port_override_also_moves_the_default_grpc_target():
    settings = Settings.from_env("registry", {**BASE, "LMP_VOTING_GRPC_PORT": "6002"})

    assert settings.endpoints["voting"].grpc_port == 6002
    assert settings.endpoints["voting"].grpc_target == "127.0.0.1:6002"


def test_blank_values_fall_back_to_the_defaults():
    env = {**BASE, "LMP_REGISTRY_GRPC_PORT": "  ", "LMP_KAFKA_NAMESPACE": ""}
    settings = Settings.from_env("registry", env)

    assert settings.endpoint.grpc_port == 50051
    assert settings.topic == "lmp.registry.events"


def test_a_non_integer_port_is_a_settings_error_naming_the_variable_and_value():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env("kpi", {**BASE, "LMP_KPI_GRPC_PORT": "fifty"})

    assert str(raised.value) == "LMP_KPI_GRPC_PORT must be an integer, not 'fifty'"


def test_a_non_numeric_interval_is_a_settings_error():
    with pytest.raises(SettingsError, match=r"LMP_RELAY_POLL_INTERVAL_S must be a number"):
        Settings.from_env("kpi", {**BASE, "LMP_RELAY_POLL_INTERVAL_S": "soon"})


def test_an_unknown_event_store_is_a_settings_error_listing_the_choices():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env("registry", {**BASE, "LMP_EVENT_STORE": "mongo"})

    assert str(raised.value) == ("LMP_EVENT_STORE must be sqlite, postgres or memory, not 'mongo'")


def test_the_postgres_event_store_without_a_dsn_is_a_settings_error():
    with pytest.raises(SettingsError, match="needs POSTGRES_DSN"):
        Settings.from_env("registry", {**BASE, "LMP_EVENT_STORE": "postgres"})


def test_no_jwt_key_is_a_settings_error_that_says_what_to_set():
    with pytest.raises(SettingsError, match="no JWT key configured") as raised:
        Settings.from_env("registry", {})

    assert "LMP_JWT_SECRET" in str(raised.value)


def test_an_unknown_service_is_a_settings_error_listing_the_services():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env("billing", BASE)

    assert str(raised.value) == (
        "unknown service 'billing'; expected one of registry, voting, expertise, kpi, notifications"
    )


def test_a_secret_file_is_read_and_stripped(tmp_path):
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text("  secret-from-a-mounted-file\n", encoding="utf-8")

    settings = Settings.from_env("registry", {"LMP_JWT_SECRET_FILE": str(secret_file)})

    assert settings.jwt_verify_key == "secret-from-a-mounted-file"
    assert settings.jwt_signing_key == "secret-from-a-mounted-file"


def test_a_secret_file_wins_over_the_plain_variable(tmp_path):
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text("from-the-file", encoding="utf-8")
    env = {"LMP_JWT_SECRET": "from-the-variable", "LMP_JWT_SECRET_FILE": str(secret_file)}

    assert Settings.from_env("registry", env).jwt_verify_key == "from-the-file"


def test_an_unreadable_secret_file_is_a_settings_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.secret"

    with pytest.raises(SettingsError) as raised:
        Settings.from_env("registry", {"LMP_JWT_SECRET_FILE": str(missing)})

    assert str(raised.value).startswith(f"LMP_JWT_SECRET_FILE={str(missing)!r} cannot be read")


def test_key_pair_files_give_separate_verify_and_signing_keys(tmp_path):
    public = tmp_path / "jwt.pub"
    private = tmp_path / "jwt.key"
    public.write_text("PUBLIC KEY\n", encoding="utf-8")
    private.write_text("PRIVATE KEY\n", encoding="utf-8")
    env = {
        "LMP_JWT_ALGORITHM": "EdDSA",
        "LMP_JWT_PUBLIC_KEY_FILE": str(public),
        "LMP_JWT_PRIVATE_KEY_FILE": str(private),
    }

    settings = Settings.from_env("registry", env)

    assert settings.jwt_algorithm == "EdDSA"
    assert settings.jwt_verify_key == "PUBLIC KEY"
    assert settings.jwt_signing_key == "PRIVATE KEY"


def test_services_run_on_uvloop_unless_asyncio_is_chosen():
    assert Settings.from_env("voting", BASE).event_loop == "uvloop"
    chosen = Settings.from_env("voting", {**BASE, "LMP_EVENT_LOOP": "asyncio"})
    assert chosen.event_loop == "asyncio"


def test_an_unknown_event_loop_is_a_settings_error_listing_the_choices():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env("voting", {**BASE, "LMP_EVENT_LOOP": "trio"})

    assert str(raised.value) == "LMP_EVENT_LOOP must be uvloop or asyncio, not 'trio'"


def test_sharing_the_grpc_port_is_off_unless_asked_and_takes_only_true_or_false():
    assert Settings.from_env("voting", BASE).grpc_reuse_port is False
    assert Settings.from_env("voting", {**BASE, "LMP_GRPC_REUSE_PORT": "true"}).grpc_reuse_port
    with pytest.raises(SettingsError, match="LMP_GRPC_REUSE_PORT must be true or false, not 'si'"):
        Settings.from_env("voting", {**BASE, "LMP_GRPC_REUSE_PORT": "si"})


def test_command_threads_default_to_32_and_must_be_a_sane_count():
    assert Settings.from_env("kpi", BASE).command_threads == DEFAULT_COMMAND_THREADS == 32
    assert Settings.from_env("kpi", {**BASE, "LMP_COMMAND_THREADS": "8"}).command_threads == 8
    for wrong in ("0", "-3", "100000"):
        with pytest.raises(SettingsError, match=r"LMP_COMMAND_THREADS must be between 1 and 1024"):
            Settings.from_env("kpi", {**BASE, "LMP_COMMAND_THREADS": wrong})
