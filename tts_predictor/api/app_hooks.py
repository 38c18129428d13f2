"""Two things several routers do to the app: serve a static page at ``/path/`` (``/path`` redirects there), and run
a background service for the life of the app (started and stopped inside its lifespan)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse


def add_page(app: FastAPI, path: str, file: Path) -> None:
    """GET ``path/`` answers `file` (HTML, never cached: a new release shows at once); GET ``path`` redirects."""

    async def page() -> FileResponse:
        return FileResponse(file, media_type="text/html", headers={"Cache-Control": "no-cache"})

    async def redirect() -> RedirectResponse:
        return RedirectResponse(f"{path}/")

    app.add_api_route(path, redirect, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{path}/", page, methods=["GET"], include_in_schema=False)


def run_with_app(app: Any, start: Callable[[], None], stop: Callable[[], None], *, stop_blocks: bool = False) -> None:
    """Call `start` when the app starts and `stop` when it stops, inside whatever lifespan the app already has;
    `stop_blocks`: `stop` does blocking I/O (a final flush) and runs in a worker thread, else on the event loop
    (where cancelling the service's tasks must happen)."""
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with outer(application) as state:
            start()
            try:
                yield state
            finally:
                if stop_blocks:
                    await asyncio.to_thread(stop)
                else:
                    stop()

    app.router.lifespan_context = lifespan
