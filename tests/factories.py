"""Objects for tests, made through the real services (as users and coordinators make them)."""

import itertools

from exchange.auth.models import Role
from exchange.auth.services import create_user
from exchange.authorities.models import AuthorityStatus
from exchange.authorities.services import create_authority
from exchange.extensions import db

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def make_authority(
    *, name=None, country="PE", subdivision="PE-TAC", kind="region", verified=True, actor=None
):
    number = next(_numbers)
    authority = create_authority(
        actor,
        name=name or f"Authority {number}",
        kind=kind,
        country_code=country,
        subdivision_code=subdivision,
        languages=["es"],
        status=AuthorityStatus.VERIFIED if verified else AuthorityStatus.PENDING,
    )
    db.session.commit()
    return authority


def make_user(
    *, role=Role.MEMBER, authority=None, email=None, language="en", confirmed=True, name=None
):
    number = next(_numbers)
    user = create_user(
        email=email or f"person{number}@example.org",
        name=name or f"Person {number}",
        password=PASSWORD,
        language=language,
        role=role,
        authority=authority,
        confirmed=confirmed,
    )
    db.session.commit()
    return user


def make_member(authority=None, **kwargs):
    return make_user(authority=authority or make_authority(), **kwargs)


def make_coordinator(**kwargs):
    return make_user(role=Role.COORDINATOR, **kwargs)


def make_admin(**kwargs):
    return make_user(role=Role.ADMIN, **kwargs)


def log_in(client, user, password=PASSWORD):
    from tests.conftest import csrf_token

    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": password,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


# Practices and ideas -----------------------------------------------------------------------------


def practice_content(**fields):
    """Everything a practice needs to go to review (themes need the `reference` fixture)."""
    from exchange.reference.models import Objective, Theme
    from exchange.submissions.services import Content

    theme = db.session.scalar(db.select(Theme).where(Theme.code == "water-management"))
    objective = db.session.scalar(db.select(Objective).where(Objective.code == "INNOVACT-1"))
    values = {
        "language": "es",
        "title": "Riego tecnificado en zonas áridas de Tacna",
        "summary": "Gestión del agua para la agricultura en el desierto.",
        "problem": "Escasez de agua para la agricultura familiar.",
        "actions": "Instalación de riego por goteo con apoyo técnico.",
        "results": "Ahorro del 40 % de agua y más ingresos para 300 familias.",
        "resources": "1,2 millones de soles en tres años.",
        "transferability": "Aplicable en cualquier zona árida con organizaciones de regantes.",
        "lessons": "La organización de los usuarios es tan importante como la técnica.",
        "theme_ids": [theme.id] if theme else [],
        "objective_ids": [objective.id] if objective else [],
    }
    values.update(fields)
    return Content(**values)


def idea_content(**fields):
    from datetime import date, timedelta

    from exchange.reference.models import BorderArea, Theme
    from exchange.submissions.services import Content

    theme = db.session.scalar(db.select(Theme).where(Theme.code == "tourism"))
    area = db.session.scalar(db.select(BorderArea).where(BorderArea.code == "PE-CL"))
    values = {
        "language": "es",
        "title": "Ruta andina de turismo de aventura Tacna–Arica",
        "summary": "Un circuito binacional de turismo de aventura.",
        "description": "Diseñar y promover una ruta compartida entre Tacna y Arica.",
        "value_chain": "Turismo de aventura andino",
        "expected_results": "Más visitantes y empleo local en ambos lados de la frontera.",
        "budget_range": "100k_500k",
        "open_until": date.today() + timedelta(days=90),
        "border_area_id": area.id if area else None,
        "partner_kinds": ["region"],
        "partner_sides": ["EU"],
        "theme_ids": [theme.id] if theme else [],
    }
    values.update(fields)
    return Content(**values)


def make_submission(author, *, kind="practice", state="draft", reviewer=None, **fields):
    """A practice or an idea by `author`, taken through the real services to `state`
    (draft, submitted, in_review, changes_requested, published, rejected, archived, closed)."""
    from exchange.submissions import services
    from exchange.workflow import Kind

    kind = Kind(kind)
    content = practice_content(**fields) if kind == Kind.PRACTICE else idea_content(**fields)
    submission = services.create_submission(author, kind, content)
    if state != "draft":
        reviewer = reviewer or make_coordinator()
        services.submit(author, submission)
        steps = {
            "submitted": [],
            "in_review": [lambda: services.start_review(reviewer, submission)],
            "changes_requested": [
                lambda: services.request_changes(reviewer, submission, "Añadan cifras.")
            ],
            "published": [lambda: services.publish(reviewer, submission)],
            "rejected": [lambda: services.reject(reviewer, submission, "Fuera del alcance.")],
            "archived": [
                lambda: services.publish(reviewer, submission),
                lambda: services.archive(reviewer, submission),
            ],
            "closed": [
                lambda: services.publish(reviewer, submission),
                lambda: services.close(reviewer, submission),
            ],
        }[state]
        for step in steps:
            step()
    db.session.commit()
    return submission


# Matching ----------------------------------------------------------------------------------------


def make_proposal(first, second, *, score=0.8, reasons=None, status="proposed", same_side=False):
    """A proposal between two authorities, as the engine would store it (without running it)."""
    from exchange.matching.models import Proposal, ProposalStatus

    a, b = sorted((first, second), key=lambda authority: authority.id)
    proposal = Proposal(
        authority_a_id=a.id,
        authority_b_id=b.id,
        status=ProposalStatus(status),
        score=score,
        score_ab=score,
        score_ba=score,
        reasons=reasons
        if reasons is not None
        else [
            {"signal": "themes", "score": 0.9, "weight": 0.3, "details": ["water-management"]},
            {"signal": "language", "score": 1.0, "weight": 0.1, "details": ["es"]},
        ],
        engine_version="test",
        weights={},
        same_side=same_side,
    )
    db.session.add(proposal)
    db.session.commit()
    return proposal


def make_match(first, second, *, coordinator=None, note="", state="awaiting", **kwargs):
    """A match a coordinator approved from a proposal, taken through the real services to
    `state` (awaiting, connected, declined)."""
    from exchange.matching import services

    coordinator = coordinator or make_coordinator()
    proposal = make_proposal(first, second, **kwargs)
    match = services.approve_proposal(coordinator, proposal, note=note)
    db.session.commit()
    if state in ("connected", "declined"):
        answering = [first, second] if state == "connected" else [first]
        for authority in answering:
            member = next((m for m in authority.members if m.email_confirmed), None)
            member = member or make_member(authority)
            services.answer_match(
                member, match, accept=state == "connected", reason="No es el momento."
            )
            db.session.commit()
    return match
