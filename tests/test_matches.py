"""The partners' side of a match, in the browser and in the mailbox: the offer, the answers, the
introduction with contacts only after both accept, the stages, closing, the workspace, access."""

import itertools
import re

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.matching import services
from exchange.matching.models import Match, MatchStatus, Stage
from exchange.notifications.services import queue_notification
from tests.conftest import csrf_token, wait_for
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_submission,
    make_user,
)

pytestmark = pytest.mark.usefixtures("reference")

_sentinels = itertools.count(1)
PRACTICE = "Riego tecnificado en zonas áridas de Tacna"
# Everything that would let one side reach the other before both accept.
TACNA_CONTACTS = (
    "ana@tacna.example",
    "luis@tacna.example",
    "Ana Quispe",
    "Luis Mamani",
    "tacna.gob.pe",
)
BOLOGNA_CONTACTS = ("marco@bologna.example", "Marco Rossi", "comune.bologna.it")


def settled(mailbox):
    """Everything the worker sent up to now: a sentinel queued last arrives last (one worker)."""
    sentinel = make_user(email=f"sentinel-p{next(_sentinels)}@example.org")
    queue_notification(sentinel, "auth.confirm_email")
    db.session.commit()
    wait_for(lambda: mailbox.to(sentinel.email), timeout=30, message="the sentinel e-mail")
    return [m for m in mailbox.messages if not m.to.startswith("sentinel-")]


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def page_of(client, match) -> str:
    response = client.get(f"/matches/{match.id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def post(client, match, action, data):
    path = f"/matches/{match.id}"
    return client.post(f"{path}/{action}", data={**data, "csrf_token": csrf_token(client, path)})


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert found, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


@pytest.fixture
def world():
    tacna = make_authority(name="Gobierno Regional de Tacna")
    bologna = make_authority(
        name="Comune di Bologna", country="IT", subdivision="IT-BO", kind="municipality"
    )
    tacna.website = "https://www.tacna.gob.pe"
    bologna.website = "https://www.comune.bologna.it"
    tacna.description = "Región fronteriza con experiencia en riego."
    db.session.commit()
    ana = make_member(tacna, email="ana@tacna.example", name="Ana Quispe")
    luis = make_member(tacna, email="luis@tacna.example", name="Luis Mamani", language="es")
    marco = make_member(bologna, email="marco@bologna.example", name="Marco Rossi")
    practice = make_submission(ana, state="published")
    coordinator = make_coordinator(email="carla@exchange.example", name="Carla Coordinator")
    return {
        "tacna": tacna,
        "bologna": bologna,
        "ana": ana,
        "luis": luis,
        "marco": marco,
        "practice": practice,
        "coordinator": coordinator,
    }


def offer(world, **kwargs):
    return make_match(
        world["tacna"],
        world["bologna"],
        coordinator=world["coordinator"],
        note="Les presento: ambos trabajan en riego.",
        **kwargs,
    )


# The offer ---------------------------------------------------------------------------------------


def test_the_offer_email_shows_what_the_other_offers_without_contacts(app, worker, mailbox, world):
    settled(mailbox)
    mailbox.reset()
    match = offer(world)

    messages = {m.to: m for m in settled(mailbox)}
    assert set(messages) == {"ana@tacna.example", "luis@tacna.example", "marco@bologna.example"}
    to_bologna = messages["marco@bologna.example"]
    assert to_bologna.subject == (
        "Action needed: a partner proposed for Comune di Bologna: Gobierno Regional de Tacna"
    )
    for part in (to_bologna.text, to_bologna.html):
        assert "Gobierno Regional de Tacna" in part
        assert "Peru" in part
        assert "Region, state or province" in part
        assert PRACTICE in part
        assert "Les presento: ambos trabajan en riego." in part
        assert "Themes in common: Water management and sanitation." in part
        assert f"http://exchange.test/matches/{match.id}#answer" in part
        assert f"http://exchange.test/matches/{match.id}#decline" in part
        assert f"http://exchange.test/practices/{world['practice'].id}" in part
        for secret in TACNA_CONTACTS:
            assert secret not in part, secret
    to_tacna = messages["ana@tacna.example"]
    assert "Comune di Bologna" in to_tacna.subject
    for part in (to_tacna.text, to_tacna.html):
        for secret in BOLOGNA_CONTACTS:
            assert secret not in part, secret


def test_the_page_before_both_accept_shows_no_contacts(app, world):
    match = offer(world)
    client = signed_in(app, world["marco"])
    page = page_of(client, match)
    assert "Match with Gobierno Regional de Tacna" in page
    assert "Región fronteriza con experiencia en riego." in page
    assert PRACTICE in page
    assert "Themes in common: Water management and sanitation." in page
    assert "Les presento: ambos trabajan en riego." in page
    assert f'action="/matches/{match.id}/answer"' in page
    assert 'id="decline"' in page
    for secret in TACNA_CONTACTS:
        assert secret not in page, secret

    # Tacna accepts: Bologna sees that, still without Tacna's people.
    services.answer_match(world["ana"], match, accept=True)
    db.session.commit()
    page = page_of(client, match)
    assert "Accepted" in page
    for secret in TACNA_CONTACTS:
        assert secret not in page, secret
    # … and Tacna no longer has the answer form.
    tacna_page = page_of(signed_in(app, world["luis"]), match)
    assert f'action="/matches/{match.id}/answer"' not in tacna_page
    for secret in BOLOGNA_CONTACTS:
        assert secret not in tacna_page, secret


# Answering ---------------------------------------------------------------------------------------


def test_both_accept_in_the_browser_and_get_each_others_contacts(app, worker, mailbox, world):
    match = offer(world)
    settled(mailbox)
    mailbox.reset()

    response = post(signed_in(app, world["ana"]), match, "answer", {"answer": "accept"})
    assert response.status_code == 302
    assert response.location == f"/matches/{match.id}"
    (waiting,) = settled(mailbox)
    assert waiting.to == "marco@bologna.example"
    assert waiting.subject == (
        "Action needed: Gobierno Regional de Tacna accepted the match and waits for your answer"
    )
    for secret in TACNA_CONTACTS:
        assert secret not in waiting.text
        assert secret not in waiting.html
    mailbox.reset()

    marco = signed_in(app, world["marco"])
    assert post(marco, match, "answer", {"answer": "accept"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.CONNECTED

    messages = {m.to: m for m in settled(mailbox)}
    assert set(messages) == {"ana@tacna.example", "luis@tacna.example", "marco@bologna.example"}
    to_bologna = messages["marco@bologna.example"]
    assert to_bologna.subject == (
        "You are connected with Gobierno Regional de Tacna: here are their contact details"
    )
    for part in (to_bologna.text, to_bologna.html):
        for contact in TACNA_CONTACTS:
            assert contact in part, contact
    for part in (messages["ana@tacna.example"].text, messages["ana@tacna.example"].html):
        for contact in BOLOGNA_CONTACTS:
            assert contact in part, contact

    page = page_of(marco, match)
    for contact in TACNA_CONTACTS:
        assert contact in page, contact
    assert f'action="/matches/{match.id}/stage"' in page


def test_a_decline_without_a_reason_is_refused_on_the_field(app, world):
    match = offer(world)
    client = signed_in(app, world["marco"])
    response = post(client, match, "answer", {"answer": "decline", "reason": "   "})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "reason") == "Say why you decline: the coordinators learn from it."
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.AWAITING

    response = post(client, match, "answer", {"answer": "decline", "reason": "x" * 2001})
    assert response.status_code == 422
    assert "x" * 2001 in response.get_data(as_text=True)  # nothing lost


def test_a_decline_tells_the_other_side_and_the_coordinator(app, worker, mailbox, world):
    match = offer(world)
    settled(mailbox)
    mailbox.reset()
    client = signed_in(app, world["marco"])
    reason = "Ya tenemos un socio en la región."
    assert post(client, match, "answer", {"answer": "decline", "reason": reason}).status_code == 302

    messages = {m.to: m for m in settled(mailbox)}
    assert set(messages) == {"ana@tacna.example", "luis@tacna.example", "carla@exchange.example"}
    to_tacna = messages["ana@tacna.example"]
    assert to_tacna.subject == (
        "Comune di Bologna declined the match with Gobierno Regional de Tacna"
    )
    assert reason in to_tacna.text
    assert "marco@bologna.example" not in to_tacna.text
    to_coordinator = messages["carla@exchange.example"]
    assert to_coordinator.subject == (
        "Comune di Bologna declined the match with Gobierno Regional de Tacna"
    )
    assert reason in to_coordinator.html
    page = page_of(client, match)
    assert reason in page
    assert f'action="/matches/{match.id}/answer"' not in page
    for secret in TACNA_CONTACTS:
        assert secret not in page, secret


# Stages and closing ------------------------------------------------------------------------------


def test_stages_are_recorded_forward_from_the_page(app, world):
    match = offer(world, state="connected")
    client = signed_in(app, world["marco"])
    page = page_of(client, match)
    assert '<option value="introduced"' not in page
    assert '<option value="met"' in page

    response = post(client, match, "stage", {"stage": "met", "note": "Reunión en Bolonia."})
    assert response.status_code == 302
    db.session.expire_all()
    match = db.session.get(Match, match.id)
    assert match.stage == Stage.MET
    page = page_of(client, match)
    assert "Reunión en Bolonia." in page
    assert '<option value="contacted"' not in page

    response = post(client, match, "stage", {"stage": "contacted", "note": "Atrás"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "stage")
    response = post(client, match, "stage", {"stage": "", "note": "Guardada"})
    assert response.status_code == 422
    assert "Guardada" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Match, match.id).stage == Stage.MET


def test_stages_are_not_recorded_before_the_introduction(app, world):
    match = offer(world)
    client = signed_in(app, world["marco"])
    assert f'action="/matches/{match.id}/stage"' not in page_of(client, match)
    assert post(client, match, "stage", {"stage": "met"}).status_code == 403


def test_a_side_closes_a_connected_match(app, world):
    match = offer(world, state="connected")
    client = signed_in(app, world["marco"])
    response = post(client, match, "close", {"reason": ""})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "reason") == "Say why the match ends."
    response = post(client, match, "close", {"reason": "Proyecto terminado."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.CLOSED
    assert "Proyecto terminado." in page_of(client, match)


def test_a_match_withdrawn_before_both_accept_reveals_nothing(app, world):
    match = offer(world)
    services.answer_match(world["ana"], match, accept=True)
    services.close_match(world["coordinator"], match, "Retirado.")
    db.session.commit()
    page = page_of(signed_in(app, world["marco"]), match)
    assert "Retirado." in page
    for secret in TACNA_CONTACTS:
        assert secret not in page, secret


def test_a_side_cannot_close_a_match_still_waiting(app, world):
    match = offer(world)
    client = signed_in(app, world["marco"])
    assert f'action="/matches/{match.id}/close"' not in page_of(client, match)
    assert post(client, match, "close", {"reason": "No"}).status_code == 403


# Access ------------------------------------------------------------------------------------------


def test_only_the_two_sides_and_the_coordinators_see_a_match(app, client, world):
    match = offer(world)
    outsider = make_member(
        make_authority(name="Región de Murcia", country="ES", subdivision="ES-MU")
    )
    assert signed_in(app, outsider).get(f"/matches/{match.id}").status_code == 404
    assert post(signed_in(app, outsider), match, "answer", {"answer": "accept"}).status_code == 404
    assert client.get(f"/matches/{match.id}").status_code == 302  # to the login page
    assert signed_in(app, world["marco"]).get("/matches/999999").status_code == 404

    page = page_of(signed_in(app, make_coordinator()), match)
    assert "Match: " in page
    assert "Gobierno Regional de Tacna" in page
    assert "Comune di Bologna" in page
    assert f'action="/matches/{match.id}/answer"' not in page
    assert f'action="/matches/{match.id}/close"' in page  # a coordinator may withdraw it
    assert (
        post(signed_in(app, make_coordinator()), match, "answer", {"answer": "accept"}).status_code
        == 403
    )


def test_an_unconfirmed_member_cannot_answer(app, world):
    match = offer(world)
    unconfirmed = make_member(world["bologna"], confirmed=False)
    client = signed_in(app, unconfirmed)
    page = page_of(client, match)
    assert f'action="/matches/{match.id}/answer"' not in page
    assert post(client, match, "answer", {"answer": "accept"}).status_code == 403


def test_history_names_the_other_side_only_by_its_authority(app, world):
    match = offer(world)
    services.answer_match(world["ana"], match, accept=True)
    db.session.commit()
    page = page_of(signed_in(app, world["marco"]), match)
    assert "Gobierno Regional de Tacna: accepted" in page
    assert "Carla Coordinator (coordinator): proposed the match" in page


# The workspace -----------------------------------------------------------------------------------


def test_the_workspace_lists_the_matches(app, world):
    waiting = offer(world)
    connected = make_match(
        world["bologna"], make_authority(name="Municipio de Lima"), state="connected"
    )
    past = make_match(world["bologna"], make_authority(name="Municipio de Cusco"), state="declined")
    page = signed_in(app, world["marco"]).get("/workspace/").get_data(as_text=True)
    section = page[page.index('id="matches"') :]
    assert "Waiting for your answer" in section
    assert f'href="/matches/{waiting.id}"' in section
    assert f'href="/matches/{connected.id}"' in section
    assert "stage: Introduced" in section
    assert f'href="/matches/{past.id}"' in section
    assert "Past matches" in section


def test_a_workspace_without_matches_says_so(app, world):
    page = signed_in(app, world["marco"]).get("/workspace/").get_data(as_text=True)
    assert "No match yet." in page
    assert db.session.scalars(select(Match)).all() == []
