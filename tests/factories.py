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
