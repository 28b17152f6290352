"""The matching services: loading the engine's data, storing proposals, the debounce, and the
brokerage of matches (approve, dismiss, by hand, answer, remind, expire, stages, close), each
allowed and refused. E-mails go through the real worker and SMTP server."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exchange.activity.services import activity_for
from exchange.authorities.models import Authority
from exchange.authorities.services import ProfileChanges, update_profile
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.matching import services
from exchange.matching.models import (
    Answer,
    Match,
    MatchStatus,
    PendingRecompute,
    Proposal,
    ProposalStatus,
    Stage,
    StageReport,
)
from exchange.matching.reasons import describe
from exchange.notifications.models import Notification
from exchange.notifications.services import queue_notification
from exchange.reference.models import BorderArea, Programme, Theme
from exchange.submissions import services as submissions
from tests.conftest import wait_for
from tests.factories import (
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_proposal,
    make_submission,
    make_user,
)

pytestmark = pytest.mark.usefixtures("reference")

_sentinels = itertools.count(1)


def settled(mailbox):
    """Everything the worker sent up to now: a sentinel queued last arrives last (one worker)."""
    sentinel = make_user(email=f"sentinel-m{next(_sentinels)}@example.org")
    queue_notification(sentinel, "auth.confirm_email")
    db.session.commit()
    wait_for(lambda: mailbox.to(sentinel.email), timeout=30, message="the sentinel e-mail")
    return [m for m in mailbox.messages if not m.to.startswith("sentinel-")]


def kinds_for(user) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.kind)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


@pytest.fixture
def pair():
    """Tacna (LAC) and Bologna (EU), each with a member, and a coordinator."""
    tacna = make_authority(name="Gobierno Regional de Tacna")
    bologna = make_authority(
        name="Comune di Bologna", country="IT", subdivision="IT-BO", kind="municipality"
    )
    return {
        "tacna": tacna,
        "bologna": bologna,
        "ana": make_member(tacna, email="ana@tacna.example", name="Ana Quispe", language="es"),
        "marco": make_member(bologna, email="marco@bologna.example", name="Marco Rossi"),
        "coordinator": make_coordinator(email="coord@exchange.example", name="Carla Coordinator"),
    }


# Loading -----------------------------------------------------------------------------------------


def test_profiles_hold_verified_authorities_with_their_published_items(pair):
    tacna = pair["tacna"]
    theme = db.session.scalar(select(Theme).where(Theme.code == "tourism"))
    programme = db.session.scalar(select(Programme).where(Programme.code == "INNOVACT"))
    area = db.session.scalar(select(BorderArea).where(BorderArea.code == "PE-CL"))
    tacna.description = "Gestión del agua en zonas áridas."
    tacna.description_language = "es"
    tacna.themes = [theme]
    tacna.programmes = [programme]
    tacna.border_areas = [area]
    tacna.languages = ["es", "en"]
    tacna.match_capacity = 4
    db.session.commit()
    practice = make_submission(pair["ana"], state="published")
    idea = make_submission(pair["ana"], kind="idea", state="published")
    make_submission(pair["ana"], state="draft", title="Borrador secreto")
    make_authority(name="Pending", verified=False)
    make_match(tacna, pair["bologna"])  # one open match: capacity 4 - 1

    found = {p.id: p for p in services.profiles()}

    assert set(found) == {tacna.id, pair["bologna"].id}
    profile = found[tacna.id]
    assert profile.side == "LAC"
    assert profile.kind == "region"
    assert profile.country == "PE"
    assert profile.languages == {"es", "en"}
    assert profile.themes == {"tourism", "water-management"}
    assert profile.objectives == {"INNOVACT-1"}
    assert "INNOVACT" in profile.programmes
    assert profile.border_areas == {"PE-CL"}
    assert profile.capacity == 3
    texts = [d.text for d in profile.documents]
    assert texts[0] == "Gestión del agua en zonas áridas."
    assert any(practice.published_revision.title in t for t in texts)
    assert any(idea.published_revision.title in t for t in texts)
    assert not any("Borrador secreto" in t for t in texts)
    assert {d.language for d in profile.documents} == {"es"}
    (wanted,) = profile.wanted
    assert wanted.kinds == {"region"}
    assert wanted.sides == {"EU"}


def test_closed_and_expired_ideas_want_no_partner(pair):
    idea = make_submission(pair["ana"], kind="idea", state="published")
    (profile,) = [p for p in services.profiles() if p.id == pair["tacna"].id]
    assert len(profile.wanted) == 1
    later = idea.open_until + timedelta(days=1)
    (profile,) = [p for p in services.profiles(today=later) if p.id == pair["tacna"].id]
    assert profile.wanted == ()
    submissions.close(pair["ana"], idea)
    db.session.commit()
    (profile,) = [p for p in services.profiles() if p.id == pair["tacna"].id]
    assert profile.wanted == ()
    assert profile.documents == ()  # a closed idea is not public any more


def test_loading_takes_a_handful_of_queries_whatever_the_number_of_authorities(pair):
    import threading

    from sqlalchemy import event

    for number in range(12):
        member = make_member(make_authority(name=f"Región {number}"))
        make_submission(member, state="published")
    this_thread = threading.get_ident()
    statements = []

    def count(*args):
        # Only this test's queries: the worker thread may be sending earlier e-mails.
        if threading.get_ident() == this_thread:
            statements.append(args)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = services.profiles()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(found) == 14
    assert len(statements) <= 12


def test_vocabulary_has_keywords_and_groups():
    vocabulary = services.vocabulary()
    assert "agua" in " ".join(vocabulary.keywords["water-management"]["es"])
    assert vocabulary.groups["water-management"] == "environment"


def test_excluded_pairs_are_matched_or_dismissed(pair):
    other = make_authority(name="Región de Murcia", country="ES", subdivision="ES-MU")
    third = make_authority(name="Comunidad de Madrid", country="ES", subdivision="ES-MD")
    match = make_match(pair["tacna"], pair["bologna"])
    dismissed = make_proposal(pair["tacna"], other, status="dismissed")
    make_proposal(pair["tacna"], third)  # still proposed: not excluded
    assert services.excluded_pairs() == {
        (match.authority_a_id, match.authority_b_id),
        (dismissed.authority_a_id, dismissed.authority_b_id),
    }
    assert services.is_excluded(pair["bologna"].id, pair["tacna"].id)
    assert not services.is_excluded(pair["tacna"].id, third.id)


# Approving and dismissing ------------------------------------------------------------------------


def test_approving_a_proposal_offers_the_match_to_both_sides(app, pair):
    proposal = make_proposal(pair["tacna"], pair["bologna"], score=0.72)
    before = utcnow()

    match = services.approve_proposal(pair["coordinator"], proposal, note="Dos regiones áridas.")
    db.session.commit()

    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.decided_by_id == pair["coordinator"].id
    assert match.status == MatchStatus.AWAITING
    assert match.proposal_id == proposal.id
    assert match.score == 0.72
    assert match.reasons == proposal.reasons
    assert match.note == "Dos regiones áridas."
    assert (match.answer_a, match.answer_b) == (Answer.PENDING, Answer.PENDING)
    days = app.config["MATCH_EXPIRY_DAYS"]
    assert before + timedelta(days=days) <= match.expires_at <= utcnow() + timedelta(days=days)
    assert [e.action for e in activity_for(match)] == ["match.create"]
    assert [e.action for e in activity_for(proposal)] == ["proposal.approve"]
    assert kinds_for(pair["ana"]) == ["matching.proposed"]
    assert kinds_for(pair["marco"]) == ["matching.proposed"]


def test_only_coordinators_approve_or_dismiss(pair):
    proposal = make_proposal(pair["tacna"], pair["bologna"])
    with pytest.raises(NotAllowed):
        services.approve_proposal(pair["ana"], proposal)
    with pytest.raises(NotAllowed):
        services.dismiss_proposal(pair["marco"], proposal)
    db.session.rollback()
    assert db.session.get(Proposal, proposal.id).status == ProposalStatus.PROPOSED
    assert db.session.scalar(select(func.count()).select_from(Match)) == 0


def test_a_decided_proposal_cannot_be_decided_again(pair):
    proposal = make_proposal(pair["tacna"], pair["bologna"])
    services.dismiss_proposal(pair["coordinator"], proposal)
    db.session.commit()
    assert proposal.status == ProposalStatus.DISMISSED
    with pytest.raises(ActionError, match="already been decided"):
        services.approve_proposal(pair["coordinator"], proposal)
    with pytest.raises(ActionError, match="already been decided"):
        services.dismiss_proposal(pair["coordinator"], proposal)
    db.session.rollback()
    assert services.is_excluded(pair["tacna"].id, pair["bologna"].id)


def test_approval_is_refused_when_an_authority_is_at_capacity(pair):
    pair["bologna"].match_capacity = 1
    db.session.commit()
    make_match(
        pair["bologna"], make_authority(name="Región de Arica", country="CL", subdivision="CL-AP")
    )
    proposal = make_proposal(pair["tacna"], pair["bologna"])
    with pytest.raises(ActionError, match="no room for another match") as refused:
        services.approve_proposal(pair["coordinator"], proposal)
    assert "Comune di Bologna" in str(refused.value)
    db.session.rollback()
    assert db.session.get(Proposal, proposal.id).status == ProposalStatus.PROPOSED


def test_a_declined_or_expired_match_frees_its_place(pair):
    pair["bologna"].match_capacity = 1
    db.session.commit()
    arica = make_authority(name="Región de Arica", country="CL", subdivision="CL-AP")
    make_match(pair["bologna"], arica, state="declined")
    match = services.approve_proposal(
        pair["coordinator"], make_proposal(pair["tacna"], pair["bologna"])
    )
    db.session.commit()
    assert match.status == MatchStatus.AWAITING


def test_approval_is_refused_for_an_unverified_authority(pair):
    pending = make_authority(name="Municipio pendiente", verified=False)
    proposal = make_proposal(pair["bologna"], pending)
    with pytest.raises(ActionError, match="not verified"):
        services.approve_proposal(pair["coordinator"], proposal)


def test_approval_is_refused_when_the_pair_already_has_a_match(pair):
    match = make_match(pair["tacna"], pair["bologna"], state="declined")
    # A stale proposal of the same pair (the engine never makes one: the pair is excluded).
    db.session.delete(match.proposal)
    db.session.commit()
    proposal = make_proposal(pair["tacna"], pair["bologna"])
    with pytest.raises(ActionError, match="already been matched"):
        services.approve_proposal(pair["coordinator"], proposal)


# Matching by hand --------------------------------------------------------------------------------


def test_a_coordinator_matches_two_authorities_by_hand(pair):
    practice = make_submission(pair["ana"], state="published")
    match = services.create_match(
        pair["coordinator"],
        pair["bologna"],
        pair["tacna"],
        note="Por el riego.",
        submission=practice,
    )
    db.session.commit()
    assert (match.authority_a_id, match.authority_b_id) == tuple(
        sorted((pair["tacna"].id, pair["bologna"].id))
    )
    assert match.proposal_id is None
    assert match.submission_id == practice.id
    # The engine explains a pair it did not propose.
    assert 0 <= match.score <= 1
    assert {r["signal"] for r in match.reasons} >= {"themes", "kind"}
    assert not match.same_side
    assert kinds_for(pair["ana"])[-1] == "matching.proposed"
    assert kinds_for(pair["marco"]) == ["matching.proposed"]


def test_matching_by_hand_takes_up_a_pending_proposal(pair):
    proposal = make_proposal(pair["tacna"], pair["bologna"], score=0.6)
    match = services.create_match(pair["coordinator"], pair["tacna"], pair["bologna"])
    db.session.commit()
    assert proposal.status == ProposalStatus.APPROVED
    assert match.proposal_id == proposal.id
    assert match.score == 0.6


def test_matching_by_hand_is_refused_when_it_should_be(pair):
    coordinator = pair["coordinator"]
    madrid = make_authority(name="Comunidad de Madrid", country="ES", subdivision="ES-MD")
    with pytest.raises(NotAllowed):
        services.create_match(pair["ana"], pair["tacna"], pair["bologna"])
    with pytest.raises(ActionError, match="same side") as refused:
        services.create_match(coordinator, pair["bologna"], madrid)
    assert refused.value.field == "authority_b"
    with pytest.raises(ActionError, match="two different"):
        services.create_match(coordinator, madrid, madrid)
    other_practice = make_submission(make_member(make_authority(name="Tercera")), state="published")
    with pytest.raises(ActionError) as refused:
        services.create_match(
            coordinator, pair["tacna"], pair["bologna"], submission=other_practice
        )
    assert refused.value.field == "submission"
    db.session.rollback()
    make_match(pair["tacna"], pair["bologna"], state="declined")
    with pytest.raises(ActionError, match="already been matched"):
        services.create_match(coordinator, pair["tacna"], pair["bologna"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Match)) == 1


def test_same_side_matches_only_when_asked(pair):
    madrid = make_authority(name="Comunidad de Madrid", country="ES", subdivision="ES-MD")
    match = services.create_match(pair["coordinator"], pair["bologna"], madrid, same_side=True)
    db.session.commit()
    assert match.same_side


# Answering ---------------------------------------------------------------------------------------


def test_both_accept_and_are_introduced(pair):
    match = make_match(pair["tacna"], pair["bologna"])
    tacna_side = match.side_of(pair["tacna"].id)

    services.answer_match(pair["ana"], match, accept=True)
    db.session.commit()
    assert match.status == MatchStatus.AWAITING
    assert match.answer_of(tacna_side) == Answer.ACCEPTED
    assert kinds_for(pair["marco"]) == ["matching.proposed", "matching.accepted"]
    assert kinds_for(pair["ana"]) == ["matching.proposed"]

    services.answer_match(pair["marco"], match, accept=True)
    db.session.commit()
    assert match.status == MatchStatus.CONNECTED
    assert match.stage == Stage.INTRODUCED
    assert match.connected_at is not None
    assert kinds_for(pair["ana"])[-1] == "matching.connected"
    assert kinds_for(pair["marco"])[-1] == "matching.connected"
    assert [e.action for e in activity_for(match)] == [
        "match.create",
        "match.accept",
        "match.accept",
        "match.connect",
    ]


def test_a_decline_needs_a_reason_and_ends_the_match(pair):
    match = make_match(pair["tacna"], pair["bologna"], coordinator=pair["coordinator"])
    with pytest.raises(ActionError) as refused:
        services.answer_match(pair["marco"], match, accept=False, reason="  ")
    assert refused.value.field == "reason"
    db.session.rollback()

    services.answer_match(pair["marco"], match, accept=False, reason="Ya tenemos socio.")
    db.session.commit()
    assert match.status == MatchStatus.DECLINED
    assert match.decline_reason == "Ya tenemos socio."
    assert kinds_for(pair["ana"]) == ["matching.proposed", "matching.declined"]
    assert kinds_for(pair["coordinator"]) == ["matching.declined"]
    assert services.is_excluded(pair["tacna"].id, pair["bologna"].id)
    # Nobody answers a declined match any more.
    with pytest.raises(ActionError, match="no longer waiting"):
        services.answer_match(pair["ana"], match, accept=True)


def test_who_may_answer(pair):
    match = make_match(pair["tacna"], pair["bologna"])
    outsider = make_member(make_authority(name="Otra"))
    unconfirmed = make_member(pair["tacna"], confirmed=False)
    with pytest.raises(NotAllowed):
        services.answer_match(outsider, match, accept=True)
    with pytest.raises(NotAllowed):
        services.answer_match(pair["coordinator"], match, accept=True)
    with pytest.raises(NotAllowed, match="Confirm"):
        services.answer_match(unconfirmed, match, accept=True)
    db.session.rollback()
    services.answer_match(pair["ana"], match, accept=True)
    db.session.commit()
    colleague = make_member(pair["tacna"])
    with pytest.raises(ActionError, match="already answered"):
        services.answer_match(colleague, match, accept=False, reason="No")


# Reminders and expiry ----------------------------------------------------------------------------


def test_unanswered_matches_are_reminded_after_7_days_and_expire_after_21(
    app, worker, mailbox, pair
):
    match = make_match(pair["tacna"], pair["bologna"])
    services.answer_match(pair["marco"], match, accept=True)
    db.session.commit()
    settled(mailbox)
    mailbox.reset()
    start = match.created_at

    assert services.remind_and_expire(start + timedelta(days=6)) == services.Sweep(0, 0)
    assert services.remind_and_expire(start + timedelta(days=7, minutes=1)) == services.Sweep(1, 0)
    db.session.commit()
    assert match.reminded_at is not None
    # Once only.
    assert services.remind_and_expire(start + timedelta(days=8)) == services.Sweep(0, 0)
    db.session.commit()
    (reminder,) = settled(mailbox)
    # Only the side that has not answered.
    assert reminder.to == "ana@tacna.example"
    assert "Comune di Bologna" in reminder.subject
    mailbox.reset()

    assert services.remind_and_expire(start + timedelta(days=20)) == services.Sweep(0, 0)
    assert services.remind_and_expire(start + timedelta(days=21, minutes=1)) == services.Sweep(0, 1)
    db.session.commit()
    assert match.status == MatchStatus.EXPIRED
    assert services.remind_and_expire(start + timedelta(days=30)) == services.Sweep(0, 0)
    db.session.commit()
    expired = {m.to: m for m in settled(mailbox)}
    assert set(expired) == {"ana@tacna.example", "marco@bologna.example"}
    assert expired["marco@bologna.example"].subject == (
        "The match with Gobierno Regional de Tacna has expired"
    )
    # Expired: the pair is not proposed again, and the place is free.
    assert services.is_excluded(pair["tacna"].id, pair["bologna"].id)
    assert services.open_match_counts() == {}


def test_the_periods_are_settings(app, pair):
    match = make_match(pair["tacna"], pair["bologna"])
    app.config["MATCH_REMINDER_DAYS"] = 2
    try:
        assert (
            services.remind_and_expire(match.created_at + timedelta(days=2, minutes=1)).reminded
            == 1
        )
    finally:
        app.config["MATCH_REMINDER_DAYS"] = 7


# Stages ------------------------------------------------------------------------------------------


def test_stages_only_move_forward(pair):
    match = make_match(pair["tacna"], pair["bologna"], state="connected")
    assert services.next_stages(match) == [
        Stage.CONTACTED,
        Stage.MET,
        Stage.AGREEMENT,
        Stage.JOINT_PROJECT,
    ]
    report = services.report_stage(pair["ana"], match, "met", note="Nos vimos en Bruselas.")
    db.session.commit()
    assert match.stage == Stage.MET
    assert report.authority_id == pair["tacna"].id
    assert report.note == "Nos vimos en Bruselas."
    for backwards in ("contacted", "met", "introduced"):
        with pytest.raises(ActionError) as refused:
            services.report_stage(pair["marco"], match, backwards)
        assert refused.value.field == "stage"
    with pytest.raises(ActionError, match="Choose a stage"):
        services.report_stage(pair["marco"], match, "married")
    services.report_stage(pair["marco"], match, Stage.AGREEMENT)
    db.session.commit()
    assert [r.stage for r in match.stage_reports] == [Stage.MET, Stage.AGREEMENT]
    funnel = services.stage_funnel()
    assert funnel.reached(Stage.INTRODUCED) == 1
    assert funnel.reached(Stage.AGREEMENT) == 1
    assert funnel.reached(Stage.JOINT_PROJECT) == 0


def test_stages_only_by_the_sides_of_a_connected_match(pair):
    match = make_match(pair["tacna"], pair["bologna"])
    with pytest.raises(ActionError, match="connected"):
        services.report_stage(pair["ana"], match, "contacted")
    db.session.rollback()
    services.answer_match(pair["ana"], match, accept=True)
    services.answer_match(pair["marco"], match, accept=True)
    db.session.commit()
    with pytest.raises(NotAllowed):
        services.report_stage(pair["coordinator"], match, "contacted")
    with pytest.raises(NotAllowed):
        services.report_stage(make_member(make_authority(name="Otra")), match, "contacted")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StageReport)) == 0


def test_stale_stages_are_reminded_once_per_period(app, pair):
    match = make_match(pair["tacna"], pair["bologna"], state="connected")
    connected = match.connected_at
    assert services.remind_stage_updates(connected + timedelta(days=29)) == 0
    assert services.remind_stage_updates(connected + timedelta(days=30, minutes=1)) == 1
    db.session.commit()
    assert kinds_for(pair["ana"])[-1] == "matching.stage_reminder"
    assert kinds_for(pair["marco"])[-1] == "matching.stage_reminder"
    assert services.remind_stage_updates(connected + timedelta(days=45)) == 0
    assert services.remind_stage_updates(connected + timedelta(days=61)) == 1
    db.session.commit()
    # A stage recorded restarts the period.
    match.stage_updated_at = connected + timedelta(days=70)
    db.session.commit()
    assert services.remind_stage_updates(connected + timedelta(days=95)) == 0
    assert services.remind_stage_updates(connected + timedelta(days=101)) == 1


def test_closing(pair):
    match = make_match(pair["tacna"], pair["bologna"])
    with pytest.raises(ActionError, match="cannot be closed"):
        services.close_match(pair["ana"], match, "Ya no.")
    with pytest.raises(NotAllowed):
        services.close_match(make_member(make_authority(name="Otra")), match, "Ya no.")
    with pytest.raises(ActionError) as refused:
        services.close_match(pair["coordinator"], match, " ")
    assert refused.value.field == "reason"
    db.session.rollback()
    # A coordinator withdraws a match still waiting: both sides are told.
    services.close_match(pair["coordinator"], match, "Retirado por error.")
    db.session.commit()
    assert match.status == MatchStatus.CLOSED
    assert services.closing_reason(match) == "Retirado por error."
    assert kinds_for(pair["ana"])[-1] == "matching.closed"
    assert kinds_for(pair["marco"])[-1] == "matching.closed"

    connected = make_match(
        pair["tacna"],
        make_authority(name="Región de Murcia", country="ES", subdivision="ES-MU"),
        state="connected",
    )
    services.close_match(pair["ana"], connected, "Proyecto terminado.")
    db.session.commit()
    assert connected.status == MatchStatus.CLOSED
    assert kinds_for(pair["ana"])[-1] != "matching.closed"  # the side that closed is not told


# The workspace's lists ---------------------------------------------------------------------------


def test_an_authority_sees_its_matches_by_stage(pair):
    tacna = pair["tacna"]
    tacna.match_capacity = 4
    db.session.commit()
    others = [
        make_authority(name=f"Región {n}", country="ES", subdivision="ES-MU") for n in range(4)
    ]
    waiting_for_us = make_match(tacna, others[0])
    waiting_for_them = make_match(tacna, others[1])
    services.answer_match(pair["ana"], waiting_for_them, accept=True)
    db.session.commit()
    connected = make_match(tacna, others[2], state="connected")
    declined = make_match(tacna, others[3], state="declined")

    found = services.matches_of(tacna.id)
    assert found.awaiting_you == [waiting_for_us]
    assert found.awaiting_other == [waiting_for_them]
    assert found.connected == [connected]
    assert found.past == [declined]
    assert found.total == 4


# Reasons in words --------------------------------------------------------------------------------


def test_reasons_are_described_in_the_readers_language(app):
    reasons = [
        {
            "signal": "themes",
            "score": 0.8,
            "weight": 0.3,
            "details": ["water-management", "tourism", "group:energy"],
        },
        {"signal": "text", "score": 0.4, "weight": 0.25, "details": ["circular-economy"]},
        {"signal": "language", "score": 1.0, "weight": 0.07, "details": ["es", "pt"]},
        {"signal": "border_area", "score": 1.0, "weight": 0.08, "details": ["same_area", "PE-CL"]},
        {
            "signal": "objectives",
            "score": 0.5,
            "weight": 0.12,
            "details": ["INNOVACT-1", "programme:INNOVACT"],
        },
        {
            "signal": "kind",
            "score": 0.8,
            "weight": 0.05,
            "details": ["municipality", "metropolitan_area"],
        },
        {
            "signal": "wanted_partner",
            "score": 1.0,
            "weight": 0.13,
            "details": ["counterpart_wants", "kind:region", "side:EU", "theme:tourism"],
        },
        {"signal": "objectives", "score": 0.0, "weight": 0.15, "details": ["INNOVACT-2"]},
    ]
    with app.test_request_context():
        sentences = describe(reasons, "Comune di Bologna", "Gobierno Regional de Tacna")
    assert sentences[0] == (
        "Themes in common: Water management and sanitation, Tourism; "
        "both also work in Energy and ecological transition."
    )
    assert "Their profiles, practices and ideas speak of the same things: Circular economy." in (
        sentences
    )
    assert "A language in common: Spanish, Portuguese." in sentences
    assert any(s.startswith("The same border area: ") and "Peru" in s for s in sentences)
    assert any(
        s.startswith("The same programme objectives: INNOVACT-1 (") and s.endswith("INNOVACT.")
        for s in sentences
    )
    assert (
        "Kinds of authority that work well together: Municipality with Metropolitan area."
        in sentences
    )
    assert (
        "A project idea of Gobierno Regional de Tacna looks for such a partner: "
        "Region, state or province, European Union, Tourism." in sentences
    )
    assert len(sentences) == 7  # the objective that scored nothing is left out
    with app.test_request_context():
        assert describe(
            [{"signal": "language", "score": 0.5, "weight": 1, "details": ["es~pt"]}]
        ) == ["Spanish and Portuguese: close enough to understand each other."]
        assert describe(
            [{"signal": "kind", "score": 1, "weight": 1, "details": ["region", "region"]}]
        ) == ["Both are of the same kind: Region, state or province."]


# Debounce ----------------------------------------------------------------------------------------


def _profile_changes(authority: Authority, **changes) -> ProfileChanges:
    values = {
        "name": authority.name,
        "kind": authority.kind,
        "country_code": authority.country_code,
        "subdivision_code": authority.subdivision_code,
        "website": authority.website,
        "description": "Agua y turismo.",
        "description_language": "es",
        "languages": ["es"],
        "programme_ids": [],
        "theme_ids": [],
        "border_area_ids": [],
        "match_capacity": 3,
    }
    values.update(changes)
    return ProfileChanges(**values)


def pending() -> dict[int, object]:
    db.session.expire_all()
    return {
        row.authority_id: row.changed_at for row in db.session.scalars(select(PendingRecompute))
    }


def test_a_profile_update_and_a_publication_note_the_change(pair):
    tacna = pair["tacna"]
    assert pending() == {}
    update_profile(pair["ana"], tacna, _profile_changes(tacna))
    db.session.commit()
    first = pending()[tacna.id]
    update_profile(pair["ana"], tacna, _profile_changes(tacna, description="Otra vez."))
    db.session.commit()
    assert set(pending()) == {tacna.id}
    assert pending()[tacna.id] >= first  # refreshed, not duplicated

    practice = make_submission(pair["marco"], state="in_review")
    assert pair["bologna"].id not in pending()  # nothing public changed yet
    submissions.publish(pair["coordinator"], practice)
    db.session.commit()
    assert pair["bologna"].id in pending()
    db.session.execute(db.delete(PendingRecompute))
    db.session.commit()
    submissions.archive(pair["marco"], practice)
    db.session.commit()
    assert set(pending()) == {pair["bologna"].id}


def test_closing_an_idea_notes_the_change(pair):
    idea = make_submission(pair["ana"], kind="idea", state="published")
    db.session.execute(db.delete(PendingRecompute))
    db.session.commit()
    submissions.close(pair["ana"], idea)
    db.session.commit()
    assert set(pending()) == {pair["tacna"].id}


def test_only_settled_changes_are_taken(app, pair):
    now = utcnow()
    services.note_change(pair["tacna"].id)
    db.session.commit()
    ids, _cutoff = services.settled_changes(now + timedelta(seconds=60))
    assert ids == []
    ids, cutoff = services.settled_changes(now + timedelta(seconds=121))
    assert ids == [pair["tacna"].id]
    # A change that arrives while its recomputation runs is kept for the next round.
    db.session.execute(db.update(PendingRecompute).values(changed_at=now + timedelta(seconds=200)))
    assert services.forget_changes(ids, cutoff) == 0
    assert set(pending()) == {pair["tacna"].id}


# Computing proposals with the engine -------------------------------------------------------------

THEMES = {
    "Comune di Bologna": (
        "IT",
        "IT-BO",
        "municipality",
        ["water-management", "agri-food"],
        "en",
        "Water management for agriculture and drip irrigation in dry summers.",
    ),
    "Región de Murcia": (
        "ES",
        "ES-MU",
        "region",
        ["water-management", "circular-economy"],
        "es",
        "Gestión del agua, riego por goteo y reutilización de aguas residuales.",
    ),
    "Métropole de Lyon": (
        "FR",
        "FR-69",
        "metropolitan_area",
        ["tourism", "cultural-heritage"],
        "en",
        "Cultural heritage and sustainable tourism routes in the city.",
    ),
    "Gobierno Regional de Tacna": (
        "PE",
        "PE-TAC",
        "region",
        ["water-management", "agri-food"],
        "es",
        "Gestión del agua y riego tecnificado para la agricultura.",
    ),
    "Municipalidad de Cusco": (
        "PE",
        "PE-CUS",
        "municipality",
        ["tourism", "cultural-heritage"],
        "es",
        "Turismo sostenible y patrimonio cultural en el centro histórico.",
    ),
    "Región de Arica": (
        "CL",
        "CL-AP",
        "region",
        ["circular-economy", "water-management"],
        "es",
        "Economía circular y reutilización del agua en el desierto.",
    ),
}


@pytest.fixture
def population():
    """Three EU and three LAC authorities with themes and descriptions, ids in this order."""
    found = {}
    for name, (country, subdivision, kind, themes, language, text) in THEMES.items():
        authority = make_authority(name=name, country=country, subdivision=subdivision, kind=kind)
        authority.themes = list(db.session.scalars(select(Theme).where(Theme.code.in_(themes))))
        authority.description = text
        authority.description_language = language
        authority.languages = [language]
        found[name] = authority
    db.session.commit()
    return found


def proposed_pairs() -> dict[tuple[int, int], Proposal]:
    db.session.expire_all()
    return {
        (p.authority_a_id, p.authority_b_id): p
        for p in db.session.scalars(
            select(Proposal).where(Proposal.status == ProposalStatus.PROPOSED)
        )
    }


def test_a_run_proposes_reciprocal_pairs_within_capacities(population):
    from exchange.matching import engine
    from exchange.matching.models import MatchingRun

    run = services.run_matching()
    db.session.commit()

    pairs = proposed_pairs()
    assert pairs
    sides = {a.id: a.side for a in population.values()}
    names = {a.id: name for name, a in population.items()}
    for (a, b), proposal in pairs.items():
        assert sides[a] != sides[b]
        assert 0 < proposal.score <= 1
        assert proposal.engine_version == engine.ENGINE_VERSION
        assert proposal.weights == engine.DEFAULT_WEIGHTS
        assert proposal.reasons
        assert {"signal", "score", "weight", "details"} <= set(proposal.reasons[0])
    named = {frozenset((names[a], names[b])) for a, b in pairs}
    assert {"Métropole de Lyon", "Municipalidad de Cusco"} in named
    assert {"Gobierno Regional de Tacna", "Región de Murcia"} in named or {
        "Comune di Bologna",
        "Gobierno Regional de Tacna",
    } in named
    (recorded,) = db.session.scalars(select(MatchingRun)).all()
    assert recorded.id == run.id
    assert recorded.scope == "full"
    assert recorded.proposals == len(pairs)
    assert recorded.finished_at is not None
    assert recorded.chunks_done == recorded.chunks_total


def test_no_authority_is_proposed_beyond_its_capacity(population):
    for authority in population.values():
        authority.match_capacity = 1
    db.session.commit()
    # Tacna already has an open match: no room left.
    tacna = population["Gobierno Regional de Tacna"]
    make_match(tacna, make_authority(name="Región de Madrid", country="ES", subdivision="ES-MD"))
    pending = make_authority(name="Pendiente", country="ES", subdivision="ES-MD", verified=False)
    pending.themes = population["Región de Murcia"].themes
    db.session.commit()

    services.run_matching()
    db.session.commit()

    counts: dict[int, int] = {}
    for a, b in proposed_pairs():
        counts[a] = counts.get(a, 0) + 1
        counts[b] = counts.get(b, 0) + 1
    assert counts
    assert max(counts.values()) == 1
    assert tacna.id not in counts
    assert pending.id not in counts  # unverified authorities never appear


def test_chunks_give_the_same_proposals_in_one_process_and_across_workers(app, population):
    services.run_matching()
    db.session.commit()
    whole = {pair: p.score for pair, p in proposed_pairs().items()}

    app.config["MATCHING_CHUNK_SIZE"] = 2
    try:
        run = services.run_matching()
        db.session.commit()
        assert run.chunks_total == 3
        assert {pair: p.score for pair, p in proposed_pairs().items()} == whole

        # Shared between workers: each chunk writes its candidates, the last one chooses.
        run = services.start_run()
        db.session.commit()
        finished = [services.score_chunk(run, index) for index in range(run.chunks_total)]
        db.session.commit()
        assert finished == [False, False, True]
        assert len(proposed_pairs()) >= len(whole)  # the candidates, for a moment
        services.finish_run(run)
        db.session.commit()
    finally:
        app.config["MATCHING_CHUNK_SIZE"] = 1000
    assert {pair: p.score for pair, p in proposed_pairs().items()} == whole
    assert run.proposals == len(whole)


def test_a_run_refreshes_proposed_rows_and_leaves_decided_ones(population):
    services.run_matching()
    db.session.commit()
    pairs = proposed_pairs()
    (kept_pair, kept), *others = sorted(pairs.items(), key=lambda item: -item[1].score)
    kept.score = 0.01
    kept.computed_at = utcnow() - timedelta(days=3)
    # A pair the engine does not choose: removed by the next run.
    lyon, tacna = population["Métropole de Lyon"], population["Gobierno Regional de Tacna"]
    stale = make_proposal(lyon, tacna, score=0.99)
    stale_pair, stale_id = (stale.authority_a_id, stale.authority_b_id), stale.id
    # A dismissed pair and an approved one are never touched, nor proposed again.
    dismissed_pair, dismissed = others[0]
    services.dismiss_proposal(make_coordinator(), dismissed)
    db.session.commit()

    services.run_matching()
    db.session.commit()

    pairs = proposed_pairs()
    assert pairs[kept_pair].id == kept.id
    assert pairs[kept_pair].score > 0.01
    assert pairs[kept_pair].computed_at > utcnow() - timedelta(minutes=1)
    assert stale_pair not in pairs
    assert db.session.get(Proposal, stale_id) is None
    assert dismissed_pair not in pairs
    assert db.session.get(Proposal, dismissed.id).status == ProposalStatus.DISMISSED


def test_a_declined_pair_is_not_proposed_again(population):
    services.run_matching()
    db.session.commit()
    best_pair, best = max(proposed_pairs().items(), key=lambda item: item[1].score)
    coordinator = make_coordinator()
    match = services.approve_proposal(coordinator, best)
    db.session.commit()
    member = make_member(db.session.get(Authority, best_pair[0]))
    services.answer_match(member, match, accept=False, reason="No ahora.")
    db.session.commit()

    services.run_matching()
    db.session.commit()
    assert best_pair not in proposed_pairs()
    assert best_pair in services.excluded_pairs()
    suggested = services.suggest(db.session.get(Authority, best_pair[0]), top=10)
    assert best_pair[1] not in {s.counterpart_id for s in suggested}


def test_the_debounced_task_recomputes_only_settled_changes(app, worker, population):
    from exchange.matching.models import MatchingRun
    from exchange.matching.tasks import recompute_changed

    tacna, cusco = population["Gobierno Regional de Tacna"], population["Municipalidad de Cusco"]
    now = utcnow()
    db.session.add(PendingRecompute(authority_id=tacna.id, changed_at=now - timedelta(seconds=300)))
    db.session.add(PendingRecompute(authority_id=cusco.id, changed_at=now))
    db.session.commit()

    recompute_changed.delay()

    def finished_run():
        db.session.expire_all()
        return db.session.scalar(select(MatchingRun).where(MatchingRun.finished_at.is_not(None)))

    run = wait_for(finished_run, timeout=60, message="the recomputation")
    assert run.scope == "authority"
    wait_for(lambda: tacna.id not in pending(), message="the settled change forgotten")
    assert set(pending()) == {cusco.id}  # too recent: left for a later round
    assert proposed_pairs()


def test_nothing_is_recomputed_without_settled_changes(app, worker, mailbox, population):
    from exchange.matching.models import MatchingRun
    from exchange.matching.tasks import recompute_changed

    services.note_change(population["Región de Arica"].id)
    db.session.commit()
    recompute_changed.delay()
    settled(mailbox)  # the single worker has gone past the task
    assert db.session.scalars(select(MatchingRun)).all() == []
    assert set(pending()) == {population["Región de Arica"].id}


def test_a_full_run_is_shared_between_workers(app, worker, population):
    from exchange.matching.models import MatchingRun
    from exchange.matching.tasks import run_full_matching

    services.run_matching()
    db.session.commit()
    whole = {pair: p.score for pair, p in proposed_pairs().items()}
    db.session.execute(db.delete(Proposal))
    db.session.commit()

    run_full_matching.delay(None, 3)

    def finished():
        db.session.expire_all()
        runs = db.session.scalars(
            select(MatchingRun).where(
                MatchingRun.chunks_total == 3, MatchingRun.finished_at.is_not(None)
            )
        ).all()
        return runs[0] if runs else None

    run = wait_for(finished, timeout=60, message="the chunks")
    assert run.chunks_done == 3
    assert {pair: p.score for pair, p in proposed_pairs().items()} == whole


# The command line --------------------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_match_run_command(runner, population):
    result = runner.invoke(args=["exchange", "match", "run"])
    assert result.exit_code == 0, result.output
    assert "Matching" in result.output
    count = len(proposed_pairs())
    assert count
    assert f"{count} proposal(s)" in result.output


def test_match_suggest_command(runner, population):
    import json

    tacna = population["Gobierno Regional de Tacna"]
    result = runner.invoke(
        args=["exchange", "match", "suggest", "Gobierno Regional de Tacna", "--top", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["authority"] == {"id": tacna.id, "name": "Gobierno Regional de Tacna"}
    suggestions = payload["suggestions"]
    assert 1 <= len(suggestions) <= 2
    first = suggestions[0]
    assert first["rank"] == 1
    assert first["side"] == "EU"
    assert first["score"] >= suggestions[-1]["score"]
    assert any(r["signal"] == "themes" for r in first["reasons"])
    assert any("Water management and sanitation" in s for s in first["explanation"])

    result = runner.invoke(args=["exchange", "match", "suggest", str(tacna.id)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"Best counterparts of Gobierno Regional de Tacna (id {tacna.id}):"
    )
    assert "  1. " in result.output
    assert "score 0." in result.output


def test_match_suggest_refuses_unknown_and_unverified_authorities(runner, population):
    result = runner.invoke(args=["exchange", "match", "suggest", "Nowhere"])
    assert result.exit_code == 2
    assert "no authority with the id or the exact name 'Nowhere'" in result.output
    make_authority(name="Pendiente", verified=False)
    result = runner.invoke(args=["exchange", "match", "suggest", "Pendiente"])
    assert result.exit_code == 1
    assert "not verified" in result.output
