"""What the local stack shares with the commands that run without its servers (`lmp token`,
`lmp events`, `lmp serve` in the production image, which has no `lmp_devstack`)."""

from __future__ import annotations

import secrets
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
