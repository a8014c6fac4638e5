from expertise.domain.council import CRITERIA, FEDERATION, Council
from expertise.domain.lists import LIST_KINDS, LIST_OF_VERDICT, ApprovedList
from expertise.domain.reviews import Plan, PracticeFacts, Review, Summary, summarize
from expertise.domain.sessions import CouncilSession

__all__ = [
    "CRITERIA",
    "FEDERATION",
    "LIST_KINDS",
    "LIST_OF_VERDICT",
    "ApprovedList",
    "Council",
    "CouncilSession",
    "Plan",
    "PracticeFacts",
    "Review",
    "Summary",
    "summarize",
]
