"""Members say whether an answer helped: 👍/👎 under answers where buttons exist (Telegram); elsewhere
a hint after low-confidence answers and a typed "sai rồi" right after an answer. A "did you mean" pick
is recorded too. Everything lands in the staff review queue (bot/storage/repo/review.py).

The Q&A flow calls two functions (its only coupling to this module):
`typed_verdict(turn, text)` before answering, and `with_rating(turn, text, answer)` on its replies.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from bot.core.flow import MENU_BUTTON, FlowSpec, Turn
from bot.core.types import Button, Reply
from bot.knowledge.model import Entry
from bot.storage.repo import ratings
from bot.text import clean, fold
from handlers.qa.answers import format_answer

RATING_BUTTON_CHANNELS = frozenset({"telegram"})  # channels that show buttons under a message
LOW_CONFIDENCE_BAND = 0.06
VERDICT_WINDOW = timedelta(minutes=15)
NEGATIVE_PHRASES = frozenset({
    "sai roi", "sai", "sai bet", "tra loi sai", "khong dung", "chua dung", "khong dung y", "chua dung y",
    "khong phai", "khong phai y toi", "khong phai y minh", "sai roi ban", "ban tra loi sai",
})
THANKS_UP = "Cảm ơn bạn! Mình ghi nhận câu trả lời này hữu ích. 🙏"
THANKS_DOWN = ("Cảm ơn bạn đã báo. Câu hỏi đã được chuyển cho cán bộ Liên minh HTX xem lại để bot trả lời "
               "đúng hơn. Bạn có thể hỏi lại bằng cách khác hoặc gõ /lienhe.")
LOW_CONFIDENCE_HINT = "💬 Nếu câu trả lời chưa đúng ý bạn, hãy gõ «sai rồi» để báo cho cán bộ."
STALE = "Lựa chọn này đã cũ. Mời bạn hỏi lại."


class AnsweredQuestion(Protocol):
    """What the Q&A flow knows about an answer (handlers/qa/qa.py's `Answer`)."""

    replies: list[Reply]
    answered: bool
    entry: Entry | None
    score: float
    normalised: str


def rating_buttons(offer_id: int) -> list[Button]:
    """The 👍/👎 buttons for one shown answer."""
    return [Button("👍 Hữu ích", f"rate:up:{offer_id}"), Button("👎 Chưa đúng", f"rate:down:{offer_id}")]


def _runner_up(answer: object) -> str | None:
    result = getattr(answer, "result", None)
    runner = getattr(result, "runner_up", None) if result is not None else None
    return runner.entry.id if runner is not None else None


async def with_rating(turn: Turn, text: str, answer: AnsweredQuestion) -> list[Reply]:
    """The Q&A replies with a way to rate them; every question is kept so a verdict can refer to it."""
    entry = answer.entry if answer.answered else None
    runner = _runner_up(answer)
    offer_id = await ratings.record_offer(turn.db, turn.incoming.channel, turn.incoming.user_id, clean(text),
                                          answer.normalised, entry.id if entry else None, runner, answer.score)
    replies = list(answer.replies)
    if entry is None or entry.kind != "answer" or not replies:
        return replies
    last = replies[-1]
    buttons = [Button(b.label, f"rate:pick:{offer_id}") if runner and b.payload == f"qa:e:{runner}" else b
               for b in last.buttons]
    if turn.incoming.channel in RATING_BUTTON_CHANNELS:
        replies[-1] = replace(last, buttons=[*buttons, *rating_buttons(offer_id)])
    elif answer.score < turn.services.index.threshold + LOW_CONFIDENCE_BAND:
        replies[-1] = replace(last, text=f"{last.text}\n\n{LOW_CONFIDENCE_HINT}", buttons=buttons)
    else:
        replies[-1] = replace(last, buttons=buttons)
    return replies


async def typed_verdict(turn: Turn, text: str) -> list[Reply] | None:
    """A typed "sai rồi" right after an answer is a 👎 for it; None for any other message."""
    if fold(text).strip(" .!?,") not in NEGATIVE_PHRASES:
        return None
    offer = await ratings.latest_offer(turn.db, turn.incoming.channel, turn.incoming.user_id, VERDICT_WINDOW)
    if offer is None or offer.entry_id is None:
        return None
    await ratings.rate(turn.db, offer, "down")
    return [Reply(THANKS_DOWN, buttons=[MENU_BUTTON])]


class AnswerRatingFlow:
    """Handles "rate:up|down|pick:<offer id>" buttons; it is never an active flow."""

    name = "rate"
    spec = FlowSpec()

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        return [Reply(STALE, buttons=[MENU_BUTTON])]

    async def handle(self, turn: Turn) -> list[Reply]:
        turn.finish()
        return [Reply(STALE, buttons=[MENU_BUTTON])]

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        offer = await ratings.get_offer(turn.db, int(arg)) if arg.isdigit() else None
        mine = offer is not None and (offer.channel, offer.user_external_id) == (turn.incoming.channel,
                                                                                 turn.incoming.user_id)
        if offer is None or not mine:
            return [Reply(STALE, buttons=[MENU_BUTTON])]
        if action == "pick":
            entry = turn.services.index.kb.by_id().get(offer.runner_up_id or "")
            if entry is None:
                return [Reply(STALE, buttons=[MENU_BUTTON])]
            await ratings.rate(turn.db, offer, "pick", picked_entry_id=entry.id)
            return [Reply(format_answer(entry), buttons=[MENU_BUTTON])]
        if action not in ("up", "down"):
            return [Reply(STALE, buttons=[MENU_BUTTON])]
        await ratings.rate(turn.db, offer, action)
        return [Reply(THANKS_UP if action == "up" else THANKS_DOWN, buttons=[MENU_BUTTON])]
