"""Guided registration of a new HTX or THT: intro → type → consent → wizard → summary → .docx dossier.

The questions are data (knowledge/forms/htx.yaml, tht.yaml) run by the generic wizard; this flow adds the
consent step, keeps a draft row per registration, builds the dossier, lists the user's dossiers and erases
their data on request. Flow state: {"stage": intro|consent|wizard, "kind", "reg_id"}. Where the form stands
(the wizard state) is kept in one place only: the draft row, read and written on every answer.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from bot.config import PACKAGE_ROOT
from bot.core.flow import MENU_BUTTON as MENU
from bot.core.flow import Command, Flow, FlowSpec, Services, Turn
from bot.core.types import Attachment, Button, Reply
from bot.documents.dossier import DOCX_MIME, build_dossier
from bot.storage.repo import registrations as repo
from bot.text import fold, small_number
from handlers.forms.wizard import CANCELLED, DONE, Wizard, WizardResult
from handlers.forms.wizard import COMMANDS as WIZARD_COMMANDS
from handlers.forms.wizard_form import Form, load_form
from handlers.forms.wizard_rules import route_of
from handlers.qa.qa import answer_question
from handlers.registration import registration_texts as T

KINDS = ("htx", "tht")
SHORT_ANSWER_CHARS = 700


def forms_dir(services: Services) -> Path:
    """knowledge/forms next to the configured knowledge base, else the shipped one (tests use a small KB)."""
    configured = Path(services.config.knowledge.path) / "forms"
    return configured if (configured / "htx.yaml").is_file() else PACKAGE_ROOT / "knowledge" / "forms"


class RegistrationFlow:
    """/dangky, /hosocuatoi, /xoadulieu and the "reg:*" buttons."""

    name = "reg"
    spec = FlowSpec(
        commands=(Command("dangky", "Đăng ký thành lập HTX/THT", typed=("dang ky",)),
                  Command("hosocuatoi", "Hồ sơ đăng ký đã làm"), Command("xoadulieu", "Xoá dữ liệu của tôi")),
        in_flow=WIZARD_COMMANDS, menu_label="📝 Đăng ký thành lập HTX/THT", private_only=True)

    def __init__(self, services: Services, questions: Flow) -> None:
        """`questions` answers what users type that is not part of a registration (the Q&A flow)."""
        self.services = services
        self.questions = questions
        folder = forms_dir(services)
        self.forms: dict[str, Form] = {kind: load_form(folder / f"{kind}.yaml") for kind in KINDS}
        self.wizards = {kind: Wizard(form, self.name, answerer=self.short_answer) for kind, form in self.forms.items()}

    def short_answer(self, text: str) -> str | None:
        """A knowledge-base answer to a question typed mid-form, shortened; None when not sure."""
        answer = answer_question(self.services, text)
        if not answer.answered or not answer.replies:
            return None
        body = answer.replies[0].text
        return body if len(body) <= SHORT_ANSWER_CHARS else body[:SHORT_ANSWER_CHARS].rsplit(" ", 1)[0] + " …"

    # --- entry points -----------------------------------------------------------------------------

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        command = turn.command
        if command == "hosocuatoi":
            return await self.my_registrations(turn)
        if command == "xoadulieu":
            return [self.erase_question()]
        return await self.intro_or_resume(turn)

    async def handle(self, turn: Turn) -> list[Reply]:
        data = copy.deepcopy(turn.state.data)  # nested dicts: give the state a fresh object to save
        text = turn.incoming.text
        if data.get("stage") == "wizard":
            state = await self.form_state(turn, data)
            if state is None:
                return self.lost(turn)
            return await self.after_wizard(turn, data, state, self.wizards[data["kind"]].on_text(state, text))
        if text.strip().startswith("/"):  # /huy, /quaylai … before the form has started
            turn.finish()
            return [Reply(T.STOPPED, buttons=[MENU])]
        kind = self.kind_from_text(text)
        if data.get("stage") == "intro" and kind:
            return self.ask_consent(turn, kind)
        if data.get("stage") == "consent" and fold(text).strip() in ("co", "dong y", "ok", "u", "vang"):
            return await self.begin_wizard(turn, data["kind"])
        turn.finish()
        return await self.questions.handle(turn)  # anything else is a question

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        data = copy.deepcopy(turn.state.data) if turn.state.flow == self.name else {}
        if action == "w":
            state = await self.form_state(turn, data) if data.get("stage") == "wizard" else None
            if state is None:
                return [Reply("Lựa chọn này đã cũ. Gõ /dangky để tiếp tục.", buttons=[MENU])]
            return await self.after_wizard(turn, data, state, self.wizards[data["kind"]].on_button(state, arg))
        if action == "kind" and arg in KINDS:
            return self.ask_consent(turn, arg)
        if action == "consent" and data.get("stage") == "consent":
            if arg == "yes":
                return await self.begin_wizard(turn, data["kind"])
            return await self.no_consent(turn, data["kind"])
        if action == "guide":
            turn.finish()
            return await self.blank_with_note(turn, "htx")
        if action == "file":
            return await self.send_file(turn, arg)
        if action == "my":
            return await self.my_registrations(turn)
        if action == "erase":
            return await self.erase(turn, arg)
        return await self.intro_or_resume(turn)

    # --- stages -------------------------------------------------------------------------------

    async def intro_or_resume(self, turn: Turn) -> list[Reply]:
        """Resume the form where the user left it (even after the menu, another flow or a restart)."""
        draft = await repo.latest_draft(turn.db, turn.incoming.channel, turn.incoming.user_id)
        if draft is not None and draft.kind in self.wizards:
            turn.begin(self.name, {"stage": "wizard", "kind": draft.kind, "reg_id": draft.id})
            return [Reply(T.RESUMED), *self.wizards[draft.kind].resume(draft.wizard_state)]
        turn.begin(self.name, {"stage": "intro"})
        return [Reply(T.INTRO, buttons=[Button("🏢 Lập hợp tác xã (HTX)", "reg:kind:htx"),
                                        Button("👥 Lập tổ hợp tác (THT)", "reg:kind:tht"),
                                        Button("📄 Chỉ xem hướng dẫn, hồ sơ trống", "reg:guide"),
                                        Button("📂 Hồ sơ của tôi", "reg:my")])]

    def kind_from_text(self, text: str) -> str | None:
        folded = fold(text)
        if re.search(r"\b(tht|to hop tac)\b", folded):
            return "tht"
        if re.search(r"\b(htx|hop tac xa)\b", folded):
            return "htx"
        return None

    def ask_consent(self, turn: Turn, kind: str) -> list[Reply]:
        turn.begin(self.name, {"stage": "consent", "kind": kind})
        return [Reply(T.CONSENT, buttons=[Button("✅ Đồng ý", "reg:consent:yes"),
                                          Button("❌ Không đồng ý", "reg:consent:no")])]

    async def no_consent(self, turn: Turn, kind: str) -> list[Reply]:
        turn.finish()
        return await self.blank_with_note(turn, kind)

    async def blank_with_note(self, turn: Turn, kind: str) -> list[Reply]:
        """The blank dossier; if an earlier draft is still stored, say so instead of "nothing is stored"."""
        draft = await repo.latest_draft(turn.db, turn.incoming.channel, turn.incoming.user_id)
        return self.blank_dossier(kind, T.NO_CONSENT_WITH_DRAFT if draft else T.NO_CONSENT)

    def blank_dossier(self, kind: str, text: str) -> list[Reply]:
        data = build_dossier(kind, {}, self.line_names(kind))
        return [Reply(text), Reply(T.BLANK_FILE.format(kind=T.KIND_NAMES[kind]), buttons=[MENU],
                                   attachment=Attachment(f"ho-so-{kind}-trong.docx", data, DOCX_MIME))]

    async def begin_wizard(self, turn: Turn, kind: str) -> list[Reply]:
        reg_id = await repo.start_draft(turn.db, turn.incoming.channel, turn.incoming.user_id, kind)
        wizard = self.wizards[kind]
        state = wizard.new_state()
        result = wizard.start(state)
        await repo.save_draft(turn.db, reg_id, turn.incoming.channel, turn.incoming.user_id,
                              wizard.answers(state), state)
        turn.begin(self.name, {"stage": "wizard", "kind": kind, "reg_id": reg_id})
        return [Reply(T.STARTED), *result.replies]

    async def form_state(self, turn: Turn, data: dict[str, Any]) -> dict[str, Any] | None:
        """The wizard state of the conversation's draft (None when the draft is gone, e.g. erased)."""
        if data.get("kind") not in self.wizards or not isinstance(data.get("reg_id"), int):
            return None
        return await repo.draft_state(turn.db, data["reg_id"], turn.incoming.channel, turn.incoming.user_id)

    def lost(self, turn: Turn) -> list[Reply]:
        turn.finish()
        return [Reply(T.LOST, buttons=[MENU])]

    async def after_wizard(self, turn: Turn, data: dict[str, Any], state: dict[str, Any],
                           result: WizardResult) -> list[Reply]:
        """Persist what the wizard changed; on DONE complete the row and send the file, on CANCELLED erase it."""
        channel, user = turn.incoming.channel, turn.incoming.user_id
        if result.status == CANCELLED:
            await repo.discard(turn.db, data["reg_id"], channel, user)
            turn.finish()
            return [Reply(T.CANCELLED, buttons=[MENU])]
        wizard = self.wizards[data["kind"]]
        if result.status == DONE:
            answers = wizard.answers(state)
            await repo.complete(turn.db, data["reg_id"], channel, user, answers)
            turn.finish()
            return [self.dossier_reply(data["kind"], answers, done=True)]
        await repo.save_draft(turn.db, data["reg_id"], channel, user, wizard.answers(state), state)
        turn.state.data = {k: data[k] for k in ("stage", "kind", "reg_id")}
        return result.replies

    # --- files, list, erase ---------------------------------------------------------------------

    def line_names(self, kind: str) -> dict[str, str]:
        step = self.forms[kind].step("business_lines")
        return {c.value: c.label for c in step.choices} if step else {}

    def dossier_reply(self, kind: str, answers: dict[str, Any], done: bool = False) -> Reply:
        name = str(answers.get("name") or T.KIND_NAMES[kind])
        data = build_dossier(kind, answers, self.line_names(kind))
        slug = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:50] or kind
        where = ", ".join(p for p in (answers.get("commune"), answers.get("province")) if p) or "UBND xã"
        route = "htx" if kind == "htx" else route_of(answers)[0]
        parts = T.PARTS["htx"] if kind == "htx" else T.THT_PARTS[route]
        text = (T.DONE.format(name=name, parts=parts, next_step=T.NEXT_STEP[route], where=f"UBND {where}") if done
                else T.FILE_AGAIN.format(name=name))
        return Reply(text, buttons=[Button("📂 Hồ sơ của tôi", "reg:my"), MENU],
                     attachment=Attachment(f"ho-so-{slug}.docx", data, DOCX_MIME))

    async def my_registrations(self, turn: Turn) -> list[Reply]:
        rows = await repo.list_user_registrations(turn.db, turn.incoming.channel, turn.incoming.user_id)
        done = [r for r in rows if r.status == "completed"]
        if not rows:
            return [Reply(T.MY_NONE, buttons=[Button("📝 Bắt đầu đăng ký", "reg:start"), MENU])]
        buttons = [Button(f"📄 {r.answers.get('name', T.KIND_NAMES[r.kind])} ({r.completed_at:%d/%m/%Y})"[:60],
                          f"reg:file:{r.id}") for r in done if r.completed_at]
        text = T.MY_LIST if done else T.MY_DRAFT
        if done and len(done) < len(rows):
            text += "\n" + T.MY_DRAFT
        return [Reply(text, buttons=[*buttons, Button("🗑 Xoá dữ liệu của tôi", "reg:erase:ask"), MENU])]

    async def send_file(self, turn: Turn, arg: str) -> list[Reply]:
        record = await repo.get_registration(turn.db, int(arg), turn.incoming.channel,
                                             turn.incoming.user_id) if small_number(arg) is not None else None
        if record is None or record.status != "completed":
            return [Reply(T.NOT_FOUND, buttons=[MENU])]
        return [self.dossier_reply(record.kind, record.answers)]

    def erase_question(self) -> Reply:
        return Reply(T.ERASE_Q, buttons=[Button("🗑 Có, xoá hết", "reg:erase:yes"),
                                         Button("Không, giữ lại", "reg:erase:no")])

    async def erase(self, turn: Turn, answer: str) -> list[Reply]:
        if answer != "yes":
            return [Reply(T.ERASE_KEPT, buttons=[MENU])] if answer == "no" else [self.erase_question()]
        count = await repo.erase_user_data(turn.db, turn.incoming.channel, turn.incoming.user_id)
        if turn.state.flow == self.name:
            turn.finish()
        return [Reply(T.ERASED.format(n=count), buttons=[MENU])]
