from __future__ import annotations

from lmp_kit.domain import ServiceApplication


class KpiApplication(ServiceApplication):
    """Owns the KpiPeriod aggregates (city x month); the scorecard issue fills it in."""
