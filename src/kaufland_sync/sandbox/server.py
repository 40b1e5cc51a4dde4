"""Running the sandbox over real HTTP: ``serve`` for the CLI, ``RunningSandbox`` for tests and
benchmarks (uvicorn in a background thread on a free loopback port)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from kaufland_sync.sandbox.app import SimulatedReset, create_app
from kaufland_sync.sandbox.world import SandboxConfig, World


class _DropSimulatedResets(logging.Filter):
    """uvicorn logs every aborted response as an error; injected resets are not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedReset)


def _quiet_resets() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropSimulatedResets) for f in logger.filters):
        logger.addFilter(_DropSimulatedResets())


def _uvicorn_config(app: Starlette, host: str, port: int, log_level: str) -> uvicorn.Config:
    _quiet_resets()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level == "debug",
        # The app sets Date from the sandbox clock (which may be skewed on purpose).
        date_header=False,
        server_header=False,
        lifespan="on",
    )


def serve(
    config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765, log_level: str = "info"
) -> None:
    """Run the sandbox until interrupted (blocking)."""
    uvicorn.Server(_uvicorn_config(create_app(config), host, port, log_level)).run()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RunningSandbox:
    """A sandbox served by uvicorn on ``127.0.0.1:<free port>`` in a background thread.

    Usage::

        with RunningSandbox(config) as sandbox:
            client = KauflandClient(..., base_url=sandbox.base_url)
            sandbox.world  # the live World, for assertions (same process, same objects)

    ``base_url`` ends in ``/v2``; ``root_url`` is the server root (``/_sandbox/...`` lives
    there). Without ``config.public_base_url`` signatures are checked against
    ``http://127.0.0.1:PORT``, which is what clients calling ``base_url`` sign."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        world: World | None = None,
        port: int | None = None,
        log_level: str = "warning",
        start_timeout: float = 10.0,
    ) -> None:
        self.config = config
        self.port = port or _free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/v2"
        self.app = create_app(config, world=world)
        self.world: World = self.app.state.sandbox.world
        uconfig = _uvicorn_config(self.app, "127.0.0.1", self.port, log_level)
        self._server = uvicorn.Server(uconfig)
        self._thread: threading.Thread | None = None
        self._start_timeout = start_timeout

    def start(self) -> RunningSandbox:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="kaufland-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def _run(self) -> None:
        # A fresh event loop in this thread; uvicorn's signal handlers only install in the
        # main thread, so this does not steal Ctrl-C from the caller.
        asyncio.run(self._server.serve())

    def stop(self) -> None:
        """Shut down (runs the app's shutdown: notifier stop, state file save) and join."""
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._thread = None

    def __enter__(self) -> RunningSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
