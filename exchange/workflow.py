"""The submission workflow shared by good practices and project ideas: its states, and the one
table of transitions that every change of state is checked against.

    draft → submitted → in_review → changes_requested → submitted … → published | rejected
    published → archived;  an idea also published → closed

A published item that its owners edit keeps its published revision visible while the new
revision goes through the same steps again (draft → submitted → …); see `Submission`.
"""

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    PUBLISHED = "published"
    REJECTED = "rejected"
    ARCHIVED = "archived"
    CLOSED = "closed"


class Actor(StrEnum):
    """Who may make a transition."""

    OWNER = "owner"  # a member of the owning authority (or of a co-owner)
    COORDINATOR = "coordinator"
    OWNER_OR_COORDINATOR = "owner_or_coordinator"


class Kind(StrEnum):
    PRACTICE = "practice"
    IDEA = "idea"


BOTH = frozenset(Kind)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[State]
    target: State
    actor: Actor
    kinds: frozenset[Kind] = BOTH
    comment_required: bool = False
    label: str = ""


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "submit",
            frozenset({State.DRAFT, State.CHANGES_REQUESTED}),
            State.SUBMITTED,
            Actor.OWNER,
            label=_l("Submit for review"),
        ),
        Transition(
            "start_review",
            frozenset({State.SUBMITTED}),
            State.IN_REVIEW,
            Actor.COORDINATOR,
            label=_l("Start the review"),
        ),
        Transition(
            "request_changes",
            frozenset({State.SUBMITTED, State.IN_REVIEW}),
            State.CHANGES_REQUESTED,
            Actor.COORDINATOR,
            comment_required=True,
            label=_l("Request changes"),
        ),
        Transition(
            "publish",
            frozenset({State.SUBMITTED, State.IN_REVIEW}),
            State.PUBLISHED,
            Actor.COORDINATOR,
            label=_l("Approve and publish"),
        ),
        # Rejecting a new revision of a published item leaves the published revision in place:
        # the item goes back to `published` (see services.reject).
        Transition(
            "reject",
            frozenset({State.SUBMITTED, State.IN_REVIEW}),
            State.REJECTED,
            Actor.COORDINATOR,
            comment_required=True,
            label=_l("Reject"),
        ),
        Transition(
            "archive",
            frozenset({State.PUBLISHED}),
            State.ARCHIVED,
            Actor.OWNER_OR_COORDINATOR,
            label=_l("Archive"),
        ),
        Transition(
            "close",
            frozenset({State.PUBLISHED}),
            State.CLOSED,
            Actor.OWNER_OR_COORDINATOR,
            kinds=frozenset({Kind.IDEA}),
            label=_l("Close the idea"),
        ),
    )
}

# The decisions a reviewer takes; each is recorded as a Review of one revision.
DECISIONS = ("request_changes", "publish", "reject")

# States in which the owners may change the working revision.
EDITABLE = frozenset({State.DRAFT, State.CHANGES_REQUESTED, State.PUBLISHED})
# States that wait for a coordinator.
AWAITING_REVIEW = frozenset({State.SUBMITTED, State.IN_REVIEW})

STATE_LABELS = {
    State.DRAFT: _l("Draft"),
    State.SUBMITTED: _l("Submitted"),
    State.IN_REVIEW: _l("In review"),
    State.CHANGES_REQUESTED: _l("Changes requested"),
    State.PUBLISHED: _l("Published"),
    State.REJECTED: _l("Rejected"),
    State.ARCHIVED: _l("Archived"),
    State.CLOSED: _l("Closed"),
}

KIND_LABELS = {Kind.PRACTICE: _l("Good practice"), Kind.IDEA: _l("Project idea")}


def transition(name: str) -> Transition:
    return TRANSITIONS[name]


def is_allowed(kind: Kind, state: State, name: str) -> bool:
    """Whether the table allows `name` from `state` for this kind of item (who acts aside)."""
    found = TRANSITIONS.get(name)
    return found is not None and kind in found.kinds and state in found.sources
