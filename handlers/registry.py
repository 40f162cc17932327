"""Every flow, listed in one place and in order; each gets what it uses through its constructor.

The Q&A flow is the fallback for free text. The catalogue built from the flows' specs gives the start
flow its menu and help, and the dispatcher its commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.catalogue import Catalogue
from bot.core.flow import Flow, Services
from handlers.member.answer_rating import AnswerRatingFlow
from handlers.member.feedback import FeedbackFlow
from handlers.member.profile import ProfileFlow
from handlers.member.survey import SurveyFlow
from handlers.qa.qa import QAFlow
from handlers.registration.registration import RegistrationFlow
from handlers.staff.admin_link import AdminLinkFlow
from handlers.staff.announce import AnnounceFlow
from handlers.staff.review import ReviewFlow
from handlers.staff.staff import StaffFlow
from handlers.start import StartFlow

# The flows in menu order (the knowledge loop last) and the fallback for free text. Specs are class
# attributes, so the catalogue (menus, help, typed words) is known before any flow is built.
FLOW_TYPES = (StartFlow, RegistrationFlow, ProfileFlow, FeedbackFlow, SurveyFlow, AnnounceFlow, StaffFlow,
              AnswerRatingFlow, ReviewFlow, AdminLinkFlow)
FALLBACK = QAFlow


def catalogue() -> Catalogue:
    """Every flow's declared commands: what help, menus and the Telegram command menus are made from."""
    return Catalogue(FLOW_TYPES, FALLBACK)


@dataclass(frozen=True)
class Flows:
    """The built flows: in FLOW_TYPES order, the fallback, and the registration flow (it also makes
    dossiers for the admin console)."""

    ordered: list[Flow]
    fallback: Flow
    dossiers: RegistrationFlow


def build_flows(services: Services) -> Flows:
    """The flows in FLOW_TYPES order, each given what it uses, and the fallback."""
    start = StartFlow(catalogue())
    qa = QAFlow(menu=start.menu_buttons)
    announce = AnnounceFlow()
    registration = RegistrationFlow(services, questions=qa)
    flows: list[Flow] = [start, registration, ProfileFlow(), FeedbackFlow(services),
                         SurveyFlow(services, announce=announce), announce, StaffFlow(), AnswerRatingFlow(),
                         ReviewFlow(), AdminLinkFlow()]
    if [type(f) for f in flows] != list(FLOW_TYPES):
        raise ValueError("handlers/registry.py: build_flows builds other flows than FLOW_TYPES lists")
    return Flows(flows, qa, registration)
