"""The operations listener (aiohttp, I/O): `/metrics`, `/healthz` and `/readyz` on their own
host and port (`[metrics]`, default 127.0.0.1:9108), never on the public port. Only this
module serves them; what they say is decided in `core.metrics` and `core.health`.
"""

from __future__ import annotations

from aiohttp import web

from core import health as health_mod
from core.health import Health
from core.metrics import CONTENT_TYPE, Metrics, MetricsSettings

METRICS = web.AppKey("ops_metrics", Metrics)
HEALTH = web.AppKey("ops_health", Health)


def health_response(verdict: health_mod.Verdict) -> web.Response:
    """A health verdict as a plain-text answer (503 with the reason when not ready)."""
    status, text = verdict.answer()
    response = web.Response(status=status, text=text, content_type=health_mod.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].exposition()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


async def _healthz(request: web.Request) -> web.Response:
    return health_response(request.app[HEALTH].alive())


async def _readyz(request: web.Request) -> web.Response:
    return health_response(request.app[HEALTH].ready())


def make_app(metrics: Metrics, health: Health) -> web.Application:
    """The operations application."""
    app = web.Application(client_max_size=1024)
    app[METRICS] = metrics
    app[HEALTH] = health
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    return app


class OpsServer:
    """A running operations listener: `.port` is the bound port; `close()` stops it."""

    def __init__(self, runner: web.AppRunner, port: int) -> None:
        self._runner = runner
        self.port = port

    async def close(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()


async def start(
    metrics: Metrics, health: Health, settings: MetricsSettings, *, reuse_port: bool = False
) -> OpsServer:
    """Listen on `settings.host`:`settings.port`; OSError when the port cannot be bound.
    `reuse_port`: every worker of `rdds serve --workers N` binds the one port (SO_REUSEPORT)
    and answers for all of them (`core.metrics`: multiprocess mode; `core.fleet`)."""
    runner = web.AppRunner(make_app(metrics, health), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(
        runner, settings.host, settings.port, reuse_address=True, reuse_port=reuse_port or None
    )
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    return OpsServer(runner, site.port)
