"""Announcements with live progress, survey results with downloads, registrations (personal data:
every view and download is audited) and the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.console import Console, SignedIn, staff_page
from bot.reports.exports import CSV_MIME, XLSX_MIME
from bot.storage.models_staff import DELIVERY_STATUSES
from bot.storage.repo import audit, broadcasts, registrations, surveys
from handlers.staff.survey_results import chart_png, load_surveys, summary_text, survey_exports

# Progress columns; "uncertain" is shown only where the delivery statuses know it.
PROGRESS = [("sent", "Đã gửi"), ("failed", "Lỗi"), ("blocked", "Bị chặn"), ("uncertain", "Chưa chắc"),
            ("quota", "Hết hạn mức"), ("cancelled", "Đã huỷ")]
STATUSES = {"draft": "Nháp", "scheduled": "Hẹn giờ", "sending": "Đang gửi", "done": "Xong", "cancelled": "Đã huỷ"}


def progress_row(report: broadcasts.BroadcastReport) -> dict[str, Any]:
    known = set(DELIVERY_STATUSES)
    counts = {key: report.count(key) for key, _ in PROGRESS if key in known}
    return {"id": report.id, "kind": report.kind, "status": report.status, "text": report.text,
            "send_at": report.send_at, "total": report.total, "pending": report.pending, "counts": counts,
            "done": report.status in ("done", "cancelled"), "status_label": STATUSES.get(report.status, report.status)}


class ReportPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    @property
    def surveys(self) -> dict[str, Any]:
        return load_surveys(self.console.app.config.knowledge.path)

    @staff_page
    async def announcements(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        rows = [progress_row(r) for r in await broadcasts.list_broadcasts(s, limit=30)]
        columns = [(k, label) for k, label in PROGRESS if k in DELIVERY_STATUSES]
        return self.console.render("announcements.html", signed=who, rows=rows, columns=columns, nav="ann",
                                   statuses=STATUSES, message=request.query.get("msg", ""),
                                   live=any(not r["done"] for r in rows))

    @staff_page
    async def progress(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        """JSON for the page's small refresher script."""
        rows = [progress_row(r) for r in await broadcasts.list_broadcasts(s, limit=30)]
        return web.json_response([{k: v for k, v in r.items() if k != "send_at" and k != "text"} for r in rows],
                                 headers={"Cache-Control": "no-store"})

    @staff_page
    async def survey_list(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        rows = [(sv, len(await surveys.completed_responses(s, sv.id))) for sv in self.surveys.values()]
        return self.console.render("surveys.html", signed=who, rows=rows, nav="surveys")

    @staff_page
    async def survey(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        survey = self.surveys.get(request.match_info["survey_id"])
        if survey is None:
            return self.console.refuse("Không có khảo sát này.", status=404)
        responses = await surveys.completed_responses(s, survey.id)
        summary = summary_text(survey, responses, await surveys.count_in_progress(s, survey.id))
        return self.console.render("survey.html", signed=who, survey=survey, summary=summary,
                                   count=len(responses), nav="surveys")

    @staff_page
    async def survey_chart(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        survey = self.surveys.get(request.match_info["survey_id"])
        if survey is None:
            return self.console.refuse("Không có khảo sát này.", status=404)
        png = chart_png(survey, await surveys.completed_responses(s, survey.id))
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})

    @staff_page
    async def survey_download(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        survey = self.surveys.get(request.match_info["survey_id"])
        fmt = request.match_info["fmt"]
        if survey is None or fmt not in ("csv", "xlsx"):
            return self.console.refuse("Không có tệp này.", status=404)
        csv_data, xlsx_data = await survey_exports(s, survey)
        await self.console.audit(s, who, "survey_export", survey=survey.id, format=fmt)
        if fmt == "csv":
            return self.console.file(csv_data, f"khao-sat-{survey.id}.csv", CSV_MIME, charset="utf-8")
        return self.console.file(xlsx_data, f"khao-sat-{survey.id}.xlsx", XLSX_MIME)

    @staff_page
    async def registration_list(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        rows = [r for r in await registrations.all_registrations(s) if r.status != "deleted"]
        await self.console.audit(s, who, "view_registrations", count=len(rows))
        return self.console.render("registrations.html", signed=who, rows=rows, nav="reg")

    @staff_page
    async def dossier(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        reg_id = int(request.match_info["reg_id"])
        record = next((r for r in await registrations.all_registrations(s) if r.id == reg_id), None)
        dossiers = self.console.app.dossiers
        if record is None or record.status == "deleted" or dossiers is None:
            return self.console.refuse("Không có hồ sơ này.", status=404)
        reply = dossiers.dossier_reply(record.kind, record.answers)
        await self.console.audit(s, who, "download_dossier", registration=reg_id)
        return self.console.file(reply.attachment.data, reply.attachment.filename, reply.attachment.mime)

    @staff_page
    async def audit_log(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        return self.console.render("audit.html", signed=who, rows=await audit.recent_actions(s, limit=200),
                                   nav="audit")

    def routes(self) -> list[web.RouteDef]:
        survey = "/admin/khao-sat/{survey_id}"
        return [web.get("/admin/thong-bao", self.announcements), web.get("/admin/thong-bao/tien-do", self.progress),
                web.get("/admin/khao-sat", self.survey_list), web.get(survey, self.survey),
                web.get(f"{survey}/bieu-do.png", self.survey_chart),
                web.get(f"{survey}/tai.{{fmt}}", self.survey_download),
                web.get("/admin/dang-ky", self.registration_list),
                web.get("/admin/dang-ky/{reg_id:\\d+}/ho-so.docx", self.dossier),
                web.get("/admin/nhat-ky", self.audit_log)]
