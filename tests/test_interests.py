"""Interest: members of other authorities tell the owners of a published item they want to know
more; the owners answer. Both sides are e-mailed; nobody else sees either."""

import itertools
import re

import pytest
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.extensions import db
from exchange.notifications.services import queue_notification
from exchange.submissions import services
from exchange.submissions.models import Interest, InterestStatus
from tests.conftest import csrf_token, wait_for
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    make_user,
)

pytestmark = pytest.mark.usefixtures("reference")

_sentinels = itertools.count(1)
TITLE = "Riego tecnificado en zonas áridas de Tacna"


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def count_interests() -> int:
    return db.session.scalar(select(func.count()).select_from(Interest))


def express(client, submission, message):
    path = f"/interests/express/{submission.id}"
    return client.post(path, data={"message": message, "csrf_token": csrf_token(client, path)})


def answer(client, interest, text, back=""):
    return client.post(
        f"/interests/{interest.id}/answer",
        data={"answer": text, "back": back, "csrf_token": csrf_token(client)},
    )


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def settled(mailbox):
    """Everything the worker sent up to now: a sentinel queued last arrives last (one worker)."""
    sentinel = make_user(email=f"sentinel-{next(_sentinels)}@example.org")
    queue_notification(sentinel, "auth.confirm_email")
    db.session.commit()
    wait_for(lambda: mailbox.to(sentinel.email), message="the sentinel e-mail")
    return [m for m in mailbox.messages if not m.to.startswith("sentinel-")]


@pytest.fixture
def world():
    """Authority A publishes a practice; B and C are other authorities."""
    a = make_authority(name="Gobierno Regional de Tacna")
    b = make_authority(name="Región de Arica y Parinacota", country="CL", subdivision="CL-AP")
    c = make_authority(name="Provincia de Jujuy", country="AR", subdivision="AR-Y")
    owner = make_member(a, email="owner@tacna.example")
    colleague = make_member(a, email="colleague@tacna.example", language="es")
    b_member = make_member(b, email="ana@arica.example")
    b_colleague = make_member(b, email="luis@arica.example")
    c_member = make_member(c, email="eva@jujuy.example")
    practice = make_submission(owner, state="published")
    return {
        "owner": owner,
        "colleague": colleague,
        "b": b,
        "b_member": b_member,
        "b_colleague": b_colleague,
        "c_member": c_member,
        "practice": practice,
    }


def make_interest(world, message="Nos interesa conocer el costo del riego."):
    interest = services.express_interest(world["b_member"], world["practice"], message)
    db.session.commit()
    return interest


# Expressing interest ---------------------------------------------------------------------------


def test_a_member_of_another_authority_shows_interest_and_the_owners_are_emailed(
    app, worker, mailbox, world
):
    settled(mailbox)  # what publishing the practice sent
    mailbox.reset()
    practice = world["practice"]
    client = signed_in(app, world["b_member"])
    message = "Queremos replicar el riego por goteo en Arica.\n¿Podemos hablar?"

    response = express(client, practice, f"  {message}  ")

    assert response.status_code == 302
    assert response.location == f"/practices/{practice.id}#interest"
    (interest,) = db.session.scalars(select(Interest)).all()
    assert interest.submission_id == practice.id
    assert interest.authority_id == world["b"].id
    assert interest.user_id == world["b_member"].id
    assert interest.message == message
    assert interest.status == InterestStatus.OPEN
    (entry,) = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.action == "interest.create")
    ).all()
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == (
        "interest",
        interest.id,
        world["b_member"].id,
    )

    messages = {m.to: m for m in settled(mailbox)}
    assert set(messages) == {"owner@tacna.example", "colleague@tacna.example"}
    english = messages["owner@tacna.example"]
    assert english.subject == (
        f"Action needed: Región de Arica y Parinacota is interested in “{TITLE}”"
    )
    assert "Queremos replicar el riego por goteo en Arica." in english.text
    # The link opens the workspace where the interest is answered.
    assert "http://exchange.test/workspace/#interests-received" in english.text
    assert "Queremos replicar el riego por goteo en Arica." in english.html

    # The item's page now tells B that it has shown interest, with the message.
    page = client.get(f"/practices/{practice.id}").get_data(as_text=True)
    assert "Your authority has already shown interest." in page
    assert "Queremos replicar el riego por goteo en Arica." in page
    assert f'action="/interests/express/{practice.id}"' not in page


def test_a_second_interest_from_the_same_authority_is_refused(app, world):
    make_interest(world)
    client = signed_in(app, world["b_colleague"])
    response = express(client, world["practice"], "Otra pregunta de Arica.")
    # The panel says so instead of offering the form …
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Your authority has already shown interest" in page
    assert count_interests() == 1
    # … and the service refuses it too.
    with pytest.raises(services.ActionError, match="already shown interest"):
        services.express_interest(world["b_colleague"], world["practice"], "Otra")
    db.session.rollback()
    assert count_interests() == 1


def test_owners_cannot_show_interest_in_their_own_item(app, world):
    client = signed_in(app, world["colleague"])
    assert express(client, world["practice"], "Hola").status_code == 403
    with pytest.raises(services.ActionError):
        services.express_interest(world["colleague"], world["practice"], "Hola")
    db.session.rollback()
    assert count_interests() == 0


def test_an_unconfirmed_address_cannot_show_interest(app, world):
    unconfirmed = make_member(world["b"], confirmed=False)
    client = signed_in(app, unconfirmed)
    page = client.get(f"/practices/{world['practice'].id}").get_data(as_text=True)
    assert "Confirm your e-mail address to show interest" in page
    assert f'action="/interests/express/{world["practice"].id}"' not in page
    assert express(client, world["practice"], "Hola").status_code == 403
    with pytest.raises(services.NotAllowed):
        services.express_interest(unconfirmed, world["practice"], "Hola")
    db.session.rollback()
    assert count_interests() == 0


def test_visitors_are_invited_to_log_in(app, client, world):
    practice = world["practice"]
    page = client.get(f"/practices/{practice.id}").get_data(as_text=True)
    assert f'href="/login?next=/interests/express/{practice.id}"' in page
    response = client.post(
        f"/interests/express/{practice.id}",
        data={"message": "Hola", "csrf_token": csrf_token(client, f"/practices/{practice.id}")},
    )
    assert response.status_code == 302
    assert response.location.startswith("/login")
    assert count_interests() == 0
    # Logging in from that link leads to the form.
    response = client.get(f"/interests/express/{practice.id}")
    assert response.status_code == 302
    log_in(client, world["b_member"])
    page = client.get(f"/interests/express/{practice.id}").get_data(as_text=True)
    assert 'name="message"' in page


def test_a_coordinator_without_an_authority_gets_no_form(app, world):
    client = signed_in(app, make_coordinator())
    page = client.get(f"/practices/{world['practice'].id}").get_data(as_text=True)
    assert "Only members of a registered authority can show interest." in page
    assert express(client, world["practice"], "Hola").status_code == 403
    assert count_interests() == 0


def test_no_interest_in_a_draft_or_an_archived_item(app, world):
    draft = make_submission(world["owner"])
    archived = make_submission(world["owner"], state="archived")
    client = signed_in(app, world["b_member"])
    assert express(client, draft, "Hola").status_code == 404
    assert client.get(f"/interests/express/{draft.id}").status_code == 404
    assert express(client, archived, "Hola").status_code == 403
    assert count_interests() == 0


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("   ", "Write a short message to the owners."),
        ("x" * 1001, "Keep it under 1000 characters."),
    ],
)
def test_the_message_is_required_and_short(app, world, message, error):
    client = signed_in(app, world["b_member"])
    response = express(client, world["practice"], message)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "message") == error
    if message.strip():
        assert message in page  # nothing typed is lost
    assert count_interests() == 0


def test_exactly_1000_characters_are_accepted(app, world):
    client = signed_in(app, world["b_member"])
    assert express(client, world["practice"], "x" * 1000).status_code == 302
    assert count_interests() == 1


# Answering -------------------------------------------------------------------------------------


def test_owners_see_the_interests_with_an_answer_form(app, world):
    interest = make_interest(world)
    page = signed_in(app, world["owner"]).get(f"/practices/{world['practice'].id}")
    text = page.get_data(as_text=True)
    assert "Interest received" in text
    assert "Región de Arica y Parinacota" in text
    assert "Nos interesa conocer el costo del riego." in text
    assert f'action="/interests/{interest.id}/answer"' in text
    assert f'id="answer-{interest.id}"' in text


def test_owners_answer_and_the_person_is_emailed(app, worker, mailbox, world):
    interest = make_interest(world)
    settled(mailbox)
    mailbox.reset()
    client = signed_in(app, world["colleague"])

    response = answer(client, interest, "  Con gusto: escríbanos y organizamos una visita.  ")

    assert response.status_code == 302
    assert response.location == f"/practices/{world['practice'].id}#interest"
    db.session.expire_all()
    interest = db.session.get(Interest, interest.id)
    assert interest.status == InterestStatus.ANSWERED
    assert interest.answer == "Con gusto: escríbanos y organizamos una visita."
    assert interest.answered_by_id == world["colleague"].id
    (entry,) = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.action == "interest.answer")
    ).all()
    assert entry.actor_id == world["colleague"].id

    (message,) = settled(mailbox)
    assert message.to == "ana@arica.example"
    assert message.subject == f"Gobierno Regional de Tacna answered about “{TITLE}”"
    assert "Con gusto: escríbanos y organizamos una visita." in message.text
    assert f"http://exchange.test/practices/{world['practice'].id}" in message.text

    # The person who asked reads the answer on the item's page and on the interest's page.
    asker = signed_in(app, world["b_member"])
    for path in (f"/practices/{world['practice'].id}", f"/interests/{interest.id}"):
        page = asker.get(path).get_data(as_text=True)
        assert "Con gusto: escríbanos y organizamos una visita." in page
        assert f'action="/interests/{interest.id}/answer"' not in page


def test_an_answer_from_the_workspace_goes_back_there(app, world):
    interest = make_interest(world)
    response = answer(signed_in(app, world["owner"]), interest, "Sí.", back="workspace")
    assert response.status_code == 302
    assert response.location == "/workspace/#interests-received"


def test_an_empty_answer_is_refused_and_changes_nothing(app, world):
    interest = make_interest(world)
    response = answer(signed_in(app, world["owner"]), interest, "   ")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), f"answer-{interest.id}") == (
        "Write your answer."
    )
    db.session.expire_all()
    interest = db.session.get(Interest, interest.id)
    assert interest.status == InterestStatus.OPEN
    assert interest.answer is None


def test_nobody_else_reads_or_answers_an_interest(app, client, world):
    interest = make_interest(world)
    outsider = signed_in(app, world["c_member"])
    assert outsider.get(f"/interests/{interest.id}").status_code == 404
    assert answer(outsider, interest, "Yo respondo").status_code == 404
    coordinator = signed_in(app, make_coordinator())
    assert coordinator.get(f"/interests/{interest.id}").status_code == 404
    assert answer(coordinator, interest, "Yo respondo").status_code == 404
    # The authority that asked reads it, but does not answer its own question.
    asker = signed_in(app, world["b_colleague"])
    assert asker.get(f"/interests/{interest.id}").status_code == 200
    assert answer(asker, interest, "Yo respondo").status_code == 403
    assert client.get(f"/interests/{interest.id}").status_code == 302  # log in first
    with pytest.raises(services.NotAllowed):
        services.answer_interest(world["c_member"], interest, "Yo respondo")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Interest, interest.id).answer is None
    # Nor does the item's page show it to another authority.
    page = outsider.get(f"/practices/{world['practice'].id}").get_data(as_text=True)
    assert "Nos interesa conocer el costo del riego." not in page
    assert 'name="message"' in page  # C can send its own


def test_the_owners_page_of_an_interest(app, world):
    interest = make_interest(world)
    response = signed_in(app, world["owner"]).get(f"/interests/{interest.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nos interesa conocer el costo del riego." in page
    assert f'action="/interests/{interest.id}/answer"' in page
    assert "Waiting for an answer" in page


def test_co_owners_of_an_idea_receive_and_answer_interest(app, worker, mailbox, world):
    author = world["owner"]
    partner = world["c_member"]
    coordinator = make_coordinator()
    idea = make_submission(author, kind="idea")
    co_owner = services.invite_co_owner(author, idea, partner.authority_id)
    services.answer_co_owner_invitation(partner, co_owner, accept=True)
    services.submit(author, idea)
    services.publish(coordinator, idea)
    db.session.commit()
    settled(mailbox)
    mailbox.reset()

    assert express(signed_in(app, world["b_member"]), idea, "¿Buscan socios?").status_code == 302
    recipients = {m.to for m in settled(mailbox)}
    assert recipients == {"owner@tacna.example", "colleague@tacna.example", "eva@jujuy.example"}
    (interest,) = db.session.scalars(select(Interest)).all()
    assert answer(signed_in(app, partner), interest, "Sí, buscamos.").status_code == 302
