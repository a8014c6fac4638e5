"""Serving the console with uvicorn (`lmp console`, and `lmp up` beside the services)."""

from __future__ import annotations

import uvicorn

from lmp_console.app import create_app
from lmp_console.settings import ConsoleSettings


def serve(settings: ConsoleSettings) -> int:
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
    return 0
