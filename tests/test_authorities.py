"""Authorities: profiles, verification by coordinators, requests to join, the directory."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.auth.models import User
from exchange.authorities.models import (
    MAX_MATCH_CAPACITY,
    Authority,
    AuthorityStatus,
    JoinRequest,
    JoinRequestStatus,
)
from exchange.authorities.services import reject_authority, request_to_join
from exchange.database import utcnow
from exchange.extensions import db
from exchange.notifications.services import queue_notification
from exchange.reference.models import BorderArea, Programme, Theme
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_member,
    make_user,
)


def reload(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def activity(subject, action=None) -> list[ActivityEntry]:
    query = select(ActivityEntry).where(
        ActivityEntry.subject_type == subject.__tablename__, ActivityEntry.subject_id == subject.id
    )
    if action:
        query = query.where(ActivityEntry.action == action)
    return list(db.session.scalars(query.order_by(ActivityEntry.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def by_code(model, *codes) -> list:
    rows = db.session.scalars(select(model).where(model.code.in_(codes))).all()
    assert len(rows) == len(codes)
    return sorted(rows, key=lambda row: row.id)


def settle(mailbox, expected: int):
    """Wait for `expected` messages and one more queued after them (a sentinel): with one
    worker the sentinel comes last, so nothing queued earlier is still on its way; with several
    workers in parallel the order may differ, but the count still tells. The sentinel is left
    out of what is returned."""
    sentinel = make_user(email="sentinel@example.org")
    queue_notification(sentinel, "auth.confirm_email")
    db.session.commit()
    messages = mailbox.wait_for(expected + 1)
    others = [m for m in messages if m.to != "sentinel@example.org"]
    assert len(others) == expected, [m.to for m in messages]
    return others


def profile_data(client, authority, **fields) -> dict:
    data = {
        "name": authority.name,
        "kind": authority.kind.value,
        "country_code": authority.country_code,
        "subdivision_code": authority.subdivision_code or "",
        "website": authority.website or "",
        "description": authority.description or "",
        "description_language": authority.description_language or "en",
        "languages": list(authority.languages),
        "programmes": [str(p.id) for p in authority.programmes],
        "themes": [str(t.id) for t in authority.themes],
        "border_areas": [str(b.id) for b in authority.border_areas],
        "match_capacity": str(authority.match_capacity),
        "csrf_token": csrf_token(client, f"/authorities/{authority.id}/edit"),
    }
    data.update(fields)
    return data


def field_error(page: str, field: str) -> str:
    """The error shown beside a field, as text."""
    match = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


# Profiles --------------------------------------------------------------------------------------


def test_the_edit_form_offers_every_programme_theme_and_border_area(app, reference):
    authority = make_authority()
    client = signed_in(app, make_member(authority))
    page = client.get(f"/authorities/{authority.id}/edit").get_data(as_text=True)
    for model, name in ((Programme, "programmes"), (Theme, "themes"), (BorderArea, "border_areas")):
        offered = set(re.findall(rf'name="{name}" type="checkbox" value="(\d+)"', page))
        stored = {str(row_id) for row_id in db.session.scalars(select(model.id))}
        assert offered == stored, name
        assert len(offered) > 3
    assert "Tacna" in page  # the regions of the authority's country are offered


def test_a_member_saves_every_field_of_the_profile(app, reference):
    authority = make_authority(name="Municipalidad de Tacna", country="PE", subdivision="PE-TAC")
    member = make_member(authority)
    client = signed_in(app, member)
    programmes = by_code(Programme, "INNOVACT", "IURC")
    themes = by_code(Theme, "water-management", "tourism", "agri-food")
    areas = by_code(BorderArea, "PE-CL", "EC-PE")

    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(
            client,
            authority,
            name="  Gobierno Regional de Tacna  ",
            kind="region",
            subdivision_code="PE-TAC",
            website="https://www.regiontacna.gob.pe",
            description="Región fronteriza con Chile.",
            description_language="es",
            languages=["es", "en", "qu"],
            programmes=[str(p.id) for p in programmes],
            themes=[str(t.id) for t in themes],
            border_areas=[str(a.id) for a in areas],
            match_capacity="7",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.location == f"/authorities/{authority.id}"

    saved = reload(Authority, authority.id)
    assert saved.name == "Gobierno Regional de Tacna"
    assert saved.kind == "region"
    assert (saved.country_code, saved.subdivision_code, saved.side) == ("PE", "PE-TAC", "LAC")
    assert saved.website == "https://www.regiontacna.gob.pe"
    assert saved.description == "Región fronteriza con Chile."
    assert saved.description_language == "es"
    assert saved.languages == ["en", "es", "qu"]
    assert {p.code for p in saved.programmes} == {"INNOVACT", "IURC"}
    assert {t.code for t in saved.themes} == {"water-management", "tourism", "agri-food"}
    assert {a.code for a in saved.border_areas} == {"PE-CL", "EC-PE"}
    assert saved.match_capacity == 7
    (entry,) = activity(saved, "authority.update_profile")
    assert entry.actor_id == member.id

    # The form shows the saved choices ticked.
    form = client.get(f"/authorities/{authority.id}/edit").get_data(as_text=True)
    for name, rows in (("programmes", programmes), ("themes", themes), ("border_areas", areas)):
        ticked = re.findall(rf'<input checked [^>]*name="{name}" [^>]*value="(\d+)"', form)
        assert sorted(ticked) == sorted(str(row.id) for row in rows), name

    # The profile page shows what was saved.
    page = client.get(f"/authorities/{authority.id}").get_data(as_text=True)
    assert "Región fronteriza con Chile." in page
    assert "Peru–Chile" in page
    assert "Water management and sanitation" in page
    assert "International Urban and Regional Cooperation (IURC)" in page
    assert "Quechua" in page  # the working languages, by name


def test_unticking_every_box_empties_the_lists(app, reference):
    authority = make_authority()
    client = signed_in(app, make_member(authority))
    themes = by_code(Theme, "tourism")
    client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, authority, themes=[str(themes[0].id)]),
    )
    assert [t.code for t in reload(Authority, authority.id).themes] == ["tourism"]
    data = profile_data(client, reload(Authority, authority.id))
    del data["themes"]  # a browser sends nothing for a list with no box ticked
    assert client.post(f"/authorities/{authority.id}/edit", data=data).status_code == 302
    assert reload(Authority, authority.id).themes == []


def test_moving_the_authority_to_spain_makes_it_european(app, reference):
    authority = make_authority(country="PE", subdivision="PE-TAC")
    assert authority.side == "LAC"
    client = signed_in(app, make_member(authority))
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, authority, country_code="ES", subdivision_code="ES-AN"),
    )
    assert response.status_code == 302
    saved = reload(Authority, authority.id)
    assert (saved.country_code, saved.subdivision_code, saved.side) == ("ES", "ES-AN", "EU")


def test_a_region_of_another_country_is_refused_and_nothing_is_saved(app, reference):
    authority = make_authority(name="Original name", country="PE", subdivision="PE-TAC")
    client = signed_in(app, make_member(authority))
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(
            client,
            authority,
            name="Typed new name",
            subdivision_code="CL-AP",
            description="Typed description",
            match_capacity="9",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "subdivision_code") == "Choose a region of the country you chose."
    # What was typed is still there.
    assert 'value="Typed new name"' in page
    assert "Typed description</textarea>" in page
    assert 'value="9"' in page

    saved = reload(Authority, authority.id)
    assert saved.name == "Original name"
    assert saved.subdivision_code == "PE-TAC"
    assert saved.match_capacity == 3
    assert saved.description == ""
    assert activity(saved, "authority.update_profile") == []


def test_the_region_error_is_in_the_members_language(app, reference):
    authority = make_authority(country="PE", subdivision="PE-TAC")
    client = signed_in(app, make_member(authority, language="pt"))
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, authority, subdivision_code="CL-AP"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "subdivision_code") == "Escolha uma região do país selecionado."


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ("-1", f"Choose a number from 0 to {MAX_MATCH_CAPACITY}."),
        (str(MAX_MATCH_CAPACITY + 1), f"Choose a number from 0 to {MAX_MATCH_CAPACITY}."),
        ("", "Enter a number."),
        ("many", None),
    ],
)
def test_a_capacity_out_of_range_is_refused(app, reference, capacity, message):
    authority = make_authority()
    client = signed_in(app, make_member(authority))
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, authority, match_capacity=capacity, name="Changed"),
    )
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "match_capacity")
    if message:  # otherwise WTForms' own wording for "not a number"
        assert error == message
    saved = reload(Authority, authority.id)
    assert (saved.name, saved.match_capacity) == (authority.name, 3)


def test_the_largest_capacity_is_accepted(app, reference):
    authority = make_authority()
    client = signed_in(app, make_member(authority))
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, authority, match_capacity=str(MAX_MATCH_CAPACITY)),
    )
    assert response.status_code == 302
    assert reload(Authority, authority.id).match_capacity == MAX_MATCH_CAPACITY


@pytest.mark.parametrize("field", ["themes", "programmes", "border_areas"])
def test_an_unknown_id_in_a_list_is_refused(app, reference, field):
    authority = make_authority()
    client = signed_in(app, make_member(authority))
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, authority, **{field: ["999999"]}, name="Changed"),
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == "Choose from the list."
    saved = reload(Authority, authority.id)
    assert saved.name == authority.name
    assert getattr(saved, field) == []


def test_an_unknown_working_language_is_refused(app, reference):
    authority = make_authority()
    client = signed_in(app, make_member(authority))
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, authority, languages=["es", "xx"]),
    )
    assert response.status_code == 422
    assert reload(Authority, authority.id).languages == ["es"]


def test_outsiders_cannot_edit_a_profile(app, client, reference):
    authority = make_authority(name="Kept")
    other = signed_in(app, make_member(make_authority()))
    assert other.get(f"/authorities/{authority.id}/edit").status_code == 403
    response = other.post(
        f"/authorities/{authority.id}/edit",
        data={**profile_data(other, authority, name="Hijacked"), "csrf_token": csrf_token(other)},
    )
    assert response.status_code == 403
    assert reload(Authority, authority.id).name == "Kept"
    # Visitors are sent to log in.
    response = client.get(f"/authorities/{authority.id}/edit")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_a_coordinator_may_edit_any_profile(app, reference):
    authority = make_authority(name="Before")
    client = signed_in(app, make_coordinator())
    response = client.post(
        f"/authorities/{authority.id}/edit", data=profile_data(client, authority, name="After")
    )
    assert response.status_code == 302
    assert reload(Authority, authority.id).name == "After"


# Verification ----------------------------------------------------------------------------------


def test_the_verification_queue_lists_pending_authorities_oldest_first(app):
    newer = make_authority(name="Registered yesterday", verified=False)
    older = make_authority(name="Registered last week", verified=False)
    make_authority(name="Already verified", verified=True)
    rejected = make_authority(name="Turned down", verified=False)
    reject_authority(make_coordinator(), rejected, "Not a public body.")
    now = utcnow()
    newer.created_at = now - timedelta(days=1)
    older.created_at = now - timedelta(days=7)
    db.session.commit()

    client = signed_in(app, make_coordinator())
    page = client.get("/authorities/verification").get_data(as_text=True)
    names = re.findall(r'<h2 class="h5 mb-1" id="authority-\d+"><a [^>]*>([^<]+)</a>', page)
    assert names == ["Registered last week", "Registered yesterday"]
    assert "2 authorities are waiting, oldest first." in page


def test_members_cannot_open_the_verification_queue(app):
    authority = make_authority(verified=False)
    client = signed_in(app, make_member(authority))
    assert client.get("/authorities/verification").status_code == 403
    response = client.post(
        f"/authorities/{authority.id}/verify", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 403
    assert reload(Authority, authority.id).status == AuthorityStatus.PENDING


def test_verifying_tells_every_member_in_their_own_language(app, worker, mailbox):
    authority = make_authority(name="Gobierno Regional de Tacna", verified=False)
    make_member(authority, email="en@tacna.example", language="en")
    make_member(authority, email="es@tacna.example", language="es")
    make_member(authority, email="pt@tacna.example", language="pt")
    suspended = make_member(authority, email="gone@tacna.example")
    suspended.active = False
    db.session.commit()
    coordinator = make_coordinator()

    client = signed_in(app, coordinator)
    response = client.post(
        f"/authorities/{authority.id}/verify", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert response.location == "/authorities/verification"

    saved = reload(Authority, authority.id)
    assert saved.status == AuthorityStatus.VERIFIED
    assert saved.verified_by_id == coordinator.id
    assert saved.verified_at is not None
    (entry,) = activity(saved, "authority.verify")
    assert (entry.actor_id, entry.from_state, entry.to_state) == (
        coordinator.id,
        "pending",
        "verified",
    )

    messages = {m.to: m for m in settle(mailbox, 3)}
    assert set(messages) == {"en@tacna.example", "es@tacna.example", "pt@tacna.example"}
    assert messages["en@tacna.example"].subject == (
        "Gobierno Regional de Tacna is verified on Exchange"
    )
    assert messages["es@tacna.example"].subject == (
        "Autoridad verificada en Exchange: Gobierno Regional de Tacna"
    )
    assert messages["pt@tacna.example"].subject == (
        "Autoridade verificada no Exchange: Gobierno Regional de Tacna"
    )
    for address, message in messages.items():
        assert message.message["Content-Language"] == address.split("@")[0]
        assert f"http://exchange.test/authorities/{authority.id}/edit" in message.text
        assert f"/authorities/{authority.id}/edit" in message.html

    # Once verified it leaves the queue and appears in the directory.
    queue = client.get("/authorities/verification").get_data(as_text=True)
    assert "Gobierno Regional de Tacna is verified; its members are told." in queue
    assert f'id="authority-{authority.id}"' not in queue
    assert "Gobierno Regional de Tacna" in client.get("/authorities/").get_data(as_text=True)


def test_a_rejection_needs_a_reason(app, worker, mailbox):
    authority = make_authority(name="Vague Agency", verified=False)
    make_member(authority, email="member@vague.example")
    client = signed_in(app, make_coordinator())
    response = client.post(
        f"/authorities/{authority.id}/reject",
        data={"reason": "   ", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="reason-{authority.id}-error"' in page
    assert "Say why, so that the authority can put it right." in page

    saved = reload(Authority, authority.id)
    assert saved.status == AuthorityStatus.PENDING
    assert saved.status_reason is None
    assert activity(saved, "authority.reject") == []
    assert settle(mailbox, 0) == []


def test_a_rejection_with_a_reason_is_recorded_and_mailed(app, worker, mailbox):
    authority = make_authority(name="Vague Agency", verified=False)
    make_member(authority, email="member@vague.example", language="es")
    coordinator = make_coordinator()
    client = signed_in(app, coordinator)
    reason = "No encontramos la autoridad en el registro oficial; añada su sitio web."
    response = client.post(
        f"/authorities/{authority.id}/reject",
        data={"reason": f"  {reason}  ", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302

    saved = reload(Authority, authority.id)
    assert saved.status == AuthorityStatus.REJECTED
    assert saved.status_reason == reason
    (entry,) = activity(saved, "authority.reject")
    assert (entry.actor_id, entry.from_state, entry.to_state, entry.comment) == (
        coordinator.id,
        "pending",
        "rejected",
        reason,
    )
    (message,) = mailbox.wait_for(1)
    assert message.to == "member@vague.example"
    assert message.subject == "Acción necesaria: no se ha aceptado el registro de Vague Agency"
    assert reason in message.text
    assert reason in message.html
    # A rejected authority is not in the queue any more, nor in the directory.
    queue = client.get("/authorities/verification").get_data(as_text=True)
    assert "Vague Agency is not accepted; its members are told why." in queue
    assert f'id="authority-{authority.id}"' not in queue
    assert "Vague Agency" not in client.get("/authorities/").get_data(as_text=True)


def test_correcting_a_rejected_profile_sends_it_back_for_verification(app, reference):
    authority = make_authority(name="Vague Agency", verified=False)
    member = make_member(authority)
    reject_authority(make_coordinator(), authority, "Add the website.")
    db.session.commit()

    client = signed_in(app, member)
    page = client.get(f"/authorities/{authority.id}").get_data(as_text=True)
    assert "Add the website." in page  # the member sees why

    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, reload(Authority, authority.id), website="https://vague.example"),
    )
    assert response.status_code == 302
    saved = reload(Authority, authority.id)
    assert saved.status == AuthorityStatus.PENDING
    assert saved.website == "https://vague.example"
    (entry,) = activity(saved, "authority.resubmit")
    assert (entry.actor_id, entry.from_state, entry.to_state) == (member.id, "rejected", "pending")
    coordinator = signed_in(app, make_coordinator())
    assert "Vague Agency" in coordinator.get("/authorities/verification").get_data(as_text=True)


def test_a_coordinator_editing_a_rejected_profile_does_not_resubmit_it(app, reference):
    authority = make_authority(verified=False)
    coordinator = make_coordinator()
    reject_authority(coordinator, authority, "Not a public body.")
    db.session.commit()
    client = signed_in(app, coordinator)
    response = client.post(
        f"/authorities/{authority.id}/edit",
        data=profile_data(client, reload(Authority, authority.id), name="Renamed"),
    )
    assert response.status_code == 302
    saved = reload(Authority, authority.id)
    assert saved.name == "Renamed"
    assert saved.status == AuthorityStatus.REJECTED
    assert activity(saved, "authority.resubmit") == []


def test_an_unverified_profile_is_hidden_from_outsiders(app, client):
    authority = make_authority(name="Hidden", verified=False)
    assert client.get(f"/authorities/{authority.id}").status_code == 404
    other = signed_in(app, make_member(make_authority()))
    assert other.get(f"/authorities/{authority.id}").status_code == 404
    own = signed_in(app, make_member(authority))
    assert own.get(f"/authorities/{authority.id}").status_code == 200
    assert signed_in(app, make_coordinator()).get(f"/authorities/{authority.id}").status_code == 200


# Requests to join ------------------------------------------------------------------------------


def test_declining_a_join_request_tells_the_requester_why(app, worker, mailbox):
    authority = make_authority(name="Municipalidad de Tacna")
    member = make_member(authority, email="alcaldia@tacna.example")
    requester = make_user(email="stranger@example.org", language="es")
    join_request = request_to_join(requester, authority.id, "Soy consultor.")
    db.session.commit()
    (announcement,) = mailbox.wait_for(1)
    assert announcement.to == "alcaldia@tacna.example"

    client = signed_in(app, member)
    page = client.get(f"/authorities/{authority.id}/members").get_data(as_text=True)
    assert "stranger@example.org" in page
    assert "Soy consultor." in page
    response = client.post(
        f"/authorities/join-requests/{join_request.id}/reject",
        data={"reason": "No trabaja para la municipalidad.", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response.location == f"/authorities/{authority.id}/members"

    saved = reload(JoinRequest, join_request.id)
    assert saved.status == JoinRequestStatus.REJECTED
    assert saved.reason == "No trabaja para la municipalidad."
    assert saved.decided_by_id == member.id
    assert db.session.get(User, requester.id).authority_id is None
    (entry,) = activity(saved, "join_request.reject")
    assert entry.comment == "No trabaja para la municipalidad."

    answer = mailbox.wait_for(2)[1]
    assert answer.to == "stranger@example.org"
    assert answer.subject == "Se ha rechazado su solicitud para unirse a Municipalidad de Tacna"
    assert "No trabaja para la municipalidad." in answer.text
    # The request no longer waits on the members page.
    page = client.get(f"/authorities/{authority.id}/members").get_data(as_text=True)
    assert "stranger@example.org" not in page


def test_a_member_with_an_unconfirmed_address_cannot_answer(app, worker, mailbox):
    authority = make_authority()
    make_member(authority, email="confirmed@example.org")
    unconfirmed = make_member(authority, email="unconfirmed@example.org", confirmed=False)
    requester = make_user(email="stranger@example.org")
    join_request = request_to_join(requester, authority.id)
    db.session.commit()
    mailbox.wait_for(1)

    client = signed_in(app, unconfirmed)
    for decision in ("approve", "reject"):
        response = client.post(
            f"/authorities/join-requests/{join_request.id}/{decision}",
            data={"csrf_token": csrf_token(client)},
        )
        assert response.status_code == 403
    saved = reload(JoinRequest, join_request.id)
    assert saved.status == JoinRequestStatus.PENDING
    assert saved.decided_by_id is None
    assert db.session.get(User, requester.id).authority_id is None
    assert [m.to for m in settle(mailbox, 1)] == ["confirmed@example.org"]


def test_members_of_another_authority_cannot_answer(app, worker, mailbox):
    authority = make_authority()
    make_member(authority, email="insider@example.org")
    outsider = make_member(make_authority())
    join_request = request_to_join(make_user(), authority.id)
    db.session.commit()
    mailbox.wait_for(1)
    client = signed_in(app, outsider)
    response = client.post(
        f"/authorities/join-requests/{join_request.id}/approve",
        data={"csrf_token": csrf_token(client)},
    )
    assert response.status_code == 403
    assert reload(JoinRequest, join_request.id).status == JoinRequestStatus.PENDING


def test_without_a_confirmed_member_the_coordinators_hear_of_the_request(app, worker, mailbox):
    authority = make_authority(name="Nobody Home")
    make_member(authority, email="unconfirmed@nobody.example", confirmed=False)
    make_coordinator(email="coordinator@example.org", language="es")
    make_admin(email="admin@example.org")
    make_coordinator(email="unconfirmed-coordinator@example.org", confirmed=False)
    suspended = make_coordinator(email="suspended-coordinator@example.org")
    suspended.active = False
    db.session.commit()

    request_to_join(make_user(email="newcomer@example.org", name="Ana Newcomer"), authority.id)
    db.session.commit()

    messages = {m.to: m for m in settle(mailbox, 2)}
    assert set(messages) == {"coordinator@example.org", "admin@example.org"}
    assert messages["admin@example.org"].subject == (
        "Action needed: Ana Newcomer asks to join Nobody Home"
    )
    assert "newcomer@example.org" in messages["coordinator@example.org"].text
    assert f"/authorities/{authority.id}/members" in messages["coordinator@example.org"].text


def test_a_coordinator_approves_a_request_for_an_authority_without_members(app, worker, mailbox):
    authority = make_authority(name="Nobody Home")
    coordinator = make_coordinator(email="coordinator@example.org")
    requester = make_user(email="newcomer@example.org")
    join_request = request_to_join(requester, authority.id)
    db.session.commit()
    mailbox.wait_for(1)

    client = signed_in(app, coordinator)
    response = client.post(
        f"/authorities/join-requests/{join_request.id}/approve",
        data={"csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert reload(User, requester.id).authority_id == authority.id
    assert reload(JoinRequest, join_request.id).status == JoinRequestStatus.APPROVED
    answer = mailbox.wait_for(2)[1]
    assert answer.to == "newcomer@example.org"
    assert answer.subject == "You are now a member of Nobody Home on Exchange"


# The directory ---------------------------------------------------------------------------------


def test_the_directory_lists_only_verified_authorities(client):
    make_authority(name="Verified Peru", country="PE", subdivision="PE-TAC")
    make_authority(name="Verified Spain", country="ES", subdivision="ES-AN")
    make_authority(name="Pending Chile", country="CL", subdivision="CL-AP", verified=False)
    rejected = make_authority(
        name="Rejected Mexico", country="MX", subdivision=None, verified=False
    )
    reject_authority(make_coordinator(), rejected, "Duplicate.")
    db.session.commit()

    page = client.get("/authorities/").get_data(as_text=True)
    names = re.findall(r"<strong>([^<]+)</strong>", page)
    assert names == ["Verified Peru", "Verified Spain"]
    assert "2 verified authorities take part in the cooperation." in page


@pytest.mark.parametrize(
    ("side", "expected"),
    [("EU", ["Verified Spain"]), ("LAC", ["Verified Peru"]), ("nonsense", None)],
)
def test_the_directory_filters_by_side(client, side, expected):
    make_authority(name="Verified Peru", country="PE", subdivision="PE-TAC")
    make_authority(name="Verified Spain", country="ES", subdivision="ES-AN")
    make_authority(name="Pending Italy", country="IT", subdivision=None, verified=False)
    page = client.get(f"/authorities/?side={side}").get_data(as_text=True)
    names = re.findall(r"<strong>([^<]+)</strong>", page)
    # An unknown side is ignored: everything verified is listed.
    assert names == (expected or ["Verified Peru", "Verified Spain"])


def test_the_directory_is_paginated(client):
    from exchange.authorities.views import PAGE_SIZE

    for number in range(PAGE_SIZE + 2):
        make_authority(name=f"Authority {number:03d}")
    first = re.findall(r"<strong>([^<]+)</strong>", client.get("/authorities/").get_data(True))
    second = re.findall(
        r"<strong>([^<]+)</strong>", client.get("/authorities/?page=2").get_data(True)
    )
    assert len(first) == PAGE_SIZE
    assert second == [f"Authority {PAGE_SIZE:03d}", f"Authority {PAGE_SIZE + 1:03d}"]


# Countries and regions -------------------------------------------------------------------------


def test_the_regions_of_a_country_as_json(client):
    response = client.get("/authorities/subdivisions?country=PE")
    assert response.status_code == 200
    regions = response.get_json()
    assert {"code": "PE-TAC", "name": "Tacna"} in regions
    assert all(region["code"].startswith("PE-") for region in regions)
    names = [region["name"] for region in regions]
    assert names == sorted(names, key=str.casefold)


@pytest.mark.parametrize("country", ["XX", "US", ""])
def test_an_unknown_country_gets_a_json_404(client, country):
    response = client.get(f"/authorities/subdivisions?country={country}")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {"error": "Unknown country."}


def test_region_names_follow_the_readers_language(client):
    response = client.get("/authorities/subdivisions?country=IT", headers={"Accept-Language": "es"})
    assert {"code": "IT-BO", "name": "Bolonia"} in response.get_json()


def test_country_and_region_are_shown_in_the_viewers_language(app, client):
    germany = make_authority(name="Freistaat Bayern", country="DE", subdivision="DE-BY")
    italy = make_authority(name="Comune di Bologna", country="IT", subdivision="IT-BO")

    english = client.get(f"/authorities/{italy.id}").get_data(as_text=True)
    assert "Bologna, Italy" in english

    page = client.get(f"/authorities/{germany.id}", headers={"Accept-Language": "es"})
    assert "Alemania" in page.get_data(as_text=True)
    page = client.get(f"/authorities/{italy.id}", headers={"Accept-Language": "es"})
    assert "Bolonia, Italia" in page.get_data(as_text=True)

    # A signed-in person's own choice wins over the browser.
    reader = signed_in(app, make_member(make_authority(), language="pt"))
    page = reader.get("/authorities/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Alemanha" in page
    assert "Alemania" not in page
