from __future__ import annotations

from lmp_kit.domain import ServiceApplication


class ExpertiseApplication(ServiceApplication):
    """The expertise use cases; its issue fills them in."""
