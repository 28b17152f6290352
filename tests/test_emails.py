"""Every e-mail of the foundation, rendered in English, Spanish and Portuguese.

The expected texts are written out here, so that a change of wording or a lost translation shows
as a failing test rather than as an e-mail in the wrong language.
"""

import re
from datetime import UTC, date, datetime

import pytest

from exchange.authorities.services import request_to_join
from exchange.extensions import db
from exchange.matching import services
from exchange.notifications.kinds import all_kinds
from exchange.notifications.services import queue_notification, render_notification
from tests.factories import (
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_submission,
    make_user,
)

SUBJECTS = {
    "auth.confirm_email": {
        "en": "Confirm your e-mail address for Exchange",
        "es": "Confirme su dirección de correo electrónico en Exchange",
        "pt": "Confirme seu endereço de e-mail no Exchange",
    },
    "auth.reset_password": {
        "en": "Choose a new password for Exchange",
        "es": "Elija una nueva contraseña para Exchange",
        "pt": "Escolha uma nova senha para o Exchange",
    },
    "auth.confirm_email_change": {
        "en": "Confirm your new e-mail address for Exchange",
        "es": "Confirme su nueva dirección de correo electrónico en Exchange",
        "pt": "Confirme seu novo endereço de e-mail no Exchange",
    },
    "authorities.verified": {
        "en": "Gobierno Regional de Tacna is verified on Exchange",
        "es": "Autoridad verificada en Exchange: Gobierno Regional de Tacna",
        "pt": "Autoridade verificada no Exchange: Gobierno Regional de Tacna",
    },
    "authorities.rejected": {
        "en": "Action needed: Gobierno Regional de Tacna was not accepted",
        "es": "Acción necesaria: no se ha aceptado el registro de Gobierno Regional de Tacna",
        "pt": "Ação necessária: o cadastro de Gobierno Regional de Tacna não foi aceito",
    },
    "authorities.join_request": {
        "en": "Action needed: Ana Solicitante asks to join Gobierno Regional de Tacna",
        "es": "Acción necesaria: Ana Solicitante solicita unirse a Gobierno Regional de Tacna",
        "pt": "Ação necessária: Ana Solicitante pediu vínculo com Gobierno Regional de Tacna",
    },
    "authorities.join_approved": {
        "en": "You are now a member of Gobierno Regional de Tacna on Exchange",
        "es": "Ya es miembro de Gobierno Regional de Tacna en Exchange",
        "pt": "Seu vínculo com Gobierno Regional de Tacna no Exchange foi aprovado",
    },
    "authorities.join_rejected": {
        "en": "Your request to join Gobierno Regional de Tacna was declined",
        "es": "Se ha rechazado su solicitud para unirse a Gobierno Regional de Tacna",
        "pt": "Seu pedido de vínculo com Gobierno Regional de Tacna foi recusado",
    },
}
PRACTICE = "Riego tecnificado en zonas áridas de Tacna"
IDEA = "Ruta andina de turismo de aventura Tacna–Arica"
SUBJECTS.update(
    {
        "submissions.received": {
            "en": f"We received “{PRACTICE}” for review",
            "es": f"Hemos recibido “{PRACTICE}” para su revisión",
            "pt": f"Recebemos “{PRACTICE}” para revisão",
        },
        "submissions.changes_requested": {
            "en": f"Action needed: changes requested on “{PRACTICE}”",
            "es": f"Acción necesaria: se solicitan cambios en “{PRACTICE}”",
            "pt": f"Ação necessária: alterações solicitadas em “{PRACTICE}”",
        },
        "submissions.published": {
            "en": f"“{PRACTICE}” is published",
            "es": f"Se ha publicado “{PRACTICE}”",
            "pt": f"Publicação aprovada: “{PRACTICE}”",
        },
        "submissions.rejected": {
            "en": f"“{PRACTICE}” was not accepted",
            "es": f"No se ha aceptado “{PRACTICE}”",
            "pt": f"Publicação não aceita: “{PRACTICE}”",
        },
        "submissions.archived": {
            "en": f"“{PRACTICE}” was archived",
            "es": f"Se ha archivado “{PRACTICE}”",
            "pt": f"Conteúdo arquivado: “{PRACTICE}”",
        },
        "submissions.closed": {
            "en": f"The project idea “{IDEA}” is closed",
            "es": f"La idea de proyecto “{IDEA}” está cerrada",
            "pt": f"A ideia de projeto “{IDEA}” foi encerrada",
        },
        "submissions.co_owner_invited": {
            "en": f"Action needed: Gobierno Regional de Tacna invites you to co-own “{IDEA}”",
            "es": (
                "Acción necesaria: Gobierno Regional de Tacna le invita a ser cotitular de "
                f"“{IDEA}”"
            ),
            "pt": (
                "Ação necessária: Gobierno Regional de Tacna convida sua autoridade a ser "
                f"cotitular de “{IDEA}”"
            ),
        },
        "submissions.co_owner_answered": {
            "en": f"Gobierno Regional de Arica accepted to co-own “{IDEA}”",
            "es": f"Gobierno Regional de Arica ha aceptado la cotitularidad de “{IDEA}”",
            "pt": f"Gobierno Regional de Arica aceitou a cotitularidade de “{IDEA}”",
        },
        "submissions.interest_received": {
            "en": f"Action needed: Comune di Bologna is interested in “{PRACTICE}”",
            "es": f"Acción necesaria: Comune di Bologna se interesa por “{PRACTICE}”",
            "pt": f"Ação necessária: Comune di Bologna tem interesse em “{PRACTICE}”",
        },
        "submissions.interest_answered": {
            "en": f"Gobierno Regional de Tacna answered about “{PRACTICE}”",
            "es": f"Gobierno Regional de Tacna ha respondido sobre “{PRACTICE}”",
            "pt": f"Gobierno Regional de Tacna respondeu sobre “{PRACTICE}”",
        },
    }
)
SUBJECTS.update(
    {
        "matching.accepted": {
            "en": "Action needed: Comune di Bologna accepted the match and waits for your answer",
            "es": (
                "Acción necesaria: Comune di Bologna ha aceptado la conexión y espera su respuesta"
            ),
            "pt": "Ação necessária: Comune di Bologna aceitou a conexão e aguarda sua resposta",
        },
        "matching.closed": {
            "en": "The match with Comune di Bologna is closed",
            "es": "Se ha cerrado la conexión con Comune di Bologna",
            "pt": "A conexão com Comune di Bologna foi encerrada",
        },
        "matching.connected": {
            "en": "You are connected with Comune di Bologna: here are their contact details",
            "es": "Conexión establecida con Comune di Bologna: estos son sus datos de contacto",
            "pt": "Conexão estabelecida com Comune di Bologna: confira os dados de contato",
        },
        "matching.declined": {
            "en": "Comune di Bologna declined the match with Gobierno Regional de Tacna",
            "es": (
                "Comune di Bologna ha rechazado la propuesta "
                "de conexión con Gobierno Regional de Tacna"
            ),
            "pt": "Comune di Bologna recusou a proposta de conexão com Gobierno Regional de Tacna",
        },
        "matching.expired": {
            "en": "The match with Comune di Bologna has expired",
            "es": "La propuesta de conexión con Comune di Bologna ha caducado",
            "pt": "A proposta de conexão com Comune di Bologna expirou",
        },
        "matching.proposed": {
            "en": (
                "Action needed: a partner proposed for "
                "Gobierno Regional de Tacna: Comune di Bologna"
            ),
            "es": (
                "Acción necesaria: autoridad socia propuesta para "
                "Gobierno Regional de Tacna: Comune di Bologna"
            ),
            "pt": (
                "Ação necessária: autoridade parceira proposta para "
                "Gobierno Regional de Tacna: Comune di Bologna"
            ),
        },
        "matching.reminder": {
            "en": (
                "Reminder, action needed: answer the match with Comune di Bologna by Mar 15, 2030"
            ),
            "es": (
                "Recordatorio, acción necesaria: responda a la propuesta de conexión con "
                "Comune di Bologna a más tardar el 15 mar 2030"
            ),
            "pt": (
                "Lembrete, ação necessária: responda à proposta de conexão com "
                "Comune di Bologna até 15 de mar. de 2030"
            ),
        },
        "matching.stage_reminder": {
            "en": "Action needed: how far has your cooperation with Comune di Bologna gone?",
            "es": (
                "Acción necesaria: ¿hasta dónde ha llegado su cooperación con Comune di Bologna?"
            ),
            "pt": "Ação necessária: até onde chegou a cooperação com Comune di Bologna?",
        },
        "notifications.digest": {
            "en": "Your weekly digest: 1 new practice or idea in your themes",
            "es": "Su resumen semanal: 1 nueva práctica o idea en sus temas",
            "pt": "Seu resumo semanal: 1 nova prática ou ideia nos seus temas",
        },
        "notifications.idea_closing_soon": {
            "en": f"Reminder: “{IDEA}” closes to new partners on Mar 15, 2030",
            "es": f"Recordatorio: “{IDEA}” dejará de admitir nuevos socios el 15 mar 2030",
            "pt": f"Lembrete: “{IDEA}” deixará de aceitar novos parceiros em 15 de mar. de 2030",
        },
    }
)
GREETINGS = {"en": "Hello {name},", "es": "Hola, {name}:", "pt": "Olá, {name},"}
FOOTERS = {
    "en": "You receive this e-mail because of your account on Exchange.",
    "es": "Recibe este correo porque tiene una cuenta en Exchange.",
    "pt": "Este e-mail foi enviado por causa da sua conta no Exchange.",
}
LINK = re.compile(r"http://exchange\.test/[^\s\"<]+")


def test_every_registered_kind_is_covered_here():
    assert sorted(kind.name for kind in all_kinds()) == sorted(SUBJECTS)


def _submission_payload(kind: str, authority, recipient) -> tuple:
    """The item, taken through the real services to where `kind` is sent, and its payload."""
    from exchange.submissions import services
    from exchange.submissions.models import Review

    name = kind.removeprefix("submissions.")
    coordinator = make_coordinator()
    if name in ("co_owner_invited", "co_owner_answered", "closed"):
        idea = make_submission(recipient, kind="idea")
        if name == "closed":
            services.submit(recipient, idea)
            services.publish(coordinator, idea)
            return recipient, {"submission_id": idea.id}
        partner = make_authority(
            name="Gobierno Regional de Arica", country="CL", subdivision="CL-AP"
        )
        co_owner = services.invite_co_owner(recipient, idea, partner.id, "¿Trabajamos juntos?")
        if name == "co_owner_answered":
            services.answer_co_owner_invitation(make_member(partner), co_owner, accept=True)
            return recipient, {"co_owner_id": co_owner.id}
        return make_member(partner, name="María José"), {"co_owner_id": co_owner.id}
    state = {
        "received": "submitted",
        "changes_requested": "changes_requested",
        "published": "published",
        "rejected": "rejected",
        "archived": "archived",
        "interest_received": "published",
        "interest_answered": "published",
    }[name]
    practice = make_submission(recipient, state=state, reviewer=coordinator)
    if name.startswith("interest"):
        bologna = make_authority(name="Comune di Bologna", country="IT", subdivision="IT-BO")
        visitor = make_member(bologna, name="Giulia Romano")
        interest = services.express_interest(visitor, practice, "<i>Nos</i> interesa & mucho")
        if name == "interest_answered":
            services.answer_interest(recipient, interest, "Con gusto: escríbannos.")
            db.session.commit()
            return visitor, {"interest_id": interest.id}
        return recipient, {"interest_id": interest.id}
    review = practice.reviews[-1] if practice.reviews else None
    payload = {"submission_id": practice.id}
    if review is not None and isinstance(review, Review):
        payload["review_id"] = review.id
    return recipient, payload


def _matching_payload(kind: str, authority, recipient) -> tuple:
    """A match with Bologna taken to where `kind` is sent; its payload, as the service writes it."""
    bologna = make_authority(name="Comune di Bologna", country="IT", subdivision="IT-BO")
    make_member(bologna, name="Giulia Romano")
    state = {
        "matching.connected": "connected",
        "matching.stage_reminder": "connected",
        "matching.declined": "declined",
    }.get(kind, "awaiting")
    # The side that acts first is Bologna: it declines, or accepts and waits for Tacna.
    match = make_match(bologna, authority, state=state)
    if kind == "matching.accepted":
        services.answer_match(bologna.members[0], match, accept=True)
    match.expires_at = datetime(2030, 3, 15, 12, tzinfo=UTC)
    payload = {"match_id": match.id}
    if kind == "matching.closed":
        payload["reason"] = "El proyecto no sigue adelante."
    db.session.commit()
    return recipient, payload


def _payload(kind: str, language: str) -> tuple:
    """A recipient in `language` and the payload the service would write for `kind`."""
    authority = make_authority(name="Gobierno Regional de Tacna")
    recipient = make_member(authority, name="María José", language=language)
    if kind.startswith("submissions."):
        person, payload = _submission_payload(kind, authority, recipient)
        db.session.commit()
        return person, payload
    if kind.startswith("matching."):
        return _matching_payload(kind, authority, recipient)
    if kind == "notifications.digest":
        bologna = make_authority(name="Comune di Bologna", country="IT", subdivision="IT-BO")
        practice = make_submission(make_member(bologna), state="published")
        db.session.commit()
        return recipient, {"submission_ids": [practice.id], "total": 1, "frequency": "weekly"}
    if kind == "notifications.idea_closing_soon":
        idea = make_submission(recipient, kind="idea", state="published")
        idea.open_until = date(2030, 3, 15)
        db.session.commit()
        return recipient, {"submission_id": idea.id, "open_until": idea.open_until.isoformat()}
    if kind.startswith("authorities.join"):
        requester = make_user(name="Ana Solicitante", email="ana@example.org")
        join_request = request_to_join(requester, authority.id, "Trabajo en cooperación.")
        join_request.reason = "<b>Bienvenida</b> & gracias"
        db.session.commit()
        if kind == "authorities.join_request":
            return recipient, {"join_request_id": join_request.id}
        return requester, {"join_request_id": join_request.id}
    if kind.startswith("authorities."):
        return recipient, {"authority_id": authority.id, "reason": "Falta el sitio <web> oficial"}
    if kind == "auth.confirm_email_change":
        return recipient, {"new_email": "nueva@example.org"}
    return recipient, {}


@pytest.mark.usefixtures("reference")
@pytest.mark.parametrize("language", ["en", "es", "pt"])
@pytest.mark.parametrize("kind", sorted(SUBJECTS))
def test_email_is_written_in_the_recipients_language(kind, language):
    recipient, payload = _payload(kind, language)
    recipient.language = language
    notification = queue_notification(recipient, kind, **payload)
    db.session.commit()

    rendered = render_notification(notification)

    expected_subject = SUBJECTS[kind][language]
    assert rendered.subject == expected_subject
    greeting = GREETINGS[language].format(name=recipient.name)
    assert greeting in rendered.text
    assert greeting in rendered.html
    assert FOOTERS[language] in rendered.text
    assert FOOTERS[language] in rendered.html
    assert f'<html lang="{language}">' in rendered.html
    for other in {"en", "es", "pt"} - {language}:
        assert FOOTERS[other] not in rendered.text
        assert SUBJECTS[kind][other] not in rendered.text

    # Links are absolute, and the same in both parts.
    text_links = LINK.findall(rendered.text)
    assert text_links, rendered.text
    html_links = {link.replace("&amp;", "&") for link in LINK.findall(rendered.html)}
    assert set(text_links) <= html_links


def test_user_text_is_escaped_in_html_and_kept_in_text():
    recipient, payload = _payload("authorities.rejected", "en")
    notification = queue_notification(recipient, "authorities.rejected", **payload)
    db.session.commit()
    rendered = render_notification(notification)
    assert "Falta el sitio <web> oficial" in rendered.text
    assert "Falta el sitio &lt;web&gt; oficial" in rendered.html
    assert "<web>" not in rendered.html


def test_join_answer_shows_the_members_message_escaped():
    requester, payload = _payload("authorities.join_approved", "es")
    notification = queue_notification(requester, "authorities.join_approved", **payload)
    db.session.commit()
    rendered = render_notification(notification)
    assert "<b>Bienvenida</b> & gracias" in rendered.text
    assert "&lt;b&gt;Bienvenida&lt;/b&gt; &amp; gracias" in rendered.html


def test_confirmation_link_opens_the_confirmation(client):
    recipient, _ = _payload("auth.confirm_email", "en")
    recipient.email_confirmed_at = None
    notification = queue_notification(recipient, "auth.confirm_email")
    db.session.commit()
    link = LINK.search(render_notification(notification).text).group(0)
    assert link.startswith("http://exchange.test/confirm/")
    response = client.get(link.removeprefix("http://exchange.test"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(recipient), recipient.id).email_confirmed
