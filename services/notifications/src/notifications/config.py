"""The notification service's own settings, read from the environment next to the kit's."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lmp_kit.settings import SettingsError

from notifications.targets import WebhookTargets


@dataclass(frozen=True)
class DeliverySettings:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "LMP <notifications@lmp.local>"
    smtp_timeout_s: float = 10.0
    webhook_timeout_s: float = 5.0
    webhook_allow_private: bool = False
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 600.0
    poll_interval_s: float = 0.5
    concurrency: int = 4
    reminder_interval_s: float = 60.0
    reminder_day: int = 20
    activity_grace_days: int = 2
    metrics_interval_s: float = 5.0

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery is hidden from other workers: longer than one attempt."""
        return 2 * max(self.webhook_timeout_s, self.smtp_timeout_s) + 5

    @property
    def webhook_targets(self) -> WebhookTargets:
        return WebhookTargets(self.webhook_allow_private, self.webhook_timeout_s)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliverySettings:
        env = os.environ if env is None else env
        default = cls()
        values: dict[str, object] = {}
        for name, variable in VARIABLES.items():
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            kind = type(getattr(default, name))
            if kind is bool:
                values[name] = flag(variable, raw)
                continue
            try:
                values[name] = kind(raw)
            except ValueError:
                msg = (
                    f"{variable} must be {'an integer' if kind is int else 'a number'}, not {raw!r}"
                )
                raise SettingsError(msg) from None
        settings = cls(**values)  # type: ignore[arg-type]  # each value converted to its field's type
        if settings.max_attempts < 1 or settings.concurrency < 1:
            msg = "LMP_DELIVERY_MAX_ATTEMPTS and LMP_DELIVERY_CONCURRENCY must be at least 1"
            raise SettingsError(msg)
        if not 1 <= settings.reminder_day <= 28:  # noqa: PLR2004  # every month has day 28
            msg = "LMP_REMINDER_DAY must be a day of the month from 1 to 28"
            raise SettingsError(msg)
        return settings


def flag(variable: str, raw: str) -> bool:
    if raw.lower() in ("0", "false", "no"):
        return False
    if raw.lower() in ("1", "true", "yes"):
        return True
    msg = f"{variable} must be true or false, not {raw!r}"
    raise SettingsError(msg)


VARIABLES = {
    "smtp_host": "LMP_SMTP_HOST",
    "smtp_port": "LMP_SMTP_PORT",
    "smtp_sender": "LMP_SMTP_FROM",
    "smtp_timeout_s": "LMP_SMTP_TIMEOUT_S",
    "webhook_timeout_s": "LMP_WEBHOOK_TIMEOUT_S",
    "webhook_allow_private": "LMP_WEBHOOK_ALLOW_PRIVATE",
    "max_attempts": "LMP_DELIVERY_MAX_ATTEMPTS",
    "backoff_base_s": "LMP_DELIVERY_BACKOFF_BASE_S",
    "backoff_cap_s": "LMP_DELIVERY_BACKOFF_CAP_S",
    "poll_interval_s": "LMP_DELIVERY_POLL_INTERVAL_S",
    "concurrency": "LMP_DELIVERY_CONCURRENCY",
    "reminder_interval_s": "LMP_REMINDER_INTERVAL_S",
    "reminder_day": "LMP_REMINDER_DAY",
    "activity_grace_days": "LMP_ACTIVITY_GRACE_DAYS",
    "metrics_interval_s": "LMP_NOTIFICATIONS_METRICS_INTERVAL_S",
}
