"""One aiohttp server for every webhook, the file download links, /healthz and /metrics."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot.admin.routes import admin_routes
from bot.app import App
from bot.metrics import CONTENT_TYPE, Metrics
from bot.storage.db import DatabaseUnavailable
from bot.storage.repo.files import get_file

APP_KEY = web.AppKey("htxbot_app", App)
METRICS_KEY = web.AppKey("htxbot_metrics", Metrics)
DB_TIMEOUT = 3.0  # seconds /healthz waits for the database


def build_web_app(app: App, routes: list[web.RouteDef] | None = None,
                  metrics: Metrics | None = None) -> web.Application:
    """The aiohttp application: channel webhook routes plus /healthz, /metrics and /files/{id}."""
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[APP_KEY] = app
    web_app[METRICS_KEY] = metrics or Metrics()
    web_app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics_page),
                        web.get("/files/{file_id}", download), *(routes or [])])
    web_app.add_routes(admin_routes(app))  # the staff console at /admin (bot/admin/routes.py)
    return web_app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers and every polling channel polled recently; 503 otherwise.

    A webhook channel's last call is reported but never makes the bot unhealthy: a quiet night
    brings no webhooks."""
    app, metrics = request.app[APP_KEY], request.app[METRICS_KEY]
    problems: list[str] = []
    try:
        await app.db.ping(DB_TIMEOUT)
        database = "ok"
    except DatabaseUnavailable as exc:
        database = str(exc)
        problems.append(f"database: {exc}")
    max_age = app.config.web.max_poll_age
    channels: dict[str, dict[str, object]] = {}
    for name, live in sorted(metrics.liveness.items()):
        age = live.age()
        stale = live.mode == "polling" and age > max_age
        if stale:
            problems.append(f"{name}: no successful poll for {age:.0f} s")
        channels[name] = {"mode": live.mode, "last_ok_age_seconds": round(age, 1), "ok": not stale}
    for name in sorted(set(app.channels) - set(channels)):
        channels[name] = {"mode": "unknown", "ok": True}
    for name, channel in sorted(app.channels.items()):
        report = getattr(channel, "health", None)  # a channel's own verdict, e.g. Zalo OA tokens lost
        if callable(report):
            state = report()
            channels.setdefault(name, {}).update(state)
            if not state.get("ok", True):
                problems.append(f"{name}: {state.get('problem') or 'degraded'}")
    body = {"ok": not problems, "database": database, "channels": channels, "problems": problems}
    return web.json_response(body, status=200 if not problems else 503)


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus text format (keep it off the public proxy: see docs/deploy.md)."""
    return web.Response(body=request.app[METRICS_KEY].render(), headers={"Content-Type": CONTENT_TYPE})


async def download(request: web.Request) -> web.Response:
    """Serve a stored file to whoever holds a valid, unexpired link for it.

    The signature is checked before the id is looked up, so that a prober learns nothing about which
    ids exist (403 for every bad link, 404 only for a genuine link whose file was deleted)."""
    app = request.app[APP_KEY]
    file_id = request.match_info["file_id"]
    if not app.links.verify(file_id, request.query.get("exp", ""), request.query.get("sig", "")):
        raise web.HTTPForbidden(text="Liên kết không hợp lệ hoặc đã hết hạn. Hãy yêu cầu bot gửi lại tệp.")
    async with app.db.unit() as s:
        record = await get_file(s, file_id)
    if record is None:
        raise web.HTTPNotFound(text="Tệp này không còn được lưu. Hãy yêu cầu bot gửi lại tệp.")
    disposition = f"attachment; filename*=UTF-8''{quote(record.filename)}"
    return web.Response(body=record.data, content_type=record.mime,  # dossiers hold personal data: no caching
                        headers={"Content-Disposition": disposition, "Cache-Control": "no-store, private",
                                 "X-Content-Type-Options": "nosniff"})


async def serve(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving; the caller keeps the runner and calls `cleanup()` on shutdown."""
    runner = web.AppRunner(web_app, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
