"""Surveys in the chat. Members: /khaosat (or the invitation's button "survey:start:<id>") answers one
question at a time with the generic wizard; they can stop and resume, and answer only once. Staff:
/guikhaosat <id> launches one to an audience like an announcement; /ketqua <id> replies with counts,
averages, a chart image and CSV + XLSX files.

State while answering: {"survey": id, "w": wizard data}. The wizard data is also saved on the response
row after every answer, so leaving for another flow (or a restart) loses nothing.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from bot.core.flow import Command, FlowSpec, Services, Turn
from bot.core.types import Attachment, Button, Reply
from bot.reports.exports import CSV_MIME, XLSX_MIME
from bot.storage.repo import surveys
from handlers.forms.wizard import CANCELLED, COMMANDS, DONE, Wizard, WizardResult
from handlers.staff.staff import MENU, audit_turn
from handlers.staff.survey_results import Survey, chart_png, load_surveys, summary_text, survey_exports

WIZARD_KEY = "_wizard"


class SurveyLauncher(Protocol):
    """What launching a survey needs: the announcement flow's audience, time and confirm steps."""

    async def begin_survey(self, turn: Turn, survey_id: str, invitation: str) -> list[Reply]: ...


class SurveyFlow:
    name = "survey"
    spec = FlowSpec(
        commands=(Command("khaosat", "Trả lời khảo sát"), Command("ketqua", "Kết quả khảo sát", staff=True),
                  Command("guikhaosat", "Gửi khảo sát", staff=True)),
        in_flow=COMMANDS, menu_label="📝 Khảo sát", staff_actions=frozenset({"results", "launch"}), private_only=True)

    def __init__(self, services: Services, announce: SurveyLauncher) -> None:
        """`announce` sends a survey's invitation to an audience, as an announcement."""
        self.services = services
        self.announce = announce
        self.surveys: dict[str, Survey] = load_surveys(services.config.knowledge.path)
        self.wizards = {sid: Wizard(s.form, self.name) for sid, s in self.surveys.items()}

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        command = turn.command
        if command == "ketqua":
            return await self.results(turn, arg.strip())
        if command == "guikhaosat":
            return await self.launch(turn, arg.strip())
        return await self.begin(turn, arg.strip())

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        if action == "w":
            data = copy.deepcopy(turn.state.data) if turn.state.flow == self.name else {}
            if data.get("survey") not in self.wizards:
                return [Reply("Lựa chọn này đã cũ. Gõ /khaosat để trả lời tiếp.", buttons=[MENU])]
            return await self.after(turn, data, self.wizards[data["survey"]].on_button(data["w"], arg))
        if action == "results":
            return await self.results(turn, arg)
        if action == "launch":
            return await self.launch(turn, arg)
        return await self.begin(turn, arg)

    async def handle(self, turn: Turn) -> list[Reply]:
        data = copy.deepcopy(turn.state.data)
        if data.get("survey") not in self.wizards:
            turn.finish()
            return [Reply("Gõ /khaosat để trả lời khảo sát.", buttons=[MENU])]
        return await self.after(turn, data, self.wizards[data["survey"]].on_text(data["w"], turn.incoming.text))

    # -- members -------------------------------------------------------------------------------

    def _pick(self, arg: str) -> Survey | None:
        if arg in self.surveys:
            return self.surveys[arg]
        return next(iter(self.surveys.values())) if len(self.surveys) == 1 and not arg else None

    async def begin(self, turn: Turn, arg: str) -> list[Reply]:
        survey = self._pick(arg)
        if survey is None:
            buttons = [Button(s.form.title, f"survey:start:{sid}") for sid, s in self.surveys.items()]
            return [Reply("Bạn chọn khảo sát muốn trả lời:" if buttons else "Hiện chưa có khảo sát nào.",
                          buttons=buttons or [MENU])]
        status = await surveys.response_status(turn.db, survey.id, turn.user.id)
        if status == surveys.COMPLETED:
            return [Reply("Bạn đã trả lời khảo sát này rồi. Cảm ơn bạn! Mỗi người trả lời một lần.", buttons=[MENU])]
        wizard = self.wizards[survey.id]
        saved = await self._saved_wizard(turn, survey.id) if status else None
        if saved is not None:
            turn.begin(self.name, {"survey": survey.id, "w": saved})
            return [Reply("Mời bạn trả lời tiếp từ câu đang dở."), *wizard.resume(copy.deepcopy(saved))]
        data: dict[str, Any] = {"survey": survey.id, "w": wizard.new_state()}
        result = wizard.start(data["w"])
        turn.begin(self.name, data)
        await surveys.save_progress(turn.db, survey.id, turn.user, {WIZARD_KEY: data["w"]})
        hint = "Bạn có thể dừng bất cứ lúc nào và gõ /khaosat để trả lời tiếp; /boqua để bỏ qua câu không bắt buộc."
        return [Reply(f"{survey.invitation}\n\n{hint}"), *result.replies]

    async def _saved_wizard(self, turn: Turn, survey_id: str) -> dict[str, Any] | None:
        if turn.state.flow == self.name and turn.state.data.get("survey") == survey_id:
            return copy.deepcopy(turn.state.data["w"])
        records = await surveys.in_progress_answers(turn.db, survey_id, turn.user.id)
        return records.get(WIZARD_KEY) if records else None

    async def after(self, turn: Turn, data: dict[str, Any], result: WizardResult) -> list[Reply]:
        survey = self.surveys[data["survey"]]
        if result.status == CANCELLED:
            turn.finish()
            return [Reply("Đã dừng. Các câu đã trả lời được giữ lại; gõ /khaosat để trả lời tiếp.", buttons=[MENU])]
        if result.status == DONE:
            answers = self.wizards[survey.id].answers(data["w"])
            await surveys.complete_response(turn.db, survey.id, turn.user, answers)
            turn.finish()
            return [Reply(survey.thanks, buttons=[MENU])]
        await surveys.save_progress(turn.db, survey.id, turn.user, {WIZARD_KEY: data["w"]})
        turn.state.data = data
        return result.replies

    # -- staff ---------------------------------------------------------------------------------

    async def launch(self, turn: Turn, arg: str) -> list[Reply]:
        survey = self.surveys.get(arg)
        if survey is None:
            return [Reply("Chọn khảo sát cần gửi:", buttons=[Button(s.form.title, f"survey:launch:{sid}")
                                                            for sid, s in self.surveys.items()] or [MENU])]
        return await self.announce.begin_survey(turn, survey.id, survey.invitation)

    async def results(self, turn: Turn, arg: str) -> list[Reply]:
        survey = self.surveys.get(arg) or (self._pick("") if not arg else None)
        if survey is None:
            return [Reply("Xem kết quả khảo sát nào?", buttons=[Button(s.form.title, f"survey:results:{sid}")
                                                              for sid, s in self.surveys.items()] or [MENU])]
        responses = await surveys.completed_responses(turn.db, survey.id)
        waiting = await surveys.count_in_progress(turn.db, survey.id)
        csv_data, xlsx_data = await survey_exports(turn.db, survey)
        await audit_turn(turn, "survey_results", survey_id=survey.id, responses=len(responses))
        return [Reply(summary_text(survey, responses, waiting)),
                Reply("Biểu đồ:", attachment=Attachment(f"{survey.id}.png", chart_png(survey, responses),
                                                        "image/png", "image")),
                Reply("Số liệu từng người trả lời (CSV):",
                      attachment=Attachment(f"{survey.id}.csv", csv_data, CSV_MIME)),
                Reply("Bảng tính Excel (trả lời, tổng hợp, ý kiến, góp ý theo chủ đề):",
                      attachment=Attachment(f"{survey.id}.xlsx", xlsx_data, XLSX_MIME), buttons=[MENU])]
