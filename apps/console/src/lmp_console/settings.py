"""The console's settings, read once from the environment beside the platform's own
(the services' targets and the JWT key it signs its users' tokens with)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lmp_kit.auth import TokenIssuer, issuer_of
from lmp_kit.settings import SERVICES, Settings, SettingsError, read_secret

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# A session lives a working day; the tokens minted from it for each call live a few minutes.
SESSION_MAX_AGE_S = 12 * 3600
CALL_TOKEN_TTL_S = 300
GRPC_TIMEOUT_S = 10.0
SESSION_SECRET_FILE = "console.secret"  # noqa: S105  # a file name, not a secret


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    roles_claim: str
    cities_claim: str
    scope: str

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ConsoleSettings:
    host: str
    port: int
    session_secret: str
    session_max_age_s: int
    https_only: bool
    dev_signin: bool
    oidc: OidcSettings | None
    targets: Mapping[str, str]
    issuer: TokenIssuer
    call_token_ttl_s: int
    grpc_timeout_s: float
    data_dir: Path

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}/"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, dev_signin_default: bool = False
    ) -> ConsoleSettings:
        """`dev_signin_default` is true only for the embedded stack (`lmp up`, `lmp demo`,
        `lmp console` on a development data dir); a deployment turns it on explicitly or never."""
        env = os.environ if env is None else env
        platform = Settings.from_env("registry", env)
        data_dir = platform.data_dir
        port_text = env.get("LMP_CONSOLE_PORT", "").strip() or str(DEFAULT_PORT)
        try:
            port = int(port_text)
        except ValueError:
            msg = f"LMP_CONSOLE_PORT must be a port number, not {port_text!r}"
            raise SettingsError(msg) from None
        dev_signin = _flag(env, "LMP_CONSOLE_DEV_SIGNIN", default=dev_signin_default)
        return cls(
            host=env.get("LMP_CONSOLE_HOST", "").strip() or DEFAULT_HOST,
            port=port,
            session_secret=_session_secret(env, data_dir, made_here=dev_signin),
            session_max_age_s=SESSION_MAX_AGE_S,
            https_only=_flag(env, "LMP_CONSOLE_HTTPS_ONLY", default=False),
            dev_signin=dev_signin,
            oidc=_oidc(env),
            targets={name: platform.endpoints[name].grpc_target for name in SERVICES},
            issuer=issuer_of(platform),
            call_token_ttl_s=CALL_TOKEN_TTL_S,
            grpc_timeout_s=GRPC_TIMEOUT_S,
            data_dir=data_dir,
        )


def _oidc(env: Mapping[str, str]) -> OidcSettings | None:
    issuer = env.get("LMP_CONSOLE_OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    client_id = env.get("LMP_CONSOLE_OIDC_CLIENT_ID", "").strip()
    if not client_id:
        msg = "LMP_CONSOLE_OIDC_ISSUER is set, so LMP_CONSOLE_OIDC_CLIENT_ID is needed too"
        raise SettingsError(msg)
    if not issuer.startswith(("https://", "http://")):
        msg = f"LMP_CONSOLE_OIDC_ISSUER must be the provider's URL (https://...), not {issuer!r}"
        raise SettingsError(msg)
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=read_secret(env, "LMP_CONSOLE_OIDC_CLIENT_SECRET"),
        roles_claim=env.get("LMP_CONSOLE_OIDC_ROLES_CLAIM", "").strip() or "roles",
        cities_claim=env.get("LMP_CONSOLE_OIDC_CITIES_CLAIM", "").strip() or "cities",
        scope=env.get("LMP_CONSOLE_OIDC_SCOPE", "").strip() or "openid profile",
    )


def _flag(env: Mapping[str, str], key: str, *, default: bool) -> bool:
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    msg = f"{key} must be true or false, not {raw!r}"
    raise SettingsError(msg)


def _session_secret(env: Mapping[str, str], data_dir: Path, *, made_here: bool) -> str:
    """LMP_CONSOLE_SESSION_SECRET(_FILE); on the embedded stack (`made_here`) else one made
    once in the data dir, as the development JWT secret is: sessions survive a restart. A
    deployment must name one: replicas that each made their own would refuse each other's
    sessions."""
    given = read_secret(env, "LMP_CONSOLE_SESSION_SECRET")
    if given:
        return given
    if not made_here:
        msg = (
            "the console needs a session key: set LMP_CONSOLE_SESSION_SECRET_FILE (a file "
            "holding a random key of at least 32 bytes, mounted from a secret) or "
            "LMP_CONSOLE_SESSION_SECRET; every replica must use the same key"
        )
        raise SettingsError(msg)
    path = data_dir / SESSION_SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
