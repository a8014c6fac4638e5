"""The federation library, a practice's passport and its lineage (H3)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
