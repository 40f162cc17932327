"""`htxbot kb export`: write the learned overlay into the YAML files, for review in version control.

Phrasings are appended to their entry's `questions:` list in place (comments and layout kept); new
entries are appended to the file of their topic (`chinh-sach` → `chinh_sach.yaml`). What the YAML
already has is skipped, so exporting twice changes nothing. If the result would not pass `kb check`,
every file is restored and the problems are reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.loader import ENTRY_KEYS, Problem, load_knowledge
from bot.text import normalise

KEY_ORDER = ("id", "topic", "law", "kind", "questions", "answer", "sources", "valid_from", "valid_to", "today",
             "unconfirmed", "reviewed", "basis", "related")
assert set(KEY_ORDER) == ENTRY_KEYS  # a new entry key must be placed here too


@dataclass
class ExportReport:
    phrasings: int = 0
    entries: int = 0
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def topic_file(root: Path, topic: str) -> Path:
    return root / f"{topic.replace('-', '_')}.yaml"


def _questions_node(text: str, entry_id: str) -> Any:
    """The YAML node of `questions:` of one entry in a file's text (None if not found)."""
    root = yaml.compose(text)
    entries = next((v for k, v in root.value if k.value == "entries"), None) if root is not None else None
    for item in entries.value if entries is not None else []:
        fields = {k.value: v for k, v in item.value}
        if getattr(fields.get("id"), "value", None) == entry_id:
            return fields.get("questions")
    return None


def _insert_phrasings(text: str, entry_id: str, questions: list[str]) -> str:
    node = _questions_node(text, entry_id)
    if node is None or node.flow_style or not node.value:
        raise ValueError(f"{entry_id}: 'questions' is not a block list; add the phrasings by hand")
    lines = text.splitlines(keepends=True)
    first, last = node.value[0], node.value[-1]
    dash = lines[first.start_mark.line][:first.start_mark.column]  # "      - "
    at = last.end_mark.line if last.end_mark.column == 0 else last.end_mark.line + 1
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    new = [f"{dash}{json.dumps(q, ensure_ascii=False)}\n" for q in questions]
    return "".join(lines[:at] + new + lines[at:])


def _entry_yaml(raw: dict[str, Any]) -> str:
    ordered = {k: raw[k] for k in KEY_ORDER if k in raw and raw[k] not in (None, "", [])}
    dumped = yaml.safe_dump([ordered], allow_unicode=True, sort_keys=False, default_flow_style=False, width=110)
    return "".join(f"  {line}" if line.strip() else line for line in dumped.splitlines(keepends=True))


def export_overlay(root: Path, phrasings: list[tuple[str, str]], entries: list[dict[str, Any]]) -> ExportReport:
    """Write learned (entry id, question) phrasings and raw entries into the YAML under `root`."""
    kb, before = load_knowledge(root)
    already = {p.message for p in before}  # only problems the export would cause stop it
    by_id = kb.by_id()
    known = {normalise(q, kb.lexicon) for e in kb.entries for q in e.questions}
    report = ExportReport()
    new_entries = {str(r["id"]): dict(r, questions=list(r.get("questions", []))) for r in entries
                   if str(r.get("id")) not in by_id}
    per_entry: dict[str, list[str]] = {}
    for entry_id, question in phrasings:
        key = normalise(question, kb.lexicon)
        if key in known:
            continue
        known.add(key)
        if entry_id in new_entries:
            new_entries[entry_id]["questions"].append(question)
        elif entry_id in by_id:
            per_entry.setdefault(entry_id, []).append(question)
            report.phrasings += 1
    originals: dict[Path, str | None] = {}
    texts: dict[Path, str] = {}

    def load(path: Path) -> str:
        if path not in texts:
            originals[path] = path.read_text(encoding="utf-8") if path.exists() else None
            texts[path] = originals[path] or "entries:\n"
        return texts[path]

    for entry_id, questions in per_entry.items():
        path = root / Path(by_id[entry_id].file).name
        texts[path] = _insert_phrasings(load(path), entry_id, questions)
    for raw in new_entries.values():
        path = topic_file(root, str(raw.get("topic", "")))
        text = load(path)
        texts[path] = text + ("" if text.endswith("\n") else "\n") + _entry_yaml(raw)
        report.entries += 1
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    _, after = load_knowledge(root)
    report.problems = [p for p in after if p.message not in already]
    if report.problems:
        for path, original in originals.items():
            if original is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(original, encoding="utf-8")
    report.files = sorted(p.name for p in texts)
    return report
