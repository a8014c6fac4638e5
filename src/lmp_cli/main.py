"""`lmp`: run the services, the embedded stack, and the operators' tools."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lmp_kit.auth import ALL_CITIES, READ_ALL_EVENTS_SCOPE, ROLES, issuer_of
from lmp_kit.settings import COMPONENTS, SERVICES, Settings, SettingsError

from lmp_cli.local import PortsTakenError, with_dev_secret

if TYPE_CHECKING:
    from lmp_kit.runtime import ServiceRuntime

# Each command imports what it needs when it runs: `lmp token` answers without loading gRPC,
# Kafka, MongoDB and the services (a third of a second instead of one and a half).


def build_runtime(service: str) -> ServiceRuntime:
    module = importlib.import_module(f"{service}.main")
    runtime: ServiceRuntime = module.build(Settings.from_env(service))
    return runtime


def serve(args: argparse.Namespace) -> int:
    components = {c.strip() for c in args.components.split(",") if c.strip()}
    unknown = components - COMPONENTS
    if unknown:
        print(
            f"unknown components {sorted(unknown)}; choose from {sorted(COMPONENTS)}",
            file=sys.stderr,
        )
        return 2
    return build_runtime(args.service).serve(components)


def dev_env() -> dict[str, str]:
    """The environment as `lmp up` gives it to services: the dev secret of the data dir."""
    return with_dev_secret(os.environ, Path(os.environ.get("LMP_DATA_DIR", ".lmp")))


DEFAULT_TOKEN_TTL_S = 3600
EVENTS_TOKEN_TTL_S = 300


def token(args: argparse.Namespace) -> int:
    settings = Settings.from_env("registry", dev_env())
    cities = [ALL_CITIES] if args.all_cities else args.city
    longest = int(settings.jwt_max_ttl_s)
    ttl = min(DEFAULT_TOKEN_TTL_S, longest) if args.ttl is None else args.ttl
    if not 0 < ttl <= longest:
        print(
            f"--ttl must be between 1 and {longest} seconds (LMP_JWT_MAX_TTL_S), not {ttl}: "
            "services refuse a token that lives longer",
            file=sys.stderr,
        )
        return 2
    print(
        issuer_of(settings).issue(
            args.subject, roles=args.role, cities=cities, scopes=args.scope, ttl_seconds=ttl
        )
    )
    return 0


def events(args: argparse.Namespace) -> int:
    import grpc  # noqa: PLC0415  # see the module's note on imports
    from lmp.common.v1 import events_pb2, events_pb2_grpc  # noqa: PLC0415
    from lmp_contracts import PUBLISHED  # noqa: PLC0415
    from lmp_kit.envelope import Envelope  # noqa: PLC0415

    if args.service not in PUBLISHED:
        print(f"{args.service} has no event store, hence no events", file=sys.stderr)
        return 2
    settings = Settings.from_env(args.service, dev_env())
    issuer = issuer_of(settings)
    after = args.after
    with grpc.insecure_channel(settings.endpoint.grpc_target) as channel:
        stub = events_pb2_grpc.EventLogStub(channel)
        while True:
            # An operator's token, fresh for every page: --follow outlives any one token.
            bearer = issuer.issue(
                "cli:events",
                roles=["programme_office"],
                cities=[ALL_CITIES],
                scopes=[READ_ALL_EVENTS_SCOPE],
                ttl_seconds=EVENTS_TOKEN_TTL_S,
            )
            response = stub.ReadEvents(
                events_pb2.ReadEventsRequest(after=after, limit=500),
                metadata=(("authorization", f"Bearer {bearer}"),),
                timeout=10,
            )
            for message in response.events:
                envelope = Envelope.from_proto(message)
                print(json.dumps(envelope.model_dump(mode="json"), ensure_ascii=False), flush=True)
            after = response.next_after
            if not response.events:
                if not args.follow:
                    return 0
                time.sleep(0.5)


def up(args: argparse.Namespace) -> int:
    # The embedded servers (lmp_devstack) are not in the production image: `lmp serve` runs
    # without them.
    from lmp_cli.stack import Restarts, StopSignals, embedded_stack  # noqa: PLC0415

    started = time.monotonic()
    with StopSignals() as signals:
        print("starting the embedded stack ...", flush=True)
        with embedded_stack(Path(args.data_dir), console=not args.no_console) as stack:
            elapsed = time.monotonic() - started
            print(f"all {len(stack.services)} services healthy in {elapsed:.1f} s", flush=True)
            print(f"  Kafka    {stack.env['KAFKA_BOOTSTRAP_SERVERS']}")
            print(f"  MongoDB  {stack.env['MONGODB_URI']}")
            for process in stack.services:
                endpoint = process.settings.endpoint
                print(
                    f"  {process.service:<14} gRPC {endpoint.grpc_target:<18} "
                    f"metrics http://127.0.0.1:{endpoint.metrics_port}/metrics"
                )
            if stack.console is not None:
                print(f"  Консоль: {stack.console.url}  (вход для разработки: роль и города)")
            print("a token for grpcurl:  lmp token --role programme_office --all-cities")
            print("a service that exits is restarted; press Ctrl-C to stop", flush=True)
            signals.wait(Restarts(stack.supervised, say=lambda line: print(line, flush=True)))
            print("stopping ...", flush=True)
            stopping = time.monotonic()
        print(f"stopped in {time.monotonic() - stopping:.1f} s", flush=True)
    return 0


def console(args: argparse.Namespace) -> int:
    # The web server and its pages only for this command.
    from lmp_console.server import serve as serve_console  # noqa: PLC0415
    from lmp_console.settings import ConsoleSettings  # noqa: PLC0415

    given = dict(os.environ)
    # The development sign-in is on by default only where the tokens are the data dir's
    # development ones (the embedded stack); a deployment names its JWT key.
    embedded = not given.get("LMP_JWT_SECRET") and not given.get("LMP_JWT_SECRET_FILE")
    if args.port is not None:
        given["LMP_CONSOLE_PORT"] = str(args.port)
    if args.host is not None:
        given["LMP_CONSOLE_HOST"] = args.host
    env = with_dev_secret(given, Path(given.get("LMP_DATA_DIR", ".lmp")))
    settings = ConsoleSettings.from_env(env, dev_signin_default=embedded)
    print(f"Консоль: {settings.url}", flush=True)
    return serve_console(settings)


def status(args: argparse.Namespace) -> int:
    from lmp_cli import status as status_module  # noqa: PLC0415  # gRPC only for this command

    return status_module.run(dev_env(), as_json=args.json, watch=args.watch, max_lag=args.max_lag)


def backup(args: argparse.Namespace) -> int:
    from lmp_cli import backup as backup_module  # noqa: PLC0415  # see the module's note on imports

    return backup_module.run_backup(Path(args.data_dir), Path(args.dir), os.environ)


def restore(args: argparse.Namespace) -> int:
    from lmp_cli import backup as backup_module  # noqa: PLC0415  # see the module's note on imports

    return backup_module.run_restore(
        Path(args.dir),
        Path(args.data_dir),
        os.environ,
        force=args.force,
        drop_read_models=args.drop_read_models,
    )


def rebuild(args: argparse.Namespace) -> int:
    from lmp_cli import rebuild as rebuild_module  # noqa: PLC0415  # MongoDB only for this command

    return rebuild_module.run(
        args.service,
        dev_env(),
        projection=args.projection,
        keep_old=args.keep_old,
        abandon=args.abandon,
    )


def demo(args: argparse.Namespace) -> int:
    from lmp_cli import demo as demo_module  # noqa: PLC0415  # heavy stubs only for this command

    return demo_module.run(args.residents, Path(args.data_dir), keep_running=args.keep_running)


def add_console_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    console_cmd = commands.add_parser(
        "console", help="run the web console (http, LMP_CONSOLE_HOST:LMP_CONSOLE_PORT)"
    )
    console_cmd.add_argument("--host", default=None, help="default LMP_CONSOLE_HOST or 127.0.0.1")
    console_cmd.add_argument(
        "--port", type=int, default=None, help="default LMP_CONSOLE_PORT or 8080"
    )
    console_cmd.set_defaults(run=console)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lmp", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    up_cmd = commands.add_parser("up", help="start the embedded stack and wait for Ctrl-C")
    up_cmd.add_argument("--data-dir", default=os.environ.get("LMP_DATA_DIR", ".lmp"))
    up_cmd.add_argument(
        "--no-console", action="store_true", help="without the web console (LMP_CONSOLE_PORT)"
    )
    up_cmd.set_defaults(run=up)

    add_console_command(commands)

    serve_cmd = commands.add_parser("serve", help="run one service in this process")
    serve_cmd.add_argument("service", choices=SERVICES)
    serve_cmd.add_argument("--components", default=",".join(sorted(COMPONENTS)))
    serve_cmd.set_defaults(run=serve)

    token_cmd = commands.add_parser("token", help="print a development JWT")
    token_cmd.add_argument("--subject", default="dev")
    token_cmd.add_argument(
        "--role", action="append", default=[], choices=sorted(ROLES), required=True
    )
    token_cmd.add_argument("--city", action="append", default=[])
    token_cmd.add_argument("--all-cities", action="store_true")
    token_cmd.add_argument("--scope", action="append", default=[])
    token_cmd.add_argument(
        "--ttl", type=int, default=None, help="seconds (default 3600, at most LMP_JWT_MAX_TTL_S)"
    )
    token_cmd.set_defaults(run=token)

    events_cmd = commands.add_parser("events", help="print a service's events as JSON lines")
    events_cmd.add_argument("service", choices=SERVICES)
    events_cmd.add_argument("--after", type=int, default=0)
    events_cmd.add_argument("--follow", "-f", action="store_true")
    events_cmd.set_defaults(run=events)

    status_cmd = commands.add_parser(
        "status", help="where each service of the running deployment stands"
    )
    status_cmd.add_argument("--json", action="store_true", help="one JSON array per round")
    status_cmd.add_argument(
        "--watch",
        type=float,
        nargs="?",
        const=2.0,
        default=None,
        metavar="SECONDS",
        help="repeat every SECONDS (default 2), with each follower's events/s",
    )
    status_cmd.add_argument(
        "--max-lag",
        type=int,
        default=0,
        help="exit code 1 when a follower is more events behind than this (default 0)",
    )
    status_cmd.set_defaults(run=status)

    backup_cmd = commands.add_parser(
        "backup", help="copy the SQLite event stores of a data dir, also while the stack runs"
    )
    backup_cmd.add_argument("dir", help="a new directory for the copies and their manifest")
    backup_cmd.add_argument("--data-dir", default=os.environ.get("LMP_DATA_DIR", ".lmp"))
    backup_cmd.set_defaults(run=backup)

    restore_cmd = commands.add_parser(
        "restore", help="put a backup's event stores into a data dir, checksums verified"
    )
    restore_cmd.add_argument("dir", help="a directory `lmp backup` made")
    restore_cmd.add_argument("--data-dir", default=os.environ.get("LMP_DATA_DIR", ".lmp"))
    restore_cmd.add_argument(
        "--force",
        action="store_true",
        help="restore over a data dir that holds stores (set aside in before-restore-<time>/)",
    )
    restore_cmd.add_argument(
        "--drop-read-models",
        action="store_true",
        help="with MONGODB_URI: drop the read models of LMP_MONGODB_DB_PREFIX to rebuild them",
    )
    restore_cmd.set_defaults(run=restore)

    rebuild_cmd = commands.add_parser(
        "rebuild",
        help="rebuild a service's read models into a new generation, compare, switch (blue/green)",
    )
    rebuild_cmd.add_argument("service", choices=SERVICES)
    rebuild_cmd.add_argument(
        "--projection",
        metavar="NAME",
        help="only one upstream's subscription, or one projection (its class or a collection)",
    )
    rebuild_cmd.add_argument(
        "--keep-old", action="store_true", help="keep the replaced generation's database"
    )
    rebuild_cmd.add_argument(
        "--abandon",
        action="store_true",
        help="drop an interrupted rebuild's generation instead of resuming it",
    )
    rebuild_cmd.set_defaults(run=rebuild)

    demo_cmd = commands.add_parser("demo", help="run one programme cycle of three cities")
    demo_cmd.add_argument("--residents", type=int, default=300, help="simulated residents per city")
    demo_cmd.add_argument("--data-dir", default=os.environ.get("LMP_DATA_DIR", ".lmp"))
    demo_cmd.add_argument("--keep-running", action="store_true")
    demo_cmd.set_defaults(run=demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except PortsTakenError as error:
        print(error, file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        if error.name != "lmp_devstack":
            raise
        print(
            "the embedded servers are not installed here (libs/devstack, the `embedded` extra)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
