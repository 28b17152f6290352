"""Personal API tokens: created on the account's pages (shown once, stored hashed), revoked
there, and what a token reads: its authority's items in every state and its matches, with the
other side's contacts only once both have accepted."""

import hashlib
import re

import pytest
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.api.models import ApiToken
from exchange.api.services import MAX_ACTIVE_TOKENS, create_token
from exchange.auth.models import User
from exchange.extensions import db
from exchange.matching import services as matching
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_submission,
)

API = "/api/v1"
TOKEN = re.compile(r'id="token-value" type="text" value="(exch_[^"]+)"')


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def call(client, path, token=None, status=200):
    response = client.get(path, headers=bearer(token) if token else {})
    assert response.status_code == status, (path, response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/json"
    return response.get_json()


def new_token(user, name="script") -> str:
    _token, secret = create_token(user, name)
    db.session.commit()
    return secret


@pytest.fixture
def tacna(reference):
    return make_member(make_authority(name="Gobierno Regional de Tacna"), name="Ana Tacna")


@pytest.fixture
def arica(reference):
    return make_member(
        make_authority(name="Gobierno Regional de Arica", country="CL", subdivision=None),
        name="Bruno Arica",
    )


# The pages ----------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_hashed(app, tacna):
    client = app.test_client()
    log_in(client, tacna)
    page = client.get("/account")
    assert "/account/api-tokens" in page.get_data(as_text=True)
    assert client.get("/account/api-tokens").status_code == 200

    response = client.post(
        "/account/api-tokens",
        data={"name": "Export script", "csrf_token": csrf_token(client, "/account/api-tokens")},
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = TOKEN.search(response.get_data(as_text=True)).group(1)
    assert len(secret) > 40

    token = db.session.scalar(select(ApiToken))
    assert token.user_id == tacna.id
    assert token.name == "Export script"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert len(token.prefix) < 16
    # The token itself is nowhere in the database.
    for column in ApiToken.__table__.columns:
        assert getattr(token, column.key) != secret
    assert db.session.scalar(select(func.count()).where(ActivityEntry.action == "api_token.create"))

    # Never shown again: the list shows the prefix only.
    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in listing
    assert f"{token.prefix}…" in listing
    assert "Export script" in listing

    assert call(client, f"{API}/me", secret)["authority"]["name"] == "Gobierno Regional de Tacna"


def test_a_token_needs_a_name_and_a_csrf_token(app, tacna):
    client = app.test_client()
    log_in(client, tacna)
    token = csrf_token(client, "/account/api-tokens")
    response = client.post("/account/api-tokens", data={"name": "  ", "csrf_token": token})
    assert response.status_code == 422
    assert "Give the token a name." in response.get_data(as_text=True)
    response = client.post("/account/api-tokens", data={"name": "x" * 101, "csrf_token": token})
    assert response.status_code == 422
    response = client.post("/account/api-tokens", data={"name": "No CSRF"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_person_has_at_most_so_many_active_tokens(tacna):
    for number in range(MAX_ACTIVE_TOKENS):
        create_token(tacna, f"token {number}")
    from exchange.errors import ActionError

    with pytest.raises(ActionError):
        create_token(tacna, "one too many")


def test_revoking_a_token_makes_it_answer_401(app, tacna):
    secret = new_token(tacna)
    call(app.test_client(), f"{API}/me", secret)
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is not None

    client = app.test_client()
    log_in(client, tacna)
    response = client.post(
        f"/account/api-tokens/{token.id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/api-tokens")},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None

    body = call(app.test_client(), f"{API}/me", secret, status=401)
    assert body["code"] == 401
    assert body["message"]
    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert "Revoked on" in listing


def test_nobody_else_can_revoke_a_token(app, tacna, arica):
    secret = new_token(tacna, "Script of Tacna")
    token = db.session.scalar(select(ApiToken))
    client = app.test_client()
    log_in(client, arica)
    response = client.post(
        f"/account/api-tokens/{token.id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/api-tokens")},
    )
    assert response.status_code == 404
    assert "Script of Tacna" not in client.get("/account/api-tokens").get_data(as_text=True)
    call(app.test_client(), f"{API}/me", secret)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer exch_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "exch_without-a-scheme",
    ],
)
def test_an_unknown_token_answers_401_in_json(client, tacna, authorization):
    new_token(tacna)
    response = client.get(f"{API}/me/items", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == 401


def test_a_session_cookie_does_not_open_the_api(app, tacna):
    client = app.test_client()
    log_in(client, tacna)
    call(client, f"{API}/me", status=401)


def test_a_suspended_persons_token_stops_working(client, tacna):
    secret = new_token(tacna)
    call(client, f"{API}/me", secret)
    db.session.get(User, tacna.id).active = False
    db.session.commit()
    call(client, f"{API}/me", secret, status=401)


# What a token reads -------------------------------------------------------------------------------


def test_a_token_reads_its_authoritys_items_in_every_state(client, tacna, arica):
    states = ("draft", "submitted", "in_review", "changes_requested", "published", "rejected",
              "archived")  # fmt: skip
    for state in states:
        make_submission(tacna, state=state, title=f"Tacna {state}")
    make_submission(tacna, kind="idea", state="draft", title="Tacna idea")
    arica_draft = make_submission(arica, title="Borrador de Arica")
    secret = new_token(tacna)

    items = call(client, f"{API}/me/items?limit=100", secret)["items"]
    assert {item["title"] for item in items} == {*(f"Tacna {s}" for s in states), "Tacna idea"}
    assert {item["state"] for item in items} >= set(states)
    draft = next(item for item in items if item["state"] == "draft" and item["kind"] == "practice")
    assert draft["working"]["title"] == "Tacna draft"
    assert draft["published"] is None
    changed = next(item for item in items if item["state"] == "changes_requested")
    assert changed["reviews"][0]["comment"] == "Añadan cifras."

    only = call(client, f"{API}/me/items?state=draft&kind=idea", secret)["items"]
    assert [item["title"] for item in only] == ["Tacna idea"]
    own = call(client, f"{API}/me/items/{draft['id']}", secret)
    assert own["working"]["problem"]

    # Walking the pages gives every item once.
    seen, path = [], f"{API}/me/items?limit=3"
    while path:
        body = call(client, path, secret)
        seen += [item["id"] for item in body["items"]]
        path = body["next"]
    assert len(seen) == len(set(seen)) == len(states) + 1

    # Another authority's draft does not exist for this token.
    call(client, f"{API}/me/items/{arica_draft.id}", secret, status=404)
    call(client, f"{API}/practices/{arica_draft.id}", secret, status=404)


def test_another_authoritys_token_never_sees_its_drafts(client, tacna, arica):
    draft = make_submission(tacna, title="Secreto de Tacna")
    secret = new_token(arica)
    items = call(client, f"{API}/me/items", secret)["items"]
    assert "Secreto de Tacna" not in str(items)
    call(client, f"{API}/me/items/{draft.id}", secret, status=404)
    call(client, f"{API}/practices/{draft.id}", secret, status=404)


def test_matches_show_the_contacts_only_once_both_have_accepted(client, tacna, arica, reference):
    coordinator = make_coordinator()
    valencia = make_authority(name="Valencia", country="ES", subdivision="ES-V")
    valencia_member = make_member(valencia, name="Carla Valencia", email="carla@valencia.example")
    lisboa = make_authority(name="Lisboa", country="PT", subdivision=None)
    make_member(lisboa, name="Diogo Lisboa", email="diogo@lisboa.example")
    connected = make_match(tacna.authority, valencia, coordinator=coordinator, state="connected",
                           note="Agua y turismo")  # fmt: skip
    waiting = make_match(tacna.authority, lisboa, coordinator=coordinator)
    others = make_match(arica.authority, valencia, coordinator=coordinator)
    secret = new_token(tacna)

    matches = {m["id"]: m for m in call(client, f"{API}/me/matches", secret)["items"]}
    assert set(matches) == {connected.id, waiting.id}

    seen = matches[connected.id]
    assert seen["status"] == "connected"
    assert seen["counterpart"]["name"] == "Valencia"
    assert seen["contacts_visible"] is True
    assert {"name": "Carla Valencia", "email": "carla@valencia.example"} in seen["contacts"]
    assert seen["your_answer"] == seen["their_answer"] == "accepted"
    assert seen["note"] == "Agua y turismo"

    pending = matches[waiting.id]
    assert pending["contacts_visible"] is False
    assert pending["contacts"] is None
    assert pending["your_answer"] == "pending"
    assert "diogo" not in str(call(client, f"{API}/me/matches/{waiting.id}", secret))

    assert call(client, f"{API}/me/matches?status=awaiting", secret)["items"][0]["id"] == waiting.id
    call(client, f"{API}/me/matches/{others.id}", secret, status=404)

    # The same rule as the match's page.
    assert matching.contacts_visible(valencia_member, connected)
    assert not matching.contacts_visible(tacna, waiting)


def test_a_coordinators_token_has_no_items(client):
    secret = new_token(make_coordinator())
    assert call(client, f"{API}/me", secret)["authority"] is None
    body = call(client, f"{API}/me/items", secret, status=403)
    assert body["code"] == 403
    assert "no authority" in body["message"]
    call(client, f"{API}/me/matches", secret, status=403)


def test_a_tokens_requests_are_limited_per_token(app, client, tacna, arica, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_RATE_LIMIT", "2 per minute")
    mine, theirs = new_token(tacna), new_token(arica)
    call(client, f"{API}/me", mine)
    call(client, f"{API}/practices", mine)
    body = call(client, f"{API}/me", mine, status=429)
    assert body["code"] == 429
    call(client, f"{API}/me", theirs)  # another token, another budget
    call(client, f"{API}/practices")  # and without a token, the address's own
