"""A real HTTP webhook receiver on 127.0.0.1 for tests: records requests, answers what it is told."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Serve POSTs; `responses[path]` is a list of (status, headers, delay_s) consumed in order."""

    requests: list[Received] = field(default_factory=list)
    responses: dict[str, list[tuple[int, dict[str, str], float]]] = field(default_factory=dict)
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(Received(request.url.path, {k.lower(): v for k, v in request.headers.items()}, body))
        self.arrived.set()
        queue = self.responses.get(request.url.path)
        status, headers, delay = queue.pop(0) if queue else (200, {}, 0.0)
        if delay:
            await asyncio.sleep(delay)
        return Response(b"ok" if status < 300 else b"nope", status_code=status, headers=headers)

    async def __aenter__(self) -> Receiver:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server and self._task
        self._server.should_exit = True
        await self._task

    async def wait_for(self, n: int, path: str = "/hook", timeout: float = 30.0) -> list[Received]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.on(path)) < n:
            if loop.time() > deadline:
                raise TimeoutError(f"{len(self.on(path))}/{n} requests on {path} after {timeout}s")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.5)
        return self.on(path)
