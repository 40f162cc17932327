"""Surveys as data (knowledge/surveys/*.yaml, run by the generic wizard) and their results for staff:
counts per option, averages, a chart, and CSV/XLSX exports (one row per response; free-text answers
and /gopy feedback grouped by topic)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PACKAGE_ROOT, Config
from bot.reports.charts import bar_charts_png
from bot.reports.exports import csv_bytes, xlsx_bytes
from bot.storage.repo import feedback, surveys
from bot.storage.repo.surveys import ResponseRecord
from handlers.forms.wizard_form import Form, Step, load_form
from handlers.member.profile_fields import role_label, sector_label
from handlers.staff.announce_text import format_time

CHARTED = ("choice", "multi_choice", "rating")
AVERAGED = ("rating", "number")


@dataclass(frozen=True)
class Survey:
    form: Form
    invitation: str
    thanks: str

    @property
    def id(self) -> str:
        return self.form.id


def load_surveys(knowledge_path: str) -> dict[str, Survey]:
    """Every survey in <knowledge>/surveys, else in the shipped knowledge folder."""
    folder = Path(knowledge_path) / "surveys"
    if not any(folder.glob("*.yaml")):
        folder = PACKAGE_ROOT / "knowledge" / "surveys"
    found: dict[str, Survey] = {}
    for path in sorted(folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        form = load_form(path)
        found[form.id] = Survey(form, str(raw.get("invitation", form.title)).strip(),
                                str(raw.get("thanks", "Cảm ơn bạn đã trả lời!")).strip())
    return found


def display_value(step: Step, value: Any) -> Any:
    """Choice codes as their labels; lists joined; numbers kept as numbers for spreadsheets."""
    if step.type == "choice":
        choice = step.choice_for(value)
        return choice.label if choice else value
    if step.type == "multi_choice":
        return "; ".join(display_value_one(step, v) for v in value or [])
    return value


def display_value_one(step: Step, value: Any) -> str:
    choice = step.choice_for(value)
    return choice.label if choice else str(value)


def option_counts(step: Step, responses: list[ResponseRecord]) -> dict[str, int]:
    """Counts per option label (every option listed, also those nobody chose)."""
    counted: Counter[str] = Counter()
    for r in responses:
        value = r.answers.get(step.key)
        values = value if isinstance(value, list) else [value]
        counted.update(display_value_one(step, v) for v in values if v not in (None, ""))
    if step.type == "rating":
        return {f"{n} điểm": counted.get(str(n), 0) for n in range(1, int(step.params.get("max", 5)) + 1)}
    return {c.label: counted.get(c.label, 0) for c in step.choices} | dict(counted)


def average(step: Step, responses: list[ResponseRecord]) -> tuple[float | None, int]:
    numbers = [float(v) for r in responses if isinstance(v := r.answers.get(step.key), (int, float))]
    return (sum(numbers) / len(numbers) if numbers else None), len(numbers)


def summary_text(survey: Survey, responses: list[ResponseRecord], in_progress: int) -> str:
    lines = [f"📊 {survey.form.title}", f"Đã trả lời xong: {len(responses)} người; đang trả lời dở: {in_progress}."]
    for step in survey.form.steps:
        lines.append(f"\n{step.title}:")
        if step.type in AVERAGED:
            mean, n = average(step, responses)
            lines.append(f"  Trung bình: {mean:.2f} ({n} câu trả lời)" if mean is not None else "  Chưa có.")
        if step.type in ("choice", "multi_choice"):
            total = len(responses) or 1
            lines += [f"  • {label}: {n} ({n * 100 // total}%)" for label, n in option_counts(step, responses).items()]
        if step.type not in CHARTED and step.type not in AVERAGED:
            filled = sum(1 for r in responses if r.answers.get(step.key))
            lines.append(f"  {filled} ý kiến (xem tệp Excel, trang «Ý kiến»)")
    return "\n".join(lines)


def chart_png(survey: Survey, responses: list[ResponseRecord]) -> bytes:
    questions = [(s.title, option_counts(s, responses)) for s in survey.form.steps if s.type in CHARTED]
    return bar_charts_png(f"{survey.form.title} — {len(responses)} người trả lời", questions)


def response_table(survey: Survey, responses: list[ResponseRecord]) -> tuple[list[str], list[list[Any]]]:
    headers = ["Thời điểm", "Tỉnh/thành", "Lĩnh vực", "Vai trò", *(s.title for s in survey.form.steps)]
    rows = [[format_time(r.completed_at), r.province, sector_label(r.sector) if r.sector else "",
             role_label(r.role), *(display_value(s, r.answers.get(s.key)) for s in survey.form.steps)]
            for r in responses]
    return headers, rows


async def survey_exports(s: AsyncSession, survey: Survey) -> tuple[bytes, bytes]:
    """(CSV, XLSX) of the completed responses; the workbook also groups free text and feedback."""
    responses = await surveys.completed_responses(s, survey.id)
    headers, rows = response_table(survey, responses)
    texts = [[s_.title, r.province, r.answers[s_.key]] for s_ in survey.form.steps if s_.type == "text"
             for r in responses if r.answers.get(s_.key)]
    counts = [[s_.title, label, n] for s_ in survey.form.steps if s_.type in CHARTED
              for label, n in option_counts(s_, responses).items()]
    grouped = await feedback.feedback_by_topic(s)
    notes = [[topic, f.province, sector_label(f.sector) if f.sector else "", "ẩn danh" if f.anonymous else "có tên",
              f.text] for topic, items in grouped.items() for f in items]
    workbook = xlsx_bytes({"Trả lời": (headers, rows), "Tổng hợp": (["Câu hỏi", "Lựa chọn", "Số người"], counts),
                           "Ý kiến": (["Câu hỏi", "Tỉnh/thành", "Ý kiến"], texts),
                           "Góp ý theo chủ đề": (["Chủ đề", "Tỉnh/thành", "Lĩnh vực", "Người gửi", "Nội dung"], notes)})
    return csv_bytes(headers, rows), workbook


async def export_survey(s: AsyncSession, config: Config, survey_id: str, fmt: str) -> bytes | None:
    """The CLI's `htxbot surveys export`: CSV or XLSX bytes, None for an unknown survey."""
    survey = load_surveys(config.knowledge.path).get(survey_id)
    if survey is None:
        return None
    csv_data, xlsx_data = await survey_exports(s, survey)
    return csv_data if fmt == "csv" else xlsx_data
