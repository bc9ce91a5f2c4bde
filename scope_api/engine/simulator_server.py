"""The provider simulator, served over real HTTP from inside the API process.

A ``simulator`` provider has no URL of its own: at start-up the app serves the
simulator (``providers.simulator``) with uvicorn on ``127.0.0.1`` and an
ephemeral port, in its own event loop, and executions reach it through the
real adapters over real HTTP, exactly like a hosted provider.

Only uvicorn's ``startup``/connection handling is used, not ``Server.serve``:
``serve`` would install SIGINT/SIGTERM handlers (taking them from the outer
``scope serve`` server), wakes up every 100 ms, and its ``shutdown`` always
sleeps 100 ms; none of that suits a server that lives and dies with an app
(the tests start hundreds). Nothing here touches the logging configuration,
and the simulator's requests are left out of the access log.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from scope_api.providers.simulator import create_simulator_app

log = logging.getLogger("scope_api")

#: How long stopping waits for requests in flight before cancelling them.
GRACEFUL_SHUTDOWN_S = 1.0


def _without_access_log(protocol_class: Any) -> Any:
    """The HTTP protocol class, minus its access-log lines (uvicorn logs them when the
    ``uvicorn.access`` logger has handlers, as it does under ``scope serve``)."""

    class QuietProtocol(protocol_class):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.access_log = False

    return QuietProtocol


class InProcessSimulator:
    """The simulator app on ``127.0.0.1:<ephemeral port>``; ``url`` once started."""

    def __init__(self, app: ASGIApp | None = None) -> None:
        self._app = app if app is not None else create_simulator_app()
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self.url: str | None = None

    async def start(self) -> str:
        """Listen and serve; return the base URL (``http://127.0.0.1:PORT``)."""
        # log_config/log_level None: leave the process's logging alone.
        config = uvicorn.Config(self._app, host="127.0.0.1", port=0, log_config=None,
                                log_level=None, lifespan="off", ws="none",
                                proxy_headers=False, server_header=False, date_header=False)
        config.load()
        config.http_protocol_class = _without_access_log(config.http_protocol_class)
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say
        # they are TCP, and without it each answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.bind(("127.0.0.1", 0))
            await server.startup(sockets=[sock])
        except BaseException:
            sock.close()
            raise
        self._server, self._socket = server, sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        """Stop listening, let requests in flight finish (briefly), close everything."""
        server, sock = self._server, self._socket
        if server is None or sock is None:
            return
        self._server = self._socket = None
        for listener in server.servers:
            listener.close()
        state = server.server_state
        for connection in list(state.connections):
            connection.shutdown()  # idle keep-alive connections close now
        if state.tasks:  # requests in flight: a moment to finish, then cancelled
            _, pending = await asyncio.wait(list(state.tasks), timeout=GRACEFUL_SHUTDOWN_S)
            for task in pending:
                task.cancel()
        for connection in list(state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()
        for listener in server.servers:
            await listener.wait_closed()
        sock.close()
