"""Cross-border project ideas through their pages: every field, the value chains offered,
co-owners invited by e-mail who confirm before the idea goes to review, and closing."""

import re
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.notifications.services import queue_notification
from exchange.reference.models import BorderArea, Objective, Theme
from exchange.submissions.models import CoOwner, CoOwnerStatus, Submission
from exchange.workflow import State
from tests.conftest import csrf_token
from tests.factories import log_in, make_authority, make_member, make_submission, make_user

pytestmark = pytest.mark.usefixtures("reference")

TEXTS = {
    "title": "Ruta del pisco y del vino Tacna–Arica",
    "summary": "Un circuito binacional de enoturismo.",
    "description": "Diseñar una ruta compartida entre bodegas de Tacna y de Arica.",
    "value_chain": "Agroindustria del pisco",
    "expected_results": "Más visitantes, más ventas para las bodegas pequeñas.",
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


def selected(page: str, name: str) -> str | None:
    select_html = re.search(rf'<select [^>]*name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select_html, f"no select {name}"
    match = re.search(r'<option selected value="([^"]*)"', select_html.group(1))
    return match.group(1) if match else None


OPEN_UNTIL = date.today() + timedelta(days=120)


def idea_form(client, path: str, **fields) -> dict:
    (area,) = by_code(BorderArea, "PE-CL")
    data = {
        "language": "es",
        **TEXTS,
        "border_area": str(area.id),
        "budget_range": "500k_1m",
        "open_until": OPEN_UNTIL.isoformat(),
        "partner_kinds": ["municipality", "region"],
        "partner_sides": ["EU"],
        "partner_themes": [str(t.id) for t in by_code(Theme, "tourism", "cultural-heritage")],
        "themes": [str(t.id) for t in by_code(Theme, "tourism", "agri-food")],
        "objectives": [str(o.id) for o in by_code(Objective, "INNOVACT-2")],
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


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


# Writing ---------------------------------------------------------------------------------------


def test_a_member_writes_an_idea_with_every_field(app):
    author = make_member(make_authority(name="Municipalidad de Tacna"))
    client = signed_in(app, author)
    response = client.post("/ideas/new", data=idea_form(client, "/ideas/new"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    idea = db.session.scalars(select(Submission)).one()
    assert response.location == f"/ideas/{idea.id}"
    assert idea.kind == "idea"
    assert idea.state == State.DRAFT
    revision = idea.working_revision
    for name, text in TEXTS.items():
        assert getattr(revision, name) == text, name
    assert revision.language == "es"
    assert revision.border_area.code == "PE-CL"
    assert revision.budget_range == "500k_1m"
    assert revision.open_until == OPEN_UNTIL
    assert revision.partner_kinds == ["municipality", "region"]
    assert revision.partner_sides == ["EU"]
    assert {t.code for t in revision.partner_themes} == {"tourism", "cultural-heritage"}
    assert {t.code for t in revision.themes} == {"tourism", "agri-food"}
    assert [o.code for o in revision.objectives] == ["INNOVACT-2"]

    form = client.get(f"/ideas/{idea.id}/edit").get_data(as_text=True)
    for text in TEXTS.values():
        assert str(escape(text)) in form
    assert selected(form, "border_area") == str(revision.border_area_id)
    assert selected(form, "budget_range") == "500k_1m"
    assert selected(form, "language") == "es"
    assert f'value="{OPEN_UNTIL.isoformat()}"' in form
    assert ticked(form, "partner_kinds") == ["municipality", "region"]
    assert ticked(form, "partner_sides") == ["EU"]
    assert ticked(form, "partner_themes") == sorted(str(t.id) for t in revision.partner_themes)
    assert ticked(form, "themes") == sorted(str(t.id) for t in revision.themes)
    assert ticked(form, "objectives") == [str(revision.objectives[0].id)]

    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    for text in TEXTS.values():
        assert str(escape(text)) in page
    for label in (
        "Peru–Chile",
        "€500,000 to €1 million",
        "Municipality, Region, state or province",
        "European Union",
        "Cultural heritage",
        "Written in Spanish.",
    ):
        assert str(escape(label)) in page, label
    assert OPEN_UNTIL.strftime("%B") in page
    assert str(OPEN_UNTIL.year) in page


def test_the_value_chains_of_each_border_area_are_suggested(app):
    author = make_member()
    client = signed_in(app, author)
    page = client.get("/ideas/new").get_data(as_text=True)
    for area in db.session.scalars(select(BorderArea)):
        for language in ("en", "es", "pt"):
            datalist = re.search(
                rf'<datalist id="value-chains-{area.id}-{language}">(.*?)</datalist>',
                page,
                re.DOTALL,
            )
            assert datalist, (area.code, language)
            offered = re.findall(r'<option value="([^"]+)"', datalist.group(1))
            assert offered == [str(escape(c[language])) for c in area.value_chains]
    # Before an area is chosen, every area's value chains are offered.
    assert re.search(r'<input [^>]*id="value_chain" [^>]*list="value-chains-all-en"', page)

    client.post("/ideas/new", data=idea_form(client, "/ideas/new", language="pt"))
    idea = db.session.scalars(select(Submission)).one()
    form = client.get(f"/ideas/{idea.id}/edit").get_data(as_text=True)
    area_id = idea.working_revision.border_area_id
    # The chosen area's value chains, in the language the idea is written in.
    assert re.search(rf'<input [^>]*id="value_chain" [^>]*list="value-chains-{area_id}-pt"', form)


def test_errors_keep_everything_typed_and_save_nothing(app):
    client = signed_in(app, make_member())
    data = idea_form(
        client,
        "/ideas/new",
        open_until=(date.today() - timedelta(days=1)).isoformat(),
        budget_range="lots",
        border_area="999999",
        partner_sides=["EU", "MARS"],
    )
    response = client.post("/ideas/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "open_until") == "Choose a date in the future."
    assert field_error(page, "budget_range") == "Choose from the list."
    assert field_error(page, "border_area") == "Choose from the list."
    assert "Choose from the list." in field_error(page, "partner_sides")
    for text in TEXTS.values():
        assert str(escape(text)) in page
    assert ticked(page, "partner_kinds") == ["municipality", "region"]
    assert ticked(page, "themes") == sorted(data["themes"])
    assert count(Submission) == 0


def test_a_date_that_is_not_a_date_is_refused(app):
    client = signed_in(app, make_member())
    response = client.post(
        "/ideas/new", data=idea_form(client, "/ideas/new", open_until="31/12/2030")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a date as year-month-day" in field_error(page, "open_until")
    assert 'value="31/12/2030"' in page
    assert count(Submission) == 0


def test_an_incomplete_idea_lists_what_is_missing(app):
    author = make_member()
    idea = make_submission(author, kind="idea", border_area_id=None, open_until=None)
    page = signed_in(app, author).get(f"/ideas/{idea.id}").get_data(as_text=True)
    missing = re.search(r'<ul[^>]*id="missing">(.*?)</ul>', page, re.DOTALL).group(1)
    assert f'href="/ideas/{idea.id}/edit#border_area">Choose the border area.' in missing
    assert f'href="/ideas/{idea.id}/edit#open_until">' in missing
    assert "summary" not in missing


# Co-owners -------------------------------------------------------------------------------------


def test_a_co_owner_is_invited_by_e_mail_accepts_and_can_edit(app, worker, mailbox):
    tacna = make_authority(name="Municipalidad de Tacna", country="PE", subdivision="PE-TAC")
    arica = make_authority(name="Municipalidad de Arica", country="CL", subdivision="CL-AP")
    author = make_member(tacna, email="autor@tacna.example")
    arica_one = make_member(arica, email="una@arica.example", language="es")
    arica_two = make_member(arica, email="otra@arica.example")
    idea = make_submission(author, kind="idea")
    client = signed_in(app, author)

    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f'<option value="{arica.id}">Municipalidad de Arica (Chile)</option>' in page
    assert f'<option value="{tacna.id}">' not in page  # not one's own authority
    response = post(
        client,
        f"/ideas/{idea.id}/co-owners",
        authority=str(arica.id),
        message="Hagamos juntos la ruta.",
    )
    assert response.status_code == 302
    (co_owner,) = db.session.scalars(select(CoOwner)).all()
    assert (co_owner.authority_id, co_owner.status) == (arica.id, CoOwnerStatus.INVITED)
    assert co_owner.message == "Hagamos juntos la ruta."

    # The idea cannot go to review while Arica has not answered.
    response = post(client, f"/items/{idea.id}/submit")
    page = client.get(response.location).get_data(as_text=True)
    assert "Every invited co-owner must answer before the idea goes to review." in page
    assert reload(idea.id).state == State.DRAFT

    # Arica's members read the draft and the invitation; they cannot edit yet.
    arica_client = signed_in(app, arica_one)
    page = arica_client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    # arica_one reads Spanish.
    assert "Municipalidad de Tacna invita a su autoridad a ser cotitular de esta idea" in page
    assert "Hagamos juntos la ruta." in page
    assert arica_client.get(f"/ideas/{idea.id}/edit").status_code == 403

    response = post(arica_client, f"/ideas/{idea.id}/invitation/accept")
    assert response.status_code == 302
    assert response.location == f"/ideas/{idea.id}"
    db.session.expire_all()
    assert db.session.get(CoOwner, co_owner.id).status == CoOwnerStatus.ACCEPTED

    # Now Arica's members own the idea: they edit it, and are named as its authors.
    path = f"/ideas/{idea.id}/edit"
    assert arica_client.get(path).status_code == 200
    response = arica_client.post(path, data=idea_form(arica_client, path, title="Ruta binacional"))
    assert response.status_code == 302
    assert reload(idea.id).working_revision.title == "Ruta binacional"
    public_header = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Municipalidad de Tacna" in public_header
    assert "Municipalidad de Arica" in public_header

    response = post(client, f"/items/{idea.id}/submit")
    assert reload(idea.id).state == State.SUBMITTED

    messages = settle(mailbox, 2 + 1 + 3)
    # Each member of the invited authority, in their own language.
    invitations = {
        m.to: m
        for m in messages
        if "invites you to co-own" in m.subject or "invita a ser cotitular" in m.subject
    }
    assert sorted(invitations) == sorted([arica_one.email, arica_two.email])
    assert invitations[arica_two.email].subject.startswith(
        "Action needed: Municipalidad de Tacna invites you to co-own"
    )
    assert invitations[arica_one.email].subject.startswith(
        "Acción necesaria: Municipalidad de Tacna le invita a ser cotitular"
    )
    # The link opens the workspace at the invitations, where they are answered.
    assert "/workspace/#invitations" in invitations[arica_one.email].text
    assert all("Hagamos juntos la ruta." in m.text for m in invitations.values())
    (answer,) = [m for m in messages if "accepted to co-own" in m.subject]
    assert answer.to == author.email
    received = [m for m in messages if m.subject.startswith(("We received", "Hemos recibido"))]
    assert sorted(m.to for m in received) == sorted(
        [author.email, arica_one.email, arica_two.email]
    )


def test_a_declined_invitation_ends_the_invited_authority_access(app):
    author = make_member()
    other = make_authority(name="Other")
    invited = make_member(other)
    idea = make_submission(author, kind="idea")
    client = signed_in(app, author)
    post(client, f"/ideas/{idea.id}/co-owners", authority=str(other.id))
    invited_client = signed_in(app, invited)
    assert invited_client.get(f"/ideas/{idea.id}").status_code == 200

    response = post(invited_client, f"/ideas/{idea.id}/invitation/decline")
    assert response.status_code == 302
    assert response.location == "/workspace/"  # the draft is no longer theirs to see
    assert db.session.scalars(select(CoOwner.status)).one() == CoOwnerStatus.DECLINED
    assert invited_client.get(f"/ideas/{idea.id}").status_code == 404
    assert post(invited_client, f"/ideas/{idea.id}/invitation/accept").status_code == 404

    # The owners see the answer; the idea can now go to review.
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Declined" in page
    post(client, f"/items/{idea.id}/submit")
    assert reload(idea.id).state == State.SUBMITTED


def test_an_invited_member_confirms_the_address_before_answering(app):
    author = make_member()
    other = make_authority()
    invited = make_member(other, confirmed=False)
    idea = make_submission(author, kind="idea")
    post(signed_in(app, author), f"/ideas/{idea.id}/co-owners", authority=str(other.id))
    client = signed_in(app, invited)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Confirm your e-mail address to answer." in page
    assert "/invitation/accept" not in page
    assert post(client, f"/ideas/{idea.id}/invitation/accept").status_code == 403
    assert db.session.scalars(select(CoOwner.status)).one() == CoOwnerStatus.INVITED


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("unverified", "Choose another verified authority."),
        ("own", "Choose another verified authority."),
        ("twice", "Choose another verified authority."),
        ("none", "Choose the authority to invite."),
    ],
)
def test_only_another_verified_authority_can_be_invited(app, which, message):
    author = make_member()
    already = make_authority(name="Already invited")
    unverified = make_authority(name="Pending authority", verified=False)
    idea = make_submission(author, kind="idea")
    client = signed_in(app, author)
    post(client, f"/ideas/{idea.id}/co-owners", authority=str(already.id))
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Pending authority" not in page
    assert f'<option value="{already.id}">' not in page

    choice = {
        "unverified": str(unverified.id),
        "own": str(author.authority_id),
        "twice": str(already.id),
        "none": "",
    }[which]
    response = post(client, f"/ideas/{idea.id}/co-owners", authority=choice, message="Hola")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "authority") == message
    assert "Hola" in page  # what was typed stays
    assert count(CoOwner) == 1


def test_only_the_authoring_authority_invites_while_the_idea_is_a_draft(app):
    author = make_member()
    partner = make_authority(name="Partner")
    partner_member = make_member(partner)
    third = make_authority(name="Third")
    outsider = make_member(third)
    idea = make_submission(author, kind="idea")
    author_client = signed_in(app, author)
    post(author_client, f"/ideas/{idea.id}/co-owners", authority=str(partner.id))
    partner_client = signed_in(app, partner_member)
    post(partner_client, f"/ideas/{idea.id}/invitation/accept")

    # A co-owner does not invite others; another authority does not even see the draft.
    response = post(partner_client, f"/ideas/{idea.id}/co-owners", authority=str(third.id))
    assert response.status_code == 403
    outsider_client = signed_in(app, outsider)
    response = post(outsider_client, f"/ideas/{idea.id}/co-owners", authority=str(third.id))
    assert response.status_code == 404
    assert post(outsider_client, f"/ideas/{idea.id}/invitation/accept").status_code == 404
    assert count(CoOwner) == 1

    # Once the idea is under review, nobody is invited any more.
    post(author_client, f"/items/{idea.id}/submit")
    assert reload(idea.id).state == State.SUBMITTED
    page = author_client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f'action="/ideas/{idea.id}/co-owners"' not in page
    response = post(author_client, f"/ideas/{idea.id}/co-owners", authority=str(third.id))
    assert response.status_code == 403
    assert count(CoOwner) == 1


def test_practices_have_no_co_owners(app):
    author = make_member()
    practice = make_submission(author)
    other = make_authority()
    response = post(signed_in(app, author), f"/ideas/{practice.id}/co-owners", authority=other.id)
    assert response.status_code == 404
    assert count(CoOwner) == 0


# Closing ---------------------------------------------------------------------------------------


def test_the_owners_close_a_published_idea(app, worker, mailbox):
    author = make_member(email="autor@example.org")
    colleague = make_member(author.authority, email="colega@example.org")
    idea = make_submission(author, kind="idea", state="published")
    client = signed_in(app, author)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f'action="/items/{idea.id}/close"' in page

    response = post(client, f"/items/{idea.id}/close")
    assert response.status_code == 302
    assert response.location == f"/ideas/{idea.id}"
    assert "The idea is closed to new partners." in client.get(response.location).get_data(
        as_text=True
    )
    saved = reload(idea.id)
    assert saved.state == State.CLOSED
    assert not saved.is_public

    public = app.test_client().get(f"/ideas/{idea.id}")
    assert public.status_code == 200
    assert "This idea is closed: it no longer looks for partners." in public.get_data(as_text=True)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f'action="/items/{idea.id}/close"' not in page

    closed = [m for m in settle(mailbox, 2 + 2 + 1) if "is closed" in m.subject]
    assert [m.to for m in closed] == [colleague.email]
    assert closed[0].subject == f"The project idea “{idea.title}” is closed"
