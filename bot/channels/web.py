"""One aiohttp server for every webhook, the file download links and /healthz."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot.admin.routes import admin_routes
from bot.app import App
from bot.storage.repo.files import get_file

APP_KEY = web.AppKey("htxbot_app", App)


def build_web_app(app: App, routes: list[web.RouteDef] | None = None) -> web.Application:
    """The aiohttp application: channel webhook routes plus GET /healthz and GET /files/{id}."""
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[APP_KEY] = app
    web_app.add_routes([web.get("/healthz", healthz), web.get("/files/{file_id}", download), *(routes or [])])
    web_app.add_routes(admin_routes(app))  # the staff console at /admin (bot/admin/routes.py)
    return web_app


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "channels": sorted(request.app[APP_KEY].channels)})


async def download(request: web.Request) -> web.Response:
    """Serve a stored file to whoever holds a valid, unexpired link made for its owner."""
    app = request.app[APP_KEY]
    file_id = request.match_info["file_id"]
    async with app.db.unit() as s:
        record = await get_file(s, file_id)
    if record is None:
        raise web.HTTPNotFound(text="Không tìm thấy tệp.")
    if not app.links.verify(file_id, record.owner_external_id, request.query.get("exp", ""),
                            request.query.get("sig", "")):
        raise web.HTTPForbidden(text="Liên kết không hợp lệ hoặc đã hết hạn. Hãy yêu cầu bot gửi lại tệp.")
    disposition = f"attachment; filename*=UTF-8''{quote(record.filename)}"
    return web.Response(body=record.data, content_type=record.mime,
                        headers={"Content-Disposition": disposition})


async def serve(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving; the caller keeps the runner and calls `cleanup()` on shutdown."""
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
