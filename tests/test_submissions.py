"""The submission workflow at the level of the services: every transition, allowed and refused."""

import pytest

from exchange.activity.services import activity_for
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.submissions import services
from exchange.submissions.models import Decision, Submission
from exchange.workflow import TRANSITIONS, Kind, State, is_allowed
from tests.factories import (
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    practice_content,
)

pytestmark = pytest.mark.usefixtures("reference")

ALL_STATES = list(State)


def run(name, actor, submission, comment="Un comentario."):
    if name in ("request_changes", "reject"):
        return getattr(services, name)(actor, submission, comment)
    if name == "publish":
        return services.publish(actor, submission, comment)
    return getattr(services, name)(actor, submission)


def reachable_states(kind):
    states = [s for s in ALL_STATES if kind == Kind.IDEA or s != State.CLOSED]
    return states


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_every_transition_is_allowed_exactly_from_its_sources(kind, name):
    """Walk every (state, transition) pair through the services: allowed pairs change the
    state and log it; refused pairs raise and change nothing."""
    author = make_member(make_authority())
    coordinator = make_coordinator()
    for state in reachable_states(kind):
        submission = make_submission(author, kind=kind, state=state.value, reviewer=coordinator)
        actor = author if TRANSITIONS[name].actor == "owner" else coordinator
        before = len(activity_for(submission))
        if is_allowed(kind, state, name):
            run(name, actor, submission)
            db.session.commit()
            assert submission.state != state or name == "reject"
            assert len(activity_for(submission)) == before + 1
        else:
            with pytest.raises(ActionError):
                run(name, actor, submission)
            db.session.rollback()
            assert db.session.get(Submission, submission.id).state == state
            assert len(activity_for(submission)) == before


@pytest.mark.parametrize("name", ["start_review", "request_changes", "publish", "reject"])
def test_members_cannot_take_coordinators_decisions(name):
    author = make_member(make_authority())
    submission = make_submission(author, state="submitted")
    with pytest.raises(NotAllowed):
        run(name, author, submission)
    db.session.rollback()
    assert db.session.get(Submission, submission.id).state == State.SUBMITTED


def test_another_authority_cannot_submit_or_edit():
    author = make_member(make_authority())
    outsider = make_member(make_authority(name="Other"))
    submission = make_submission(author)
    with pytest.raises(NotAllowed):
        services.submit(outsider, submission)
    with pytest.raises(NotAllowed):
        services.save_content(outsider, submission, practice_content(title="Hijacked"))
    db.session.rollback()
    assert db.session.get(Submission, submission.id).working_revision.title != "Hijacked"


def test_an_unverified_authority_can_draft_but_not_submit():
    author = make_member(make_authority(verified=False))
    submission = make_submission(author)
    with pytest.raises(ActionError, match="not verified"):
        services.submit(author, submission)
    db.session.rollback()
    assert db.session.get(Submission, submission.id).state == State.DRAFT


def test_an_incomplete_draft_cannot_be_submitted():
    author = make_member(make_authority())
    submission = make_submission(author, problem="", theme_ids=[])
    with pytest.raises(ActionError) as refused:
        services.submit(author, submission)
    assert refused.value.field == "problem"


def test_decisions_need_a_comment_except_approval():
    coordinator = make_coordinator()
    submission = make_submission(make_member(make_authority()), state="in_review")
    for name in ("request_changes", "reject"):
        with pytest.raises(ActionError, match="comment"):
            getattr(services, name)(coordinator, submission, "   ")
    services.publish(coordinator, submission)
    db.session.commit()
    (review,) = submission.reviews
    assert review.decision == Decision.PUBLISHED
    assert review.revision_id == submission.published_revision_id


def test_editing_a_published_item_keeps_the_published_revision_visible():
    author = make_member(make_authority())
    coordinator = make_coordinator()
    submission = make_submission(author, state="published", reviewer=coordinator)
    published = submission.published_revision
    services.save_content(author, submission, practice_content(title="Nueva versión"))
    db.session.commit()
    assert submission.state == State.DRAFT
    assert submission.is_public
    assert submission.published_revision_id == published.id
    assert submission.working_revision.number == 2
    assert submission.working_revision.title == "Nueva versión"
    assert published.title != "Nueva versión"

    services.submit(author, submission)
    services.reject(coordinator, submission, "Mejor la versión anterior.")
    db.session.commit()
    assert submission.state == State.PUBLISHED
    assert submission.working_revision_id == published.id
    assert submission.is_public

    services.save_content(author, submission, practice_content(title="Tercera versión"))
    services.submit(author, submission)
    services.publish(coordinator, submission)
    db.session.commit()
    assert submission.published_revision.number == 3
    assert submission.published_revision.title == "Tercera versión"


def test_expired_ideas_are_closed_once():
    from datetime import date, timedelta

    author = make_member(make_authority())
    idea = make_submission(author, kind="idea", state="published")
    assert services.close_expired_ideas(today=idea.open_until) == 0
    later = idea.open_until + timedelta(days=1)
    assert services.close_expired_ideas(today=later) == 1
    db.session.commit()
    assert idea.state == State.CLOSED
    assert not idea.is_public
    assert services.close_expired_ideas(today=later) == 0
    assert date.today() < later


def test_only_coordinators_create_items_for_another_authority():
    authority = make_authority(name="Owner")
    member = make_member(make_authority(name="Other"))
    with pytest.raises(NotAllowed):
        services.create_submission(member, Kind.PRACTICE, practice_content(), authority=authority)
    db.session.rollback()
    created = services.create_submission(
        make_coordinator(), Kind.PRACTICE, practice_content(), authority=authority
    )
    db.session.commit()
    assert created.authority_id == authority.id
    assert db.session.scalar(db.select(db.func.count()).select_from(Submission)) == 1
