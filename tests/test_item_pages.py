"""The page of a practice or an idea: who sees which version, the owners' status panel and
history, and the owners' transitions, allowed and refused, through the pages."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from exchange.activity.services import activity_for
from exchange.extensions import db
from exchange.notifications.models import Notification
from exchange.submissions import services
from exchange.submissions.models import Submission
from exchange.workflow import STATE_LABELS, TRANSITIONS, Actor, Kind, State, is_allowed
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    practice_content,
)

pytestmark = pytest.mark.usefixtures("reference")

OWNER_TRANSITIONS = sorted(
    name
    for name, step in TRANSITIONS.items()
    if step.actor in (Actor.OWNER, Actor.OWNER_OR_COORDINATOR)
)


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def reload(submission_id: int) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission_id)


def path_of(submission) -> str:
    return f"/{'practices' if submission.kind == Kind.PRACTICE else 'ideas'}/{submission.id}"


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# Who sees what ---------------------------------------------------------------------------------


def test_visitors_see_a_published_practice_with_its_owner_themes_and_objectives(app, client):
    authority = make_authority(name="Gobierno Regional de Tacna")
    practice = make_submission(make_member(authority), state="published")
    response = client.get(f"/practices/{practice.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    revision = practice.published_revision
    assert re.search(
        rf'<h1 [^>]*lang="es"[^>]*>{re.escape(str(escape(revision.title)))}</h1>', page
    )
    assert f'<div class="user-content" lang="es">{escape(revision.problem)}</div>' in page
    assert f'<a href="/authorities/{authority.id}">Gobierno Regional de Tacna</a>' in page
    assert "Written in Spanish." in page
    assert "Water management and sanitation" in page
    assert "INNOVACT" in text_of(page)
    assert revision.objectives[0].text_en in page
    # Nothing of the owners' side.
    for marker in ('id="status"', 'id="history"', f"/practices/{practice.id}/edit", "/items/"):
        assert marker not in page, marker


@pytest.mark.parametrize(
    "state", ["draft", "submitted", "in_review", "changes_requested", "rejected"]
)
@pytest.mark.parametrize("kind", ["practice", "idea"])
def test_unpublished_items_are_invisible_to_everyone_but_owners_and_coordinators(
    app, client, kind, state
):
    author = make_member()
    item = make_submission(author, kind=kind, state=state)
    assert client.get(path_of(item)).status_code == 404
    outsider = signed_in(app, make_member(make_authority(name="Other")))
    assert outsider.get(path_of(item)).status_code == 404
    for person in (author, make_member(author.authority), make_coordinator()):
        page = signed_in(app, person).get(path_of(item))
        assert page.status_code == 200
        assert str(escape(STATE_LABELS[State(state)])) in page.get_data(as_text=True)


@pytest.mark.parametrize(("kind", "state"), [("practice", "archived"), ("idea", "closed")])
def test_archived_and_closed_items_keep_their_page_with_a_notice(client, kind, state):
    item = make_submission(make_member(), kind=kind, state=state)
    response = client.get(path_of(item))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    notice = "This item is archived" if state == "archived" else "This idea is closed"
    assert notice in page
    assert str(escape(item.published_revision.title)) in page


def test_a_practice_is_not_an_idea(client):
    practice = make_submission(make_member(), state="published")
    idea = make_submission(make_member(), kind="idea", state="published")
    assert client.get(f"/ideas/{practice.id}").status_code == 404
    assert client.get(f"/practices/{idea.id}").status_code == 404
    assert client.get("/practices/999999").status_code == 404
    assert client.get(f"/ideas/{idea.id}").status_code == 200


def test_a_published_idea_shows_where_and_whom_it_looks_for(client):
    idea = make_submission(make_member(), kind="idea", state="published")
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    details = text_of(page)
    for text in ("Peru–Chile", "Turismo de aventura andino", "Region, state or province"):
        assert text in details, text
    assert "European Union" in details
    assert "Tourism" in details
    assert f'<dd lang="es">{escape("Turismo de aventura andino")}</dd>' in page


# The owners' status panel ----------------------------------------------------------------------


def status_panel(page: str) -> str:
    match = re.search(r'<section class="panel mb-3" [^>]*id="status">(.*?)</section>', page, re.S)
    assert match, "no status panel"
    return match.group(1)


def test_the_status_panel_says_what_is_missing_and_offers_what_is_allowed(app):
    author = make_member()
    draft = make_submission(author, summary="", transferability="")
    client = signed_in(app, author)
    panel = status_panel(client.get(f"/practices/{draft.id}").get_data(as_text=True))
    assert "Draft" in panel
    assert f'href="/practices/{draft.id}/edit#summary">Write a short summary.</a>' in panel
    assert f'href="/practices/{draft.id}/edit#transferability">' in panel
    assert "/submit" not in panel  # nothing to press until it is complete

    services.save_content(author, draft, practice_content())
    db.session.commit()
    panel = status_panel(client.get(f"/practices/{draft.id}").get_data(as_text=True))
    assert 'id="missing"' not in panel
    assert f'action="/items/{draft.id}/submit"' in panel
    assert "/archive" not in panel
    assert "/close" not in panel

    published = make_submission(author, kind="idea", state="published")
    panel = status_panel(client.get(f"/ideas/{published.id}").get_data(as_text=True))
    assert "Published" in panel
    for name in ("archive", "close"):
        assert f'action="/items/{published.id}/{name}"' in panel
    assert "/submit" not in panel
    assert f'href="/ideas/{published.id}/edit">Edit (new version)</a>' in panel


def test_the_latest_review_comment_is_shown_when_changes_are_requested(app):
    author = make_member()
    coordinator = make_coordinator(name="Ana Revisora")
    item = make_submission(author, state="changes_requested", reviewer=coordinator)
    client = signed_in(app, author)
    page = client.get(f"/practices/{item.id}").get_data(as_text=True)
    comment = re.search(
        r'<div class="alert [^"]*" role="note" id="review-comment">(.*?)</div>', page, re.S
    )
    assert comment, "no review comment"
    assert "The coordinators asked for changes" in comment.group(1)
    assert "Añadan cifras." in comment.group(1)
    assert "Ana Revisora" in comment.group(1)
    # The edit page reminds of it too, and the draft can go back to review.
    assert "Añadan cifras." in client.get(f"/practices/{item.id}/edit").get_data(as_text=True)
    assert f'action="/items/{item.id}/submit"' in page


def test_a_rejection_is_shown_to_the_owners_only(app, client):
    author = make_member()
    item = make_submission(author, state="rejected")
    page = signed_in(app, author).get(f"/practices/{item.id}").get_data(as_text=True)
    assert "The coordinators did not accept it" in page
    assert "Fuera del alcance." in page
    assert client.get(f"/practices/{item.id}").status_code == 404


def test_a_rejected_new_version_leaves_the_published_one_in_place(app, client):
    author = make_member()
    coordinator = make_coordinator()
    item = make_submission(author, state="published", reviewer=coordinator)
    services.save_content(author, item, practice_content(title="Versión descartada"))
    services.submit(author, item)
    services.reject(coordinator, item, "La versión anterior era mejor.")
    db.session.commit()

    page = signed_in(app, author).get(f"/practices/{item.id}").get_data(as_text=True)
    assert "The new version was not accepted; the published version stays" in page
    assert "La versión anterior era mejor." in page
    public = client.get(f"/practices/{item.id}").get_data(as_text=True)
    assert "Versión descartada" not in public
    assert "La versión anterior era mejor." not in public


def test_the_history_shows_reviews_and_activity_newest_first(app):
    author = make_member(name="Autora Uno")
    coordinator = make_coordinator(name="Ana Revisora")
    item = make_submission(author, state="changes_requested", reviewer=coordinator)
    services.submit(author, item)
    services.publish(coordinator, item, "Muy completo.")
    db.session.commit()
    client = signed_in(app, author)
    page = client.get(f"/practices/{item.id}").get_data(as_text=True)
    history = re.search(r'<section [^>]*id="history">(.*)</section>', page, re.S).group(1)
    reviews = text_of(re.search(r'<ol class="list-unstyled reviews">(.*?)</ol>', history, re.S)[1])
    assert reviews.index("Approved and published") < reviews.index("Changes requested")
    assert "Muy completo." in reviews
    assert "Añadan cifras." in reviews
    assert "Ana Revisora" in reviews
    assert "version 1" in reviews
    activity = text_of(
        re.search(r'<ul class="list-unstyled small activity">(.*?)</ul>', history, re.S)[1]
    )
    steps = [
        "Ana Revisora approved and published it",
        "Autora Uno submitted it for review",
        "Ana Revisora requested changes",
        "Autora Uno submitted it for review",
        "Autora Uno started the draft",
    ]
    positions = []
    start = 0
    for step in steps:
        start = activity.index(step, start)
        positions.append(start)
    assert positions == sorted(positions)
    assert "(Changes requested → Submitted)" in activity


def test_coordinators_see_drafts_and_the_status_but_do_not_edit(app):
    author = make_member()
    draft = make_submission(author)
    submitted = make_submission(author, state="submitted")
    coordinator = signed_in(app, make_coordinator())
    page = coordinator.get(f"/practices/{draft.id}").get_data(as_text=True)
    panel = status_panel(page)
    assert "Draft" in panel
    assert "/edit" not in panel
    assert "/submit" not in panel
    assert coordinator.get(f"/practices/{draft.id}/edit").status_code == 403
    assert post(coordinator, f"/items/{draft.id}/submit").status_code == 403
    assert reload(draft.id).state == State.DRAFT
    panel = status_panel(coordinator.get(f"/practices/{submitted.id}").get_data(as_text=True))
    assert f'href="/review/{submitted.id}"' in panel


# Transitions through the pages -----------------------------------------------------------------


REFUSED = [
    (kind, name, state)
    for kind in Kind
    for name in OWNER_TRANSITIONS
    for state in State
    if not (kind == Kind.PRACTICE and state == State.CLOSED) and not is_allowed(kind, state, name)
]


@pytest.mark.parametrize(("kind", "name", "state"), REFUSED)
def test_every_owner_transition_is_refused_from_a_wrong_state(app, kind, name, state):
    author = make_member()
    item = make_submission(author, kind=kind, state=state.value)
    before = len(activity_for(item))
    notifications = db.session.scalar(select(func.count()).select_from(Notification))
    client = signed_in(app, author)
    response = post(client, f"/items/{item.id}/{name}")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    message = f"This is not possible in its current state: {STATE_LABELS[state]}."
    assert f'<div class="alert alert-danger" role="alert">{message}</div>' in page
    saved = reload(item.id)
    assert saved.state == state
    assert len(activity_for(saved)) == before
    assert db.session.scalar(select(func.count()).select_from(Notification)) == notifications


@pytest.mark.parametrize(
    ("kind", "name", "state", "target"),
    [
        ("practice", "submit", "draft", State.SUBMITTED),
        ("practice", "submit", "changes_requested", State.SUBMITTED),
        ("idea", "submit", "draft", State.SUBMITTED),
        ("practice", "archive", "published", State.ARCHIVED),
        ("idea", "archive", "published", State.ARCHIVED),
        ("idea", "close", "published", State.CLOSED),
    ],
)
def test_every_owner_transition_is_allowed_from_its_states(app, kind, name, state, target):
    author = make_member()
    item = make_submission(author, kind=kind, state=state)
    assert is_allowed(Kind(kind), State(state), name)
    client = signed_in(app, author)
    panel = status_panel(client.get(path_of(item)).get_data(as_text=True))
    assert f'action="/items/{item.id}/{name}"' in panel
    response = post(client, f"/items/{item.id}/{name}")
    assert response.status_code == 302
    assert response.location == path_of(item)
    assert reload(item.id).state == target
    assert activity_for(item)[-1].action == f"submission.{name}"


@pytest.mark.parametrize("name", OWNER_TRANSITIONS)
def test_people_who_do_not_own_it_cannot_change_its_state(app, client, name):
    idea = make_submission(make_member(), kind="idea", state="published")
    response = post(client, f"/items/{idea.id}/{name}")
    assert response.status_code == 302
    assert "/login" in response.location
    outsider = signed_in(app, make_member(make_authority(name="Other")))
    assert post(outsider, f"/items/{idea.id}/{name}").status_code == 403
    assert reload(idea.id).state == State.PUBLISHED


def test_coordinators_may_archive_or_close_but_not_submit(app):
    idea = make_submission(make_member(), kind="idea", state="published")
    draft = make_submission(make_member(), kind="idea")
    coordinator = signed_in(app, make_coordinator())
    assert post(coordinator, f"/items/{draft.id}/submit").status_code == 403
    assert post(coordinator, f"/items/{idea.id}/close").status_code == 302
    assert reload(idea.id).state == State.CLOSED
    assert reload(draft.id).state == State.DRAFT


def test_an_unknown_transition_is_not_a_page(app):
    author = make_member()
    item = make_submission(author, state="submitted")
    client = signed_in(app, author)
    assert post(client, f"/items/{item.id}/publish").status_code == 404
    assert post(client, "/items/999999/submit").status_code == 404
    assert reload(item.id).state == State.SUBMITTED
