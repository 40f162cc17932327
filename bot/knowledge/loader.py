"""Load the YAML knowledge base and report every problem as `file:line: message`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.model import (
    KINDS,
    LAWS,
    REPEALED_LAW_END,
    RULE_LAWS,
    TOPICS,
    Basis,
    Entry,
    KnowledgeBase,
    Source,
)
from bot.text import Lexicon, fold, normalise

ENTRY_KEYS = {
    "id", "topic", "law", "kind", "questions", "answer", "sources", "valid_from", "valid_to", "today",
    "unconfirmed", "reviewed", "related", "basis",
}
SOURCE_KEYS = {"doc", "article", "date"}
BASIS_KEYS = {"doc", "article", "checked", "secondary"}
# Phrases of editors' working notes, which must never reach a member (compared without diacritics).
EDITOR_NOTE_PHRASES = (
    "chua doc", "chua duoc doc", "chua doi chieu", "chua duoc doi chieu", "chua tim thay van ban",
    "we have not", "not read", "todo", "fixme", "facts.md", "[u]", "[c]",
)
MEMBER_TEXT_KEYS = ("answer", "today", "unconfirmed")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_ID_LENGTH = 56  # "qa:e:<id>" must fit Telegram's 64-byte callback data
SKIPPED_FILES = {"synonyms.yaml"}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base is invalid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the knowledge base:\n{shown}{more}")


def load_knowledge(root: str | Path, today: date | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Read every entry file and the synonyms under `root`; return the base and all problems found."""
    root = Path(root)
    today = today or date.today()
    problems: list[Problem] = []
    if not root.is_dir():
        return KnowledgeBase(), [Problem(str(root), 0, "knowledge folder not found")]
    lexicon = _load_lexicon(root / "synonyms.yaml", problems)
    entries: list[Entry] = []
    for path in sorted(root.glob("*.yaml")):
        if path.name in SKIPPED_FILES:
            continue
        entries.extend(_load_file(path, _display(path, root), problems))
    kb = KnowledgeBase(entries=entries, lexicon=lexicon)
    problems.extend(_cross_checks(kb, today))
    return kb, problems


def load_valid_knowledge(root: str | Path) -> KnowledgeBase:
    """Load the base or raise `KnowledgeError` listing every problem."""
    kb, problems = load_knowledge(root)
    if problems:
        raise KnowledgeError(problems)
    return kb


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(Path(root.name) / path.name)


def _load_lexicon(path: Path, problems: list[Problem]) -> Lexicon:
    """synonyms.yaml: `abbreviations:` (a mapping) and `compounds:` (a list of multi-syllable terms)."""
    if not path.exists():
        return Lexicon()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(Problem(path.name, _yaml_line(exc), f"invalid YAML: {exc}"))
        return Lexicon()
    abbreviations = data.get("abbreviations") if isinstance(data, dict) else None
    compounds = data.get("compounds") if isinstance(data, dict) else None
    if not isinstance(abbreviations, dict) or not isinstance(compounds or [], list):
        problems.append(Problem(path.name, 1, "expected 'abbreviations:' (a mapping) and 'compounds:' (a list)"))
        return Lexicon()
    return Lexicon(
        abbreviations={fold(str(k)).strip(): fold(str(v)).strip() for k, v in abbreviations.items() if v},
        compounds=[" ".join(fold(str(c)).split()) for c in compounds or []],
    )


def _yaml_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark else 1


def _parse(text: str) -> tuple[Any, Any]:
    """Parse once (with libyaml when available) keeping the node tree for line numbers."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _load_file(path: Path, shown: str, problems: list[Problem]) -> list[Entry]:
    text = path.read_text(encoding="utf-8")
    try:
        node, data = _parse(text)
    except yaml.YAMLError as exc:
        problems.append(Problem(shown, _yaml_line(exc), f"invalid YAML: {exc}"))
        return []
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        problems.append(Problem(shown, 1, "the file must be a mapping with a list 'entries:'"))
        return []
    items = next(v for k, v in node.value if k.value == "entries").value
    out = []
    for item_node, raw in zip(items, data["entries"], strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(raw, dict):
            problems.append(Problem(shown, line, "an entry must be a mapping"))
            continue
        key_lines = {k.value: k.start_mark.line + 1 for k, _ in item_node.value}
        entry = _build_entry(raw, shown, line, key_lines, problems)
        if entry:
            out.append(entry)
    return out


def _build_entry(raw: dict[str, Any], shown: str, line: int, key_lines: dict[str, int],
                 problems: list[Problem]) -> Entry | None:
    def report(key: str, message: str) -> None:
        problems.append(Problem(shown, key_lines.get(key, line), message))

    for key in raw:
        if key not in ENTRY_KEYS:
            report(key, f"unknown key '{key}'")
    entry_id = str(raw.get("id") or "")
    if not entry_id:
        report("id", "entry without 'id'")
        return None
    if not _ID.match(entry_id):
        report("id", f"id '{entry_id}' must be lower-case ascii words joined by '-'")
    if len(entry_id) > MAX_ID_LENGTH:
        report("id", f"id '{entry_id}' is longer than {MAX_ID_LENGTH} characters")
    kind = str(raw.get("kind") or "answer")
    if kind not in KINDS:
        report("kind", f"{entry_id}: unknown kind '{kind}' (expected {', '.join(KINDS)})")
    topic = str(raw.get("topic") or "")
    if topic not in TOPICS:
        report("topic", f"{entry_id}: unknown topic '{topic}'")
    law = str(raw.get("law") or "")
    if law not in LAWS:
        report("law", f"{entry_id}: unknown law '{law}' (expected {', '.join(LAWS)})")
    questions = raw.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        report("questions", f"{entry_id}: 'questions' must be a list of texts")
        questions = []
    minimum = 3 if kind == "answer" else 2
    if len(questions) < minimum:
        report("questions", f"{entry_id}: needs at least {minimum} question phrasings")
    answer = raw.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        report("answer", f"{entry_id}: missing answer")
        answer = ""
    sources = _sources(raw.get("sources"), entry_id, report)
    if kind == "answer" and not sources:
        report("sources", f"{entry_id}: missing source")
    dates = {k: _date(raw.get(k), k, entry_id, report) for k in ("valid_from", "valid_to", "reviewed")}
    if not dates["reviewed"]:
        report("reviewed", f"{entry_id}: missing 'reviewed' date")
    today_text = str(raw.get("today") or "").strip()
    if law == "2012" and not today_text:
        report("law", f"{entry_id}: a 2012-law entry must say in 'today' what applies under the 2023 law")
    basis = _basis(raw.get("basis"), entry_id, report)
    if kind == "answer" and law in RULE_LAWS and not basis:
        report("basis", f"{entry_id}: a law \"{law}\" entry needs 'basis:' (doc, article and clause checked, "
                        "'checked:' date)")
    if basis and not any(b.primary for b in basis) and not str(raw.get("unconfirmed") or "").strip():
        report("basis", f"{entry_id}: checked only against secondary sources, so it needs 'unconfirmed:' "
                        "(what is not certain and whom to ask)")
    if law == "2012" and (not dates["valid_to"] or dates["valid_to"] > REPEALED_LAW_END):
        report("valid_to", f"{entry_id}: a 2012-law entry needs 'valid_to: {REPEALED_LAW_END:%Y-%m-%d}' "
                           "(or earlier): the law is repealed")
    for key in MEMBER_TEXT_KEYS:
        note = _editor_note(str(raw.get(key) or ""))
        if note:
            report(key, f"{entry_id}: '{key}' reads like an editor's note ('{note}'); members see this text")
    related = raw.get("related") or []
    if not isinstance(related, list):
        report("related", f"{entry_id}: 'related' must be a list of ids")
        related = []
    return Entry(
        id=entry_id, topic=topic, law=law, kind=kind, questions=tuple(q.strip() for q in questions),
        answer=answer.strip(), sources=tuple(sources), valid_from=dates["valid_from"],
        valid_to=dates["valid_to"], today=today_text, unconfirmed=str(raw.get("unconfirmed") or "").strip(),
        reviewed=dates["reviewed"], related=tuple(str(r) for r in related), basis=tuple(basis), file=shown,
        line=key_lines.get("id", line),
    )


def _sources(raw: Any, entry_id: str, report: Any) -> list[Source]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        report("sources", f"{entry_id}: 'sources' must be a list")
        return []
    out = []
    for item in raw:
        if not isinstance(item, dict) or not str(item.get("doc") or "").strip():
            report("sources", f"{entry_id}: every source needs 'doc'")
            continue
        for key in item:
            if key not in SOURCE_KEYS:
                report("sources", f"{entry_id}: unknown source key '{key}'")
        when = _date(item.get("date"), "sources", entry_id, report)
        out.append(Source(doc=str(item["doc"]).strip(), article=str(item.get("article") or "").strip(),
                          date=when))
    return out


def _basis(raw: Any, entry_id: str, report: Any) -> list[Basis]:
    """`basis:` — a list of {doc, article, checked, secondary?}: what the rule was checked against."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        report("basis", f"{entry_id}: 'basis' must be a list")
        return []
    out = []
    for item in raw:
        if not isinstance(item, dict):
            report("basis", f"{entry_id}: every basis is a mapping with doc, article, checked")
            continue
        for key in item:
            if key not in BASIS_KEYS:
                report("basis", f"{entry_id}: unknown basis key '{key}'")
        doc, article = str(item.get("doc") or "").strip(), str(item.get("article") or "").strip()
        checked = _date(item.get("checked"), "basis", entry_id, report)
        if not doc or not article or not checked:
            report("basis", f"{entry_id}: every basis needs 'doc', 'article' (article and clause) and 'checked'")
            continue
        out.append(Basis(doc=doc, article=article, checked=checked,
                         secondary=str(item.get("secondary") or "").strip()))
    return out


def _editor_note(text: str) -> str:
    folded = fold(text)
    return next((phrase for phrase in EDITOR_NOTE_PHRASES if phrase in folded), "")


def _date(value: Any, key: str, entry_id: str, report: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        report(key, f"{entry_id}: bad date '{value}' in '{key}' (use YYYY-MM-DD)")
        return None


def _cross_checks(kb: KnowledgeBase, today: date) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, Entry] = {}
    for entry in kb.entries:
        if entry.id in seen:
            first = seen[entry.id]
            problems.append(Problem(entry.file, entry.line,
                                    f"duplicate id '{entry.id}' (first at {first.file}:{first.line})"))
        else:
            seen[entry.id] = entry
    phrasing_owner: dict[str, str] = {}
    for entry in kb.entries:
        for rel in entry.related:
            if rel not in seen:
                problems.append(Problem(entry.file, entry.line, f"{entry.id}: unknown related id '{rel}'"))
        if entry.valid_to and entry.valid_to < today and not entry.today:
            problems.append(Problem(entry.file, entry.line,
                                    f"{entry.id}: entry out of force since {entry.valid_to:%d/%m/%Y} "
                                    "and no 'today' saying what applies now"))
        for basis in entry.basis:
            if basis.checked > today:
                problems.append(Problem(entry.file, entry.line,
                                        f"{entry.id}: basis checked on {basis.checked:%d/%m/%Y}, in the future"))
        if entry.valid_from and entry.valid_to and entry.valid_from > entry.valid_to:
            problems.append(Problem(entry.file, entry.line, f"{entry.id}: valid_from is after valid_to"))
        for question in entry.questions:
            key = normalise(question, kb.lexicon)
            owner = phrasing_owner.setdefault(key, entry.id)
            if owner != entry.id:
                problems.append(Problem(entry.file, entry.line,
                                        f"{entry.id}: question '{question}' is also a phrasing of '{owner}'"))
    return problems
