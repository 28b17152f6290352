"""`flask exchange seed-demo`: believable demo data in every workflow state, made through the real
services, idempotent, and the bulk catalogue behind `--practices N`."""

import sys
from collections import Counter

import pycountry
import pytest
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.activity.services import activity_for
from exchange.auth.models import User, find_user_by_email
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.demo import AUTHORITIES, INTERESTS, ITEMS, STAFF
from exchange.extensions import db
from exchange.notifications.models import Notification
from exchange.reference.countries import is_subdivision_of, side_of
from exchange.submissions.models import (
    CoOwner,
    CoOwnerStatus,
    Decision,
    Interest,
    InterestStatus,
    Review,
    Revision,
    Submission,
)
from exchange.submissions.search import search_condition
from exchange.workflow import Kind, State
from tests.factories import log_in

SEEDED = (User, Authority, Submission, Revision, Review, CoOwner, Interest, ActivityEntry)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["exchange", "seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def counts(models=SEEDED) -> dict[str, int]:
    db.session.expire_all()
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in models}


def submissions() -> list[Submission]:
    return list(db.session.scalars(select(Submission).order_by(Submission.id)))


def by_title(title: str) -> Submission:
    return db.session.scalar(
        select(Submission)
        .join(Revision, Revision.submission_id == Submission.id)
        .where(Revision.number == 1, Revision.title == title)
    )


def test_a_second_run_adds_nothing(runner, seeded):
    first = counts((*SEEDED, Notification))
    assert first["Authority"] == len(AUTHORITIES)
    assert first["User"] == len(AUTHORITIES) + len(STAFF)
    assert first["Submission"] == len(ITEMS)
    assert first["Interest"] == len(INTERESTS)

    result = runner.invoke(args=["exchange", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert counts((*SEEDED, Notification)) == first


def test_logins_are_printed_with_what_each_can_try(app, seeded):
    output = seeded.output
    assert f"Demo logins (password: {app.config['DEMO_PASSWORD']}):" in output
    assert "  coordinator@demo.exchange.example        coordinator\n" in output
    assert "try: the review queue (submitted and in-review items)" in output
    for demo in AUTHORITIES:
        assert f"  {demo.member_email:40} {demo.name}\n" in output
        assert f"   try: {demo.try_this}\n" in output


def test_authorities_from_both_sides_in_real_regions(seeded):
    authorities = list(db.session.scalars(select(Authority)))
    assert len(authorities) >= 20
    sides = Counter(a.side for a in authorities)
    assert sides["EU"] >= 8
    assert sides["LAC"] >= 12
    assert len({a.kind for a in authorities}) == 6  # every kind of authority
    assert len({a.country_code for a in authorities}) >= 14
    for authority in authorities:
        assert side_of(authority.country_code) == authority.side
        if authority.subdivision_code:
            assert is_subdivision_of(authority.subdivision_code, authority.country_code)
        assert authority.description
        assert authority.themes, authority.name
    # Names built from ISO 3166-2 as pycountry spells the regions.
    names = {a.name for a in authorities}
    for code, name in (
        ("CO-NAR", "Gobernación de {}"),
        ("PL-12", "Województwo {}"),
        ("IT-45", "Regione {}"),
        ("UY-MO", "Intendencia de {}"),
    ):
        assert name.format(pycountry.subdivisions.get(code=code).name) in names
    statuses = Counter(a.status for a in authorities)
    assert statuses[AuthorityStatus.PENDING] == 1
    assert statuses[AuthorityStatus.VERIFIED] == len(authorities) - 1


def test_every_workflow_state_is_there(seeded):
    items = submissions()
    states = {(s.kind, s.state) for s in items}
    for state in State:
        if state == State.CLOSED:
            assert (Kind.IDEA, state) in states
        else:
            assert {(Kind.PRACTICE, state), (Kind.IDEA, state)} & states, state
    # Published with a new revision under review, the published one still public.
    revised = [s for s in items if s.published_revision_id not in (None, s.working_revision_id)]
    assert {s.kind for s in revised} == {Kind.PRACTICE, Kind.IDEA}
    for submission in revised:
        assert submission.state == State.SUBMITTED
        assert submission.is_public
        assert submission.working_revision.number == 2
        working, published = submission.working_revision, submission.published_revision
        assert any(getattr(working, f) != getattr(published, f) for f in working.text_fields())
    # Changes requested, made, and submitted again.
    resubmitted = by_title(
        "Małopolska anti-smog programme: replacing coal stoves household by household"
    )
    assert resubmitted.state == State.SUBMITTED
    assert [r.decision for r in resubmitted.reviews] == [Decision.CHANGES_REQUESTED]
    assert "cost per household" in resubmitted.reviews[0].comment
    assert "€3,500 per household" in resubmitted.working_revision.resources
    # Decisions carry the coordinator's comment.
    coordinator = find_user_by_email("coordinator@demo.exchange.example")
    for submission in items:
        if submission.state in (State.REJECTED, State.CHANGES_REQUESTED):
            (review,) = submission.reviews
            assert review.reviewer_id == coordinator.id
            assert review.comment


def test_items_went_through_the_services(seeded):
    revised = by_title("Rede Integrada de Transporte: canaletas exclusivas e estações-tubo")
    curitiba = find_user_by_email("curitiba@demo.exchange.example")
    coordinator = find_user_by_email("coordinator@demo.exchange.example")
    assert [(e.action, e.actor_id) for e in activity_for(revised)] == [
        ("submission.create", curitiba.id),
        ("submission.submit", curitiba.id),
        ("submission.start_review", coordinator.id),
        ("submission.publish", coordinator.id),
        ("submission.revise", curitiba.id),
        ("submission.submit", curitiba.id),
    ]
    # Published items are in the search index; archived and closed ones are not.
    condition = search_condition("estações tubo").condition
    assert list(db.session.scalars(select(Submission.id).where(condition))) == [revised.id]
    condition = search_condition("castaña").condition  # the closed Pando–Madre de Dios idea
    assert list(db.session.scalars(select(Submission.id).where(condition))) == []
    # The owners were told, as the services do.
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {
        "submissions.received",
        "submissions.published",
        "submissions.rejected",
        "submissions.changes_requested",
        "submissions.co_owner_invited",
        "submissions.co_owner_answered",
        "submissions.interest_received",
        "submissions.interest_answered",
    } <= kinds


def test_texts_in_the_three_languages(seeded):
    languages = Counter(
        (s.kind, s.working_revision.language) for s in submissions() if s.working_revision
    )
    for kind in Kind:
        for language in ("en", "es", "pt"):
            assert languages[(kind, language)] >= 1, (kind, language)
    # Written texts, not placeholders.
    for revision in db.session.scalars(select(Revision)):
        assert "lorem" not in (revision.summary + revision.title).lower()
        assert len(revision.summary) > 60


def test_co_owned_ideas_across_the_chile_peru_border(seeded):
    co_owners = list(db.session.scalars(select(CoOwner)))
    statuses = Counter(c.status for c in co_owners)
    assert statuses[CoOwnerStatus.ACCEPTED] == 2
    assert statuses[CoOwnerStatus.INVITED] == 1
    for co_owner in co_owners:
        countries = {co_owner.authority.country_code, co_owner.submission.authority.country_code}
        assert countries == {"CL", "PE"}
        assert co_owner.submission.kind == Kind.IDEA
        assert co_owner.submission.working_revision.border_area.code == "PE-CL"
    accepted = [c for c in co_owners if c.status == CoOwnerStatus.ACCEPTED]
    assert {c.submission.state for c in accepted} == {State.PUBLISHED, State.IN_REVIEW}
    pending = next(c for c in co_owners if c.status == CoOwnerStatus.INVITED)
    assert pending.submission.state == State.DRAFT


def test_interests_with_and_without_answers(seeded):
    interests = list(db.session.scalars(select(Interest)))
    statuses = Counter(i.status for i in interests)
    assert statuses[InterestStatus.ANSWERED] >= 3
    assert statuses[InterestStatus.OPEN] >= 3
    for interest in interests:
        assert interest.submission.is_public
        assert interest.authority_id not in interest.submission.owner_authority_ids()
        assert (interest.answer is not None) == (interest.status == InterestStatus.ANSWERED)


def test_demo_accounts_get_a_cheap_hash_that_logging_in_upgrades(app, runner, monkeypatch):
    # Pretend the app hashes at a higher cost than the demo's quick hashes.
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    result = runner.invoke(args=["exchange", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert app.config["ARGON2_TIME_COST"] == 2  # restored
    member = find_user_by_email("bologna@demo.exchange.example")
    assert ",t=1," in member.password_hash
    log_in(app.test_client(), member, password=app.config["DEMO_PASSWORD"])
    db.session.expire_all()
    assert ",t=2," in find_user_by_email("bologna@demo.exchange.example").password_hash


def test_practices_option_adds_a_bulk_catalogue(runner):
    result = runner.invoke(args=["exchange", "seed-demo", "--practices", "50", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Added 50 published practices in bulk." in result.output
    demo_practices = sum(1 for item in ITEMS if item.kind == "practice")
    total = db.session.scalar(
        select(func.count()).select_from(Submission).where(Submission.kind == Kind.PRACTICE)
    )
    assert total == demo_practices + 50
    published = db.session.scalar(
        select(func.count()).select_from(Submission).where(Submission.state == State.PUBLISHED)
    )
    assert published == sum(1 for item in ITEMS if item.state == "published") + 50
    condition = search_condition("agua").condition  # the bulk practices are indexed too
    assert db.session.scalar(select(func.count()).select_from(Submission).where(condition)) > 0
    assert "Demo logins" in result.output


def test_practices_option_says_clearly_when_the_bulk_seeder_is_missing(runner, monkeypatch):
    monkeypatch.setitem(sys.modules, "exchange.catalogue.bulk", None)  # as if it did not exist
    result = runner.invoke(args=["exchange", "seed-demo", "--practices", "50"])
    assert result.exit_code == 1
    assert "--practices needs exchange.catalogue.bulk.seed_catalogue" in result.output
    assert counts((Authority, Submission)) == {"Authority": 0, "Submission": 0}
