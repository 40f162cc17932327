"""Every flow, registered in one place and in order. The Q&A flow is the fallback."""

from __future__ import annotations

from bot.core.flow import Flow, Services
from handlers.admin_link import AdminLinkFlow
from handlers.announce import AnnounceFlow
from handlers.answer_rating import AnswerRatingFlow
from handlers.feedback import FeedbackFlow
from handlers.profile import ProfileFlow
from handlers.qa import QAFlow
from handlers.registration import RegistrationFlow
from handlers.review import ReviewFlow
from handlers.staff import StaffFlow
from handlers.start import StartFlow
from handlers.survey import SurveyFlow


def build_flows(services: Services) -> tuple[list[Flow], Flow]:
    """The flows in menu order, and the fallback for free text."""
    flows: list[Flow] = [StartFlow(), RegistrationFlow(services), ProfileFlow(), FeedbackFlow(services),
                         SurveyFlow(services), AnnounceFlow(), StaffFlow()]
    flows += [AnswerRatingFlow(), ReviewFlow(), AdminLinkFlow()]  # knowledge loop: ratings, review queue, console
    qa = QAFlow()
    services.flows = {f.name: f for f in [*flows, qa]}
    return flows, qa
