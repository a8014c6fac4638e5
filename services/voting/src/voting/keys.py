"""Per-city pseudonym keys: a resident's id becomes HMAC-SHA256(city key, id), nothing else.

Configured by, in order of precedence:
- ``LMP_VOTING_PSEUDONYM_KEYS_FILE``: a JSON object {city id: secret} for the cities it names;
- ``LMP_VOTING_PSEUDONYM_KEY`` (or ``..._KEY_FILE``): a master key; a city's key is
  HMAC-SHA256(master, "lmp:voting:pseudonym-key:<city id>");
- neither, with an embedded event store (SQLite or memory): a random master key made once in
  the data directory (``voting.pseudonym.key``, mode 600). With PostgreSQL a key is required.

Changing a key changes every pseudonym of its city, so one-person-one-vote would not hold across
the change: rotate only between polls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lmp_kit.settings import Settings, SettingsError, read_secret

KEYS_FILE = "LMP_VOTING_PSEUDONYM_KEYS_FILE"
MASTER_KEY = "LMP_VOTING_PSEUDONYM_KEY"
MIN_SECRET = 16


@dataclass(frozen=True)
class PseudonymKeys:
    master: bytes
    per_city: Mapping[str, bytes] = field(default_factory=dict)

    def of(self, city_id: str) -> bytes:
        found = self.per_city.get(city_id)
        if found is not None:
            return found
        label = f"lmp:voting:pseudonym-key:{city_id}".encode()
        return hmac.new(self.master, label, hashlib.sha256).digest()

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str] | None = None) -> PseudonymKeys:
        env = os.environ if env is None else env
        per_city = _per_city(env.get(KEYS_FILE, "").strip())
        master = _secret(env, MASTER_KEY)
        if not master:
            master = _embedded_master(settings)
        return cls(master=master.encode(), per_city=per_city)


def _per_city(path: str) -> dict[str, bytes]:
    if not path:
        return {}
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        msg = f"{KEYS_FILE}={path!r} is not a readable JSON file: {error}"
        raise SettingsError(msg) from None
    if not isinstance(raw, dict) or not all(
        isinstance(v, str) and len(v) >= MIN_SECRET for v in raw.values()
    ):
        msg = f"{KEYS_FILE} must hold {{city id: secret of {MIN_SECRET}+ characters}}"
        raise SettingsError(msg)
    return {str(k): v.encode() for k, v in raw.items()}


def _secret(env: Mapping[str, str], key: str) -> str:
    value = read_secret(env, key)
    if value and len(value) < MIN_SECRET:
        msg = f"{key} must be at least {MIN_SECRET} characters"
        raise SettingsError(msg)
    return value


def _embedded_master(settings: Settings) -> str:
    if settings.event_store == "postgres":
        msg = (
            f"voting needs a pseudonym key with PostgreSQL: set {MASTER_KEY} (or "
            f"{MASTER_KEY}_FILE) or {KEYS_FILE}"
        )
        raise SettingsError(msg)
    if settings.event_store == "memory":
        return secrets.token_urlsafe(32)
    path = settings.data_dir / "voting.pseudonym.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()
