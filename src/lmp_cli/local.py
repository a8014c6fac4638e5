"""What the local stack shares with the commands that run without its servers (`lmp token`,
`lmp events`, `lmp serve` in the production image, which has no `lmp_devstack`)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path


class PortsTakenError(RuntimeError):
    """A port the local stack would listen on answers already (another `lmp up`?)."""


def jwt_secret_file(data_dir: Path) -> Path:
    """The development signing secret of this data directory, made on first use."""
    path = data_dir / "jwt.secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path


def with_dev_secret(env: Mapping[str, str], data_dir: Path) -> dict[str, str]:
    """`env`, signing with the data directory's development secret unless it names a secret."""
    given = dict(env)
    if not given.get("LMP_JWT_SECRET") and not given.get("LMP_JWT_SECRET_FILE"):
        given["LMP_JWT_SECRET_FILE"] = str(jwt_secret_file(data_dir))
    return given
