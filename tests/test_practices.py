"""Good practices through their pages: writing and editing drafts, submitting, new versions of a
published practice, and who may do what."""

import re
from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.extensions import db
from exchange.notifications.models import Notification
from exchange.notifications.services import queue_notification
from exchange.reference.models import Objective, Programme, Theme, ThemeGroup
from exchange.submissions.models import Revision, Submission
from exchange.workflow import State
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    make_user,
)

pytestmark = pytest.mark.usefixtures("reference")

TEXTS = {
    "title": "Riego tecnificado en Tacna",
    "summary": "Agua para la agricultura familiar en el desierto.",
    "problem": "Escasez de agua y suelos salinos.",
    "actions": "Riego por goteo con asistencia técnica de la región.",
    "results": "Ahorro del 40 % de agua; 300 familias con más ingresos.",
    "resources": "1,2 millones de soles en tres años.",
    "transferability": "Cualquier zona árida con organizaciones de regantes.",
    "lessons": "La organización de los usuarios pesa tanto como la técnica.",
}


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def reload(submission_id: int) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission_id)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def by_code(model, *codes) -> list:
    rows = db.session.scalars(select(model).where(model.code.in_(codes))).all()
    assert len(rows) == len(codes)
    return sorted(rows, key=lambda row: row.id)


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def ticked(page: str, name: str) -> list[str]:
    return sorted(re.findall(rf'<input checked [^>]*name="{name}" [^>]*value="([^"]+)"', page))


def practice_form(client, path: str, **fields) -> dict:
    themes = by_code(Theme, "water-management", "agri-food")
    objectives = by_code(Objective, "INNOVACT-1", "IURC-2")
    data = {
        "language": "es",
        **TEXTS,
        "period_start": "2019-03",
        "period_end": "2022-11",
        "themes": [str(t.id) for t in themes],
        "objectives": [str(o.id) for o in objectives],
        "csrf_token": csrf_token(client, path),
    }
    data.update(fields)
    return data


def settle(mailbox, expected: int):
    """Wait for `expected` messages and a sentinel queued after them (see test_authorities)."""
    sentinel = make_user(email="sentinel@example.org")
    queue_notification(sentinel, "auth.confirm_email")
    db.session.commit()
    messages = mailbox.wait_for(expected + 1)
    others = [m for m in messages if m.to != "sentinel@example.org"]
    assert len(others) == expected, [m.to for m in messages]
    return others


# Writing a draft -------------------------------------------------------------------------------


def test_the_form_offers_every_theme_and_objective_under_its_group(app):
    client = signed_in(app, make_member(language="pt"))
    page = client.get("/practices/new").get_data(as_text=True)
    for model, name in ((Theme, "themes"), (Objective, "objectives")):
        offered = set(re.findall(rf'name="{name}" type="checkbox" value="(\d+)"', page))
        assert offered == {str(i) for i in db.session.scalars(select(model.id))}, name
    legends = re.findall(r"<legend[^>]*>([^<]+)</legend>", page)
    for group in db.session.scalars(select(ThemeGroup)):
        assert group.label_pt in legends  # in the reader's language
    for programme in db.session.scalars(select(Programme)):
        assert programme.name_pt in legends
    # The language of the text starts as the writer's own.
    assert re.search(r'<option selected value="pt">', page)
    # Every field has a label.
    for name in ("title", "summary", "problem", "actions", "results", "resources"):
        assert f'<label class="form-label" for="{name}">' in page, name
    assert 'for="period_start"' in page
    assert 'type="month"' in page


def test_a_member_writes_a_practice_with_every_field(app):
    author = make_member(make_authority(name="Gobierno Regional de Tacna"))
    client = signed_in(app, author)
    response = client.post("/practices/new", data=practice_form(client, "/practices/new"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    submission = db.session.scalars(select(Submission)).one()
    assert response.location == f"/practices/{submission.id}"
    assert submission.kind == "practice"
    assert submission.state == State.DRAFT
    assert submission.authority.name == "Gobierno Regional de Tacna"
    revision = submission.working_revision
    assert revision.number == 1
    assert revision.language == "es"
    for name, text in TEXTS.items():
        assert getattr(revision, name) == text, name
    assert (revision.period_start, revision.period_end) == (date(2019, 3, 1), date(2022, 11, 1))
    assert {t.code for t in revision.themes} == {"water-management", "agri-food"}
    assert {o.code for o in revision.objectives} == {"INNOVACT-1", "IURC-2"}
    assert count(ActivityEntry, ActivityEntry.action == "submission.create") == 1

    # The edit form shows all of it again.
    form = client.get(f"/practices/{submission.id}/edit").get_data(as_text=True)
    for text in TEXTS.values():
        assert str(escape(text)) in form
    assert 'value="2019-03"' in form
    assert 'value="2022-11"' in form
    assert ticked(form, "themes") == sorted(str(t.id) for t in revision.themes)
    assert ticked(form, "objectives") == sorted(str(o.id) for o in revision.objectives)
    assert re.search(r'<option selected value="es">', form)

    # And the page shows it, in the language it is written in.
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    for text in TEXTS.values():
        assert str(escape(text)) in page
    assert "March 2019" in page
    assert "November 2022" in page
    assert "Written in Spanish." in page


def test_a_draft_needs_only_a_title_and_its_language(app):
    client = signed_in(app, make_member())
    data = {"language": "en", "title": "Just a title", "csrf_token": csrf_token(client, "/")}
    response = client.post("/practices/new", data=data)
    assert response.status_code == 302
    revision = db.session.scalars(select(Revision)).one()
    assert (revision.title, revision.summary, revision.themes) == ("Just a title", "", [])
    assert revision.period_start is None


def test_a_member_of_an_unverified_authority_can_draft_but_not_submit(app):
    author = make_member(make_authority(verified=False))
    client = signed_in(app, author)
    response = client.post("/practices/new", data=practice_form(client, "/practices/new"))
    assert response.status_code == 302
    submission = db.session.scalars(select(Submission)).one()
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert "Your authority is not verified yet" in page
    assert f'action="/items/{submission.id}/submit"' not in page

    response = client.post(
        f"/items/{submission.id}/submit", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Your authority is not verified yet: you can prepare drafts, not submit them." in page
    assert reload(submission.id).state == State.DRAFT


def test_errors_keep_everything_typed_and_save_nothing(app):
    client = signed_in(app, make_member())
    data = practice_form(client, "/practices/new", title="   ", period_start="March 2019")
    response = client.post("/practices/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "title") == "Give it a title, even a provisional one."
    assert field_error(page, "period_start") == "Enter a year and a month, e.g. 2021-03."
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="title-error"' in page
    for name, text in TEXTS.items():
        if name != "title":
            assert str(escape(text)) in page, name
    assert 'value="March 2019"' in page
    assert 'value="2022-11"' in page
    assert ticked(page, "themes") == sorted(data["themes"])
    assert ticked(page, "objectives") == sorted(data["objectives"])
    assert count(Submission) == 0
    assert count(Revision) == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"period_start": "2022-05", "period_end": "2021-01"},
            "period_end",
            "ends before it starts",
        ),
        ({"themes": ["999999"]}, "themes", "Choose from the list."),
        ({"themes": ["water"]}, "themes", "Choose from the list."),
        ({"objectives": ["999999"]}, "objectives", "Choose from the list."),
        ({"language": "fr"}, "language", "Choose the language it is written in."),
        ({"title": "x" * 201}, "title", "Keep it under 200 characters."),
        ({"summary": "x" * 1001}, "summary", "Keep it under 1000 characters."),
    ],
)
def test_bad_input_is_refused_beside_its_field(app, fields, field, message):
    client = signed_in(app, make_member())
    response = client.post("/practices/new", data=practice_form(client, "/practices/new", **fields))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in field_error(page, field)
    assert str(escape(TEXTS["problem"])) in page
    assert count(Submission) == 0


def test_only_members_of_an_authority_write_practices(app, client):
    assert client.get("/practices/new").status_code == 302  # to the login page
    assert "/login" in client.get("/practices/new").location
    coordinator = signed_in(app, make_coordinator())
    assert coordinator.get("/practices/new").status_code == 403
    response = coordinator.post(
        "/practices/new", data=practice_form(coordinator, "/", title="By a coordinator")
    )
    assert response.status_code == 403
    assert count(Submission) == 0


# Editing ---------------------------------------------------------------------------------------


def test_editing_a_draft_changes_it_in_place(app):
    author = make_member()
    submission = make_submission(author)
    client = signed_in(app, author)
    path = f"/practices/{submission.id}/edit"
    data = practice_form(client, path, title="Riego por goteo en Tacna", period_end="")
    response = client.post(path, data=data)
    assert response.status_code == 302
    assert response.location == f"/practices/{submission.id}"
    saved = reload(submission.id)
    assert len(saved.revisions) == 1
    assert saved.working_revision.title == "Riego por goteo en Tacna"
    assert saved.working_revision.period_end is None
    assert saved.state == State.DRAFT


def test_an_error_while_editing_changes_nothing(app):
    author = make_member()
    submission = make_submission(author)
    before = submission.working_revision.title
    client = signed_in(app, author)
    path = f"/practices/{submission.id}/edit"
    data = practice_form(client, path, title="", problem="Un problema nuevo")
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert "Un problema nuevo" in response.get_data(as_text=True)
    saved = reload(submission.id)
    assert saved.working_revision.title == before
    assert saved.working_revision.problem != "Un problema nuevo"


def test_editing_a_published_practice_makes_a_new_version_while_the_old_stays_public(app):
    author = make_member()
    submission = make_submission(author, state="published")
    old_title = submission.published_revision.title
    client = signed_in(app, author)
    path = f"/practices/{submission.id}/edit"

    form = client.get(path).get_data(as_text=True)
    assert "the published version stays visible until the new one is approved" in form
    assert "Save as a new version" in form

    response = client.post(path, data=practice_form(client, path, title="Segunda versión"))
    assert response.status_code == 302
    saved = reload(submission.id)
    assert [r.number for r in saved.revisions] == [1, 2]
    assert saved.published_revision.number == 1
    assert saved.published_revision.title == old_title
    assert saved.working_revision.title == "Segunda versión"
    assert saved.state == State.DRAFT

    # The public still sees version 1.
    public = app.test_client().get(f"/practices/{submission.id}").get_data(as_text=True)
    assert str(escape(old_title)) in public
    assert "Segunda versión" not in public
    # The owners see version 2, and can look at the published one.
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert "Segunda versión" in page
    assert "New version (2), not yet published" in page
    published = client.get(f"/practices/{submission.id}?version=published")
    published = published.get_data(as_text=True)
    assert str(escape(old_title)) in published
    assert "Segunda versión" not in published


@pytest.mark.parametrize("state", ["submitted", "in_review", "rejected", "archived"])
def test_owners_cannot_edit_while_it_is_not_editable(app, state):
    author = make_member()
    submission = make_submission(author, state=state)
    title = submission.working_revision.title
    client = signed_in(app, author)
    path = f"/practices/{submission.id}/edit"
    assert client.get(path).status_code == 403
    response = client.post(path, data=practice_form(client, f"/practices/{submission.id}"))
    assert response.status_code == 403
    saved = reload(submission.id)
    assert saved.state == state
    assert saved.working_revision.title == title
    assert len(saved.revisions) == 1
    # The page offers no edit button.
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert f'href="/practices/{submission.id}/edit"' not in page


def test_another_authority_cannot_know_of_a_draft(app):
    submission = make_submission(make_member())
    outsider = signed_in(app, make_member(make_authority(name="Other")))
    assert outsider.get(f"/practices/{submission.id}").status_code == 404
    assert outsider.get(f"/practices/{submission.id}/edit").status_code == 404
    data = practice_form(outsider, "/", title="Hijacked")
    assert outsider.post(f"/practices/{submission.id}/edit", data=data).status_code == 404
    token = {"csrf_token": csrf_token(outsider)}
    assert outsider.post(f"/items/{submission.id}/submit", data=token).status_code == 404
    saved = reload(submission.id)
    assert saved.working_revision.title != "Hijacked"
    assert saved.state == State.DRAFT


def test_another_authority_sees_a_published_practice_but_cannot_change_it(app):
    submission = make_submission(make_member(), state="published")
    outsider = signed_in(app, make_member(make_authority(name="Other")))
    page = outsider.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert 'id="status"' not in page
    assert 'id="history"' not in page
    assert outsider.get(f"/practices/{submission.id}/edit").status_code == 403
    data = practice_form(outsider, "/", title="Hijacked")
    assert outsider.post(f"/practices/{submission.id}/edit", data=data).status_code == 403
    token = {"csrf_token": csrf_token(outsider)}
    assert outsider.post(f"/items/{submission.id}/archive", data=token).status_code == 403
    saved = reload(submission.id)
    assert saved.state == State.PUBLISHED
    assert len(saved.revisions) == 1


# Submitting and archiving ----------------------------------------------------------------------


def test_submitting_through_the_page_tells_every_owner(app, worker, mailbox):
    authority = make_authority()
    author = make_member(authority, email="autora@example.org")
    colleague = make_member(authority, email="colega@example.org", language="es")
    submission = make_submission(author)
    client = signed_in(app, author)

    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert f'action="/items/{submission.id}/submit"' in page
    response = client.post(
        f"/items/{submission.id}/submit",
        data={"csrf_token": csrf_token(client, f"/practices/{submission.id}")},
    )
    assert response.status_code == 302
    assert response.location == f"/practices/{submission.id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "It is sent for review." in page

    saved = reload(submission.id)
    assert saved.state == State.SUBMITTED
    assert saved.submitted_at is not None
    (entry,) = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.action == "submission.submit")
    ).all()
    assert (entry.actor_id, entry.from_state, entry.to_state) == (author.id, "draft", "submitted")

    messages = settle(mailbox, 2)
    assert sorted(m.to for m in messages) == sorted([colleague.email, author.email])
    title = submission.working_revision.title
    by_address = {m.to: m for m in messages}
    assert by_address[author.email].subject == f"We received “{title}” for review"
    assert f"http://exchange.test/practices/{submission.id}" in by_address[author.email].text
    assert title in by_address[colleague.email].subject  # in Spanish, for her
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert sorted(kinds) == ["auth.confirm_email", "submissions.received", "submissions.received"]


def test_an_incomplete_practice_is_not_submitted(app):
    author = make_member()
    submission = make_submission(author, problem="", theme_ids=[])
    client = signed_in(app, author)
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    missing = re.search(r'<ul[^>]*id="missing">(.*?)</ul>', page, re.DOTALL).group(1)
    assert f'href="/practices/{submission.id}/edit#problem"' in missing
    assert f'href="/practices/{submission.id}/edit#themes"' in missing
    assert "Choose at least one theme." in missing
    assert f'action="/items/{submission.id}/submit"' not in page

    response = client.post(
        f"/items/{submission.id}/submit", data={"csrf_token": csrf_token(client)}
    )
    page = client.get(response.location).get_data(as_text=True)
    assert "Describe the problem the practice addresses." in page
    assert reload(submission.id).state == State.DRAFT
    assert count(Notification) == 0
    assert count(ActivityEntry, ActivityEntry.action == "submission.submit") == 0

    # The edit form has the anchors the links point to.
    form = client.get(f"/practices/{submission.id}/edit").get_data(as_text=True)
    assert 'id="problem"' in form
    assert '<fieldset id="themes"' in form


def test_a_person_with_an_unconfirmed_address_cannot_submit(app):
    author = make_member(confirmed=False)
    submission = make_submission(make_member(author.authority))
    client = signed_in(app, author)
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert "Confirm your e-mail address before submitting." in page
    client.post(f"/items/{submission.id}/submit", data={"csrf_token": csrf_token(client)})
    assert reload(submission.id).state == State.DRAFT


def test_the_owners_archive_a_published_practice(app, worker, mailbox):
    author = make_member(email="autor@example.org")
    colleague = make_member(author.authority, email="colega@example.org")
    submission = make_submission(author, state="published")
    client = signed_in(app, author)
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert f'action="/items/{submission.id}/archive"' in page
    response = client.post(
        f"/items/{submission.id}/archive", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert reload(submission.id).state == State.ARCHIVED
    # The page stays, marked archived; the other owner is told.
    public = app.test_client().get(f"/practices/{submission.id}")
    assert public.status_code == 200
    assert "This item is archived" in public.get_data(as_text=True)
    messages = [m for m in settle(mailbox, 1 + 2 + 2) if "archived" in m.subject]
    assert [m.to for m in messages] == [colleague.email]


def test_transitions_need_the_csrf_token(app):
    author = make_member()
    submission = make_submission(author)
    client = signed_in(app, author)
    assert client.post(f"/items/{submission.id}/submit").status_code == 400
    assert reload(submission.id).state == State.DRAFT
    assert count(ActivityEntry, ActivityEntry.action == "submission.submit") == 0
