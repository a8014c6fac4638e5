from __future__ import annotations

from lmp_kit.domain import ServiceApplication


class VotingApplication(ServiceApplication):
    """The voting use cases; its issue fills them in."""
