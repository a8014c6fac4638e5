from __future__ import annotations

from lmp_kit.domain import ServiceApplication


class NotificationsApplication(ServiceApplication):
    """The notifications use cases; its issue fills them in."""
