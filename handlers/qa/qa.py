"""Questions and answers over the knowledge base; the fallback for any free text."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.core.flow import MENU_BUTTON, Command, FlowSpec, Services, Turn
from bot.core.types import Button, Reply
from bot.knowledge import followup
from bot.knowledge.model import TOPICS, Entry
from bot.knowledge.query import (
    MAX_PARTS,
    Part,
    ask_types,
    asks_yes_no,
    english_to_vietnamese,
    is_english,
    is_foreign,
    law_time,
    other_field,
    question_sentences,
    split_clauses,
)
from bot.knowledge.search import Hit, SearchResult, search_tokens
from bot.knowledge.subjects import subject_groups
from bot.text import clean, fold, has_letters
from handlers.qa.answers import answer_body, format_answer, short_label, source_line

MAX_QUESTION_CHARS = 500  # the question searched (after greetings and personal context are left out)
MAX_MESSAGE_CHARS = 3000  # longer messages are read on their beginning only
MAX_CLAUSES = 8  # questions looked at in one message (at most MAX_PARTS are answered)
TOPIC_LABELS = {
    "luat-chung": "Luật Hợp tác xã", "thanh-vien": "Thành viên", "von-tai-chinh": "Vốn, tài chính, phân phối",
    "quan-tri": "Quản trị, đại hội", "dang-ky": "Đăng ký HTX", "to-hop-tac": "Tổ hợp tác",
    "to-chuc-lai": "Giải thể, tổ chức lại", "chinh-sach": "Chính sách hỗ trợ", "quy-tin-dung": "Vốn vay, quỹ, tín dụng",
    "chuong-trinh": "Nghị quyết, chương trình", "dia-phuong": "Số liệu địa phương",
    "sap-xep-2025": "Sắp xếp bộ máy 2025",
}
# A question anchored in another field is still answered when it is this close to an entry's phrasing
# (the knowledge base does have a few bank-loan rules for farmers and HTX).
OTHER_FIELD_EXACT = 0.8
OTHER_FIELD_NAMED = 0.65
# A follow-up asking another kind of thing may take an entry this much less similar than the one just given.
NEW_ASK_MARGIN = 0.08
# Below the answer threshold but this close: the closest topics are offered instead of a bare "I don't know".
NEAR_MISS = 0.4
NUMBERS = ("1️⃣", "2️⃣", "3️⃣")
ENGLISH_NOTE = ("🇬🇧 I answer in Vietnamese only, about cooperatives (HTX), cooperative groups (THT) and "
                "their support policies.\n"
                "🇻🇳 Mình chỉ trả lời bằng tiếng Việt, về hợp tác xã, tổ hợp tác và chính sách hỗ trợ.")
OTHER_FIELD_FALLBACK = ("Câu hỏi này thuộc lĩnh vực khác (không phải hợp tác xã, tổ hợp tác), nên mình không trả lời "
                        "để tránh hướng dẫn sai. Bạn hỏi cơ quan phụ trách lĩnh vực đó ở UBND xã/phường.")


@dataclass
class Answer:
    """The outcome of asking one question: what the user sees and how it was understood."""

    replies: list[Reply]
    answered: bool
    entry: Entry | None = None
    score: float = 0.0
    normalised: str = ""
    result: SearchResult | None = field(default=None, repr=False)
    entries: list[Entry] = field(default_factory=list)  # every entry answered, in order (several questions)
    context: dict[str, Any] | None = None  # the conversation context after this answer


@dataclass
class _Resolved:
    """One question (or one part of a message) understood: the hit to answer with, or why not."""

    outcome: str  # "answer" | "decline" | "doubt" | "unknown"
    result: SearchResult | None
    hit: Hit | None = None
    question: str = ""
    words: str = ""  # the subject words to carry to a follow-up
    decline: Entry | None = None
    asked: str = ""  # how the question asked ("bao nhieu", "o dau"), carried to a follow-up


def examples_hint() -> str:
    return "ví dụ: «lập HTX cần bao nhiêu người», «vay vốn quỹ hỗ trợ HTX», «hồ sơ đăng ký HTX gồm gì»"


def dont_know(services: Services) -> Reply:
    contact = services.config.bot.contact
    return Reply(
        "Xin lỗi, mình chưa có câu trả lời chắc chắn cho câu hỏi này nên không muốn đoán. "
        "Câu hỏi đã được ghi lại để cán bộ bổ sung.\n\n"
        f"Bạn có thể hỏi lại bằng cách khác ({examples_hint()}), xem menu, hoặc liên hệ {contact}.",
        buttons=[MENU_BUTTON, Button("❓ Xem các chủ đề", "qa:topics")],
    )


def entry_reply(services: Services, entry: Entry, opener: bool = True) -> Reply:
    buttons = []
    by_id = services.index.kb.by_id()
    for rel in entry.related[:2]:
        if rel in by_id:
            buttons.append(Button(short_label(by_id[rel]), f"qa:e:{rel}"))
    buttons.append(MENU_BUTTON)
    return Reply(format_answer(entry, opener), buttons=buttons)


def decline_reply(services: Services, entry: Entry | None) -> Reply:
    text = entry.answer.strip() if entry else OTHER_FIELD_FALLBACK
    return Reply(f"{text}\n\nLiên hệ: {services.config.bot.contact}.", buttons=[MENU_BUTTON])


def candidates_reply(services: Services, hits: list[Hit]) -> Reply:
    """Not sure which question was meant: the closest topics as buttons, or an honest "I don't know"."""
    if not hits:
        return dont_know(services)
    buttons = [Button(short_label(h.entry), f"qa:e:{h.entry.id}") for h in hits]
    return Reply("Mình chưa chắc đã hiểu đúng câu hỏi, nên không muốn trả lời nhầm sang chuyện khác. "
                 "Có phải bạn muốn hỏi một trong các câu dưới đây? Nếu không, bạn hỏi lại rõ hơn giúp mình "
                 "(nói rõ đối tượng và điều cần biết) hoặc liên hệ " + services.config.bot.contact + ".",
                 buttons=[*buttons, Button("Không phải các câu trên", "qa:none"), MENU_BUTTON])


def keeps_opener(services: Services, question: str, hit: Hit) -> bool:
    """Show a "Có." / "Không." / "Được." opener only when the member asked that yes/no question too: a yes/no
    question matched to a yes/no phrasing about the same subjects ("… có được biểu quyết không" matched to
    "không góp vốn có làm thành viên được không" asks something else)."""
    if not (asks_yes_no(fold(question)) and asks_yes_no(fold(hit.phrasing))):
        return False
    index = services.index
    asked = set(index.subjects(search_tokens(question, index.lexicon)))
    return asked == set(index.subjects(search_tokens(hit.phrasing, index.lexicon)))


def _resolve(services: Services, question: str, context: dict[str, Any] | None) -> _Resolved:
    """Understand one question, in the context of the conversation when it is a fragment."""
    folded = fold(question)
    index = services.index
    result = index.search(question)
    best = result.best
    other = other_field(folded)
    if other is not None and not _asked_here(best, other):
        return _Resolved("decline", result, question=question, decline=index.kb.by_id().get(other))
    if context is not None and followup.is_fragment(folded) and index.known_share(result.query_tokens) >= 0.5:
        in_context = _in_context(services, question, folded, result, context)
        if in_context is not None:
            return in_context
    if best is not None and best.entry.kind == "decline":
        return _Resolved("decline", result, best, question, decline=best.entry)
    if best is not None:
        return _Resolved("answer", result, best, question, followup.subject_words(folded),
                         asked=followup.asked_words(folded))
    if result.doubt:
        return _Resolved("doubt", result, None, question)
    return _Resolved("unknown", result, None, question)


def _in_context(services: Services, question: str, folded: str, alone: SearchResult,
                context: dict[str, Any]) -> _Resolved | None:
    """A fragment searched with the subject words of the conversation; None when that does not fit."""
    index = services.index
    carried = str(context.get("words", ""))
    asked = followup.asked_words(folded) or str(context.get("asked", ""))
    combined = followup.combine(carried, folded, str(context.get("asked", "")))
    joined = index.search(combined)
    named = index.subjects(alone.query_tokens)
    if named and followup.has_marker(folded) and not followup.names_attribute(folded):
        # "còn thuế thì sao?" after land rent: the subject named replaces the earlier one, the question stays.
        swapped = index.search(followup.combine(_without_own_subjects(services, carried, named), folded,
                                                str(context.get("asked", ""))))
        if swapped.best is not None and index.asks_about(swapped.best.entry, alone.query_tokens):
            joined = swapped
    if followup.refers_back(folded):  # "họ có được biểu quyết không": they are who was just answered about
        previous = next((h for h in joined.hits if h.entry.id in context.get("entries", [])
                         and h.score >= joined.threshold and index.mentions(h.entry, alone.query_tokens)), None)
        if previous is not None:
            return _Resolved("answer", joined, previous, question, f"{carried} {followup.subject_words(folded)}",
                             asked=asked)
    words = (followup.refocus(carried, folded) if named else followup.subject_words(combined))
    if law_time(folded) == "old":  # "luật cũ thì sao?": the same subject and question under the repealed law
        olds = [h for h in joined.hits if h.entry.kind == "answer" and index.is_old(h.entry)
                and h.score >= joined.threshold]
        kinds = ask_types(asked) - {"yes-no"}
        old = next((h for h in olds if kinds & ask_types(fold(h.phrasing))), olds[0] if olds else None)
        if old is not None:
            return _Resolved("answer", joined, old, question, words, asked=asked)
        if joined.hits:  # no old rule on this point: today's rule would answer another question
            return _Resolved("doubt", joined, None, question)
    found, best = joined.best, alone.best
    if found is None or found.entry.kind != "answer":
        return None
    if best is not None and best.entry.kind == "decline" and best.score > found.score:
        return None  # "giá vàng hôm nay" stays declined whatever was asked before
    alone_fits = best is not None and best.entry.kind == "answer" and index.asks_about(best.entry, alone.query_tokens)
    if alone_fits and not index.asks_about(found.entry, alone.query_tokens):
        return None  # the context pulls away from what the fragment itself names ("lệ phí môn bài thì sao?")
    return _Resolved("answer", joined, _something_new(joined, found, folded, context), question, words,
                     asked=asked)


def _without_own_subjects(services: Services, carried: str, named: list[int]) -> str:
    """The earlier subject words without the subjects the follow-up does not name."""
    index = services.index
    groups = subject_groups()
    earlier = [g for g in index.subjects(carried.split()) if g not in named]
    # What was asked about the earlier subject ("điều kiện", "tối thiểu") stays.
    return followup.without_subjects(carried, [alt for g in earlier for alt in groups[g][1]
                                               if not followup.names_attribute(alt)])


def _something_new(joined: SearchResult, found: Hit, folded: str, context: dict[str, Any]) -> Hit:
    """A follow-up asks something new: when the entry just answered comes back for a fragment asking
    another kind of thing ("nộp ở đâu?" then "mất bao lâu?"), a close entry asking that kind is preferred."""
    asked = ask_types(folded) - {"what", "yes-no", "how"}
    if found.entry.id not in context.get("entries", []) or not asked or asked & ask_types(fold(found.phrasing)):
        return found
    for hit in joined.hits[1:]:
        if (hit.entry.kind == "answer" and hit.score >= joined.threshold and hit.score >= found.score - NEW_ASK_MARGIN
                and hit.entry.id not in context.get("entries", []) and asked & ask_types(fold(hit.phrasing))):
            return hit
    return found


def _asked_here(best: Hit | None, other: str) -> bool:
    """A question naming another field that the knowledge base still answers: very close to a phrasing, or
    close to a phrasing that names the same field ("vay ngân hàng không thế chấp" for farmers)."""
    if best is None or best.entry.kind != "answer":
        return False
    return best.score >= OTHER_FIELD_EXACT or (best.score >= OTHER_FIELD_NAMED and
                                                 other_field(fold(best.phrasing)) == other)


def _single(services: Services, question: str, resolved: _Resolved) -> Answer:
    result = resolved.result
    normalised = " ".join(result.query_tokens) if result else ""
    if resolved.outcome == "decline":
        score = resolved.hit.score if resolved.hit else 1.0
        return Answer([decline_reply(services, resolved.decline)], False, resolved.decline, score, normalised, result)
    if resolved.outcome != "answer" or resolved.hit is None:
        closest = max((h.score for h in result.hits), default=0.0) if result else 0.0
        offer = result is not None and (resolved.outcome == "doubt" or closest >= NEAR_MISS)
        reply = candidates_reply(services, result.candidates()) if result and offer else dont_know(services)
        return Answer([reply], False, None, closest, normalised, result)
    hit = resolved.hit
    entry = hit.entry
    reply = entry_reply(services, entry, keeps_opener(services, question, hit))
    runner = result.runner_up if result else None
    if runner is not None and runner.entry.kind == "answer" and runner.entry.id != entry.id:
        # A close second: answer with the best, and ask whether the other one was meant.
        reply = Reply(f"{reply.text}\n\n🔎 Nếu ý bạn là «{short_label(runner.entry)}», hãy chọn bên dưới.",
                      buttons=[Button(short_label(runner.entry), f"qa:e:{runner.entry.id}"), *reply.buttons])
    return Answer([reply], entry.kind == "answer" or entry.kind == "smalltalk", entry, hit.score, normalised, result,
                  [entry])


def _several(services: Services, parts: list[tuple[Part, _Resolved]]) -> Answer:
    """One reply answering each question of the message in the order asked, sources at the end."""
    blocks: list[str] = [f"Bạn hỏi {len(parts)} ý, mình trả lời lần lượt:"]
    sources: list[str] = []
    entries: list[Entry] = []
    for number, (part, resolved) in zip(NUMBERS, parts, strict=False):
        heading = f"{number} «{part.text.strip(' ?')}?»"
        if resolved.outcome == "answer" and resolved.hit is not None:
            entry = resolved.hit.entry
            entries.append(entry)
            blocks.append(f"{heading}\n{answer_body(entry, keeps_opener(services, part.text, resolved.hit))}")
            sources.append(f"{source_line(entry)} ({number})")
        elif resolved.outcome == "decline":
            text = resolved.decline.answer.strip() if resolved.decline else OTHER_FIELD_FALLBACK
            blocks.append(f"{heading}\n{text}")
        else:
            blocks.append(f"{heading}\nÝ này mình chưa chắc câu trả lời nên không muốn đoán; bạn hỏi riêng ý này "
                          "bằng cách khác giúp mình nhé.")
    buttons = [Button(short_label(e), f"qa:e:{e.id}") for e in entries[:3]]
    reply = Reply("\n\n".join(blocks) + "\n\n" + "\n".join(sources), buttons=[*buttons, MENU_BUTTON])
    first = entries[0] if entries else None
    top = parts[0][1].hit
    return Answer([reply], bool(entries), first, top.score if top else 0.0,
                  " | ".join(" ".join(r.result.query_tokens) for _, r in parts if r.result), parts[0][1].result,
                  entries)


def _english(services: Services, text: str) -> Answer:
    """An English question on the bot's own topics answered (in Vietnamese) after the bilingual note;
    anything else in English or another language gets the note and the menu."""
    translated = english_to_vietnamese(text) if is_english(text) else ""
    result = services.index.search(translated) if translated else None
    best = result.best if result else None
    if best is not None and best.entry.kind == "answer":
        body = f"{ENGLISH_NOTE}\n\n{format_answer(best.entry, opener=False)}"
        return Answer([Reply(body, buttons=[MENU_BUTTON])], True, best.entry, best.score, translated, result,
                      [best.entry])
    reply = Reply(f"{ENGLISH_NOTE}\n\nMenu: /menu", buttons=[MENU_BUTTON, Button("❓ Xem các chủ đề", "qa:topics")])
    return Answer([reply], False, None, 0.0, translated, result)


def answer_question(services: Services, text: str, context: dict[str, Any] | None = None,
                    now: float | None = None) -> Answer:
    """Search and compose the reply. Pure: no storage, so `htxbot ask` can use it too. `context` is the
    conversation's context (see bot.knowledge.followup); the new one is in `Answer.context`."""
    now = time.time() if now is None else now
    context = followup.fresh(context, now)
    message = clean(text)[:MAX_MESSAGE_CHARS]
    if not has_letters(message):
        reply = Reply("Mình chưa đọc được câu hỏi. Bạn gõ câu hỏi bằng chữ giúp mình nhé, " + examples_hint() + ".",
                      buttons=[MENU_BUTTON])
        return Answer([reply], answered=False, context=context)
    if is_english(message) or is_foreign(message):
        answer = _english(services, message)
        answer.context = context
        return answer
    sentences = question_sentences(message)
    clauses = [clause for sentence in sentences for clause in split_clauses(sentence)][:MAX_CLAUSES]
    if len(clauses) >= 2:
        answer = _try_several(services, clauses, context, now)
        if answer is not None:
            return answer
    question = " ".join(p.text for p in sentences)[:MAX_QUESTION_CHARS] or message[:MAX_QUESTION_CHARS]
    resolved = _resolve(services, question, context)
    if resolved.outcome != "answer" and len(sentences) > 1:
        # Several sentences of which one is the question: answer that one.
        alone = [(p, _resolve(services, p.text, context)) for p in sentences[:MAX_PARTS + 2]]
        answered = [(p, r) for p, r in alone if r.outcome == "answer"]
        if len(answered) == 1:
            question, resolved = answered[0][0].text, answered[0][1]
    if resolved.outcome == "unknown" and question != message[:MAX_QUESTION_CHARS]:
        whole = _resolve(services, message[:MAX_QUESTION_CHARS], context)
        if whole.outcome != "unknown":
            resolved = whole
    answer = _single(services, question, resolved)
    answer.context = _next_context(context, [resolved], now)
    return answer


def _try_several(services: Services, clauses: list[Part], context: dict[str, Any] | None,
                 now: float) -> Answer | None:
    """Several questions in one message: answered each when at least two are understood."""
    parts: list[tuple[Part, _Resolved]] = []
    running = context
    for clause in clauses:
        resolved = _resolve(services, clause.text, running or None)
        parts.append((clause, resolved))
        if resolved.outcome == "answer":
            running = followup.new_context(resolved.words, [resolved.hit.entry.id] if resolved.hit else [], now,
                                           resolved.asked)
    understood = [r for _, r in parts if r.outcome == "answer" and r.hit is not None]
    distinct = {r.hit.entry.id for r in understood if r.hit is not None}
    if len(distinct) < 2:
        return None
    # Keep the questions (dropping repeats of one entry) and at most MAX_PARTS of them.
    kept: list[tuple[Part, _Resolved]] = []
    seen: set[str] = set()
    for part, resolved in parts:
        key = resolved.hit.entry.id if resolved.hit is not None else f"?{len(kept)}"
        if key in seen or (resolved.outcome == "unknown" and len(part.folded.split()) < 3):
            continue
        seen.add(key)
        kept.append((part, resolved))
    answer = _several(services, kept[:MAX_PARTS])
    answer.context = _next_context(context, [r for _, r in kept[:MAX_PARTS]], now)
    return answer


def _next_context(context: dict[str, Any] | None, resolved: list[_Resolved], now: float) -> dict[str, Any] | None:
    """After an answer, its subject; after anything else, the earlier context stays as it was."""
    answered = [r for r in resolved if r.outcome == "answer" and r.hit is not None and r.hit.entry.kind == "answer"]
    if not answered:
        return context
    last = answered[-1]
    return followup.new_context(last.words, [r.hit.entry.id for r in answered if r.hit is not None], now,
                                last.asked)


class QAFlow:
    """Free text → the best knowledge-base answer, or an honest "I don't know" logged for staff."""

    name = "qa"
    spec = FlowSpec(commands=(Command("hoi", "Đặt câu hỏi"),), menu_label="❓ Hỏi đáp về HTX")

    def __init__(self, menu: Callable[[Turn], list[Button]]) -> None:
        """`menu`: the main menu's buttons for this person (the start flow's)."""
        self.menu = menu

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        if arg:
            return await self._ask(turn, arg)
        return [Reply("Mời bạn gõ câu hỏi bằng lời của mình, có dấu hay không dấu đều được, " + examples_hint() + ".",
                      buttons=[Button("❓ Xem các chủ đề", "qa:topics"), MENU_BUTTON])]

    async def handle(self, turn: Turn) -> list[Reply]:
        return await self._ask(turn, turn.incoming.text)

    async def _ask(self, turn: Turn, text: str) -> list[Reply]:
        # The database layer only where it is used: `htxbot ask` answers without loading it.
        from bot.storage.repo.questions import log_question
        from handlers.member import answer_rating

        if (verdict := await answer_rating.typed_verdict(turn, text)) is not None:  # hook: typed "sai rồi"
            return verdict

        keeps_context = not turn.state.flow
        context = turn.state.data.get(followup.CONTEXT_KEY) if keeps_context else None
        answer = answer_question(turn.services, text, context)
        if keeps_context:
            if answer.context:
                turn.state.data[followup.CONTEXT_KEY] = answer.context
            else:
                turn.state.data.pop(followup.CONTEXT_KEY, None)
        if not answer.answered and answer.replies and answer.replies[0].text.startswith(ENGLISH_NOTE):
            # Not understood in English: the note with the whole menu under it.
            answer.replies = [replace(answer.replies[0], buttons=self.menu(turn))]
        entry_id = answer.entry.id if answer.entry else None
        await log_question(turn.db, turn.incoming.channel, turn.incoming.user_id, clean(text), answer.normalised,
                           entry_id, answer.score, answer.answered)
        return await answer_rating.with_rating(turn, text, answer)  # hook: 👍/👎, "did you mean" picks

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        services = turn.services
        if action == "e":
            entry = services.index.kb.by_id().get(arg)
            if entry is None:
                return [Reply("Nội dung này không còn nữa. Mời bạn hỏi lại.", buttons=[MENU_BUTTON])]
            if not turn.state.flow and entry.kind == "answer":  # a follow-up reads in this topic
                turn.state.data[followup.CONTEXT_KEY] = followup.new_context(
                    followup.subject_words(fold(entry.questions[0])), [entry.id], time.time())
            return [entry_reply(services, entry)]
        if action == "topics":
            present = {e.topic for e in services.index.entries if e.kind == "answer"}
            buttons = [Button(TOPIC_LABELS[t], f"qa:t:{t}") for t in TOPICS if t in present and t in TOPIC_LABELS]
            return [Reply("Chọn một chủ đề:", buttons=[*buttons, MENU_BUTTON])]
        if action == "t":
            entries = [e for e in services.index.entries if e.topic == arg and e.kind == "answer"][:10]
            buttons = [Button(short_label(e), f"qa:e:{e.id}") for e in entries]
            return [Reply(f"Một số câu hỏi về «{TOPIC_LABELS.get(arg, arg)}»:", buttons=[*buttons, MENU_BUTTON])]
        if action == "none":
            return [dont_know(services)]
        return await self.start(turn, "")
