"""The public API (/api/v1/): what it lists, its filters and search, its pages, its errors, its
rate limit, its OpenAPI document and docs, and that nothing private ever leaves it."""

import json
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select, update

from exchange.api import queries
from exchange.extensions import db
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.submissions import services as submission_services
from exchange.submissions.models import Submission
from tests.factories import (
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    practice_content,
)

API = "/api/v1"


def get_json(client, path, status=200, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code == status, (path, response.status_code, response.get_data()[:500])
    assert response.mimetype == "application/json", (path, response.mimetype)
    return response.get_json()


def walk(client, path, **kwargs) -> tuple[list[dict], int]:
    """Every item of a list, following `next`; and how many pages that took."""
    items, pages = [], 0
    while path:
        body = get_json(client, path, **kwargs)
        items += body["items"]
        pages += 1
        assert (body["next"] is None) == (body["next_cursor"] is None)
        path = body["next"]
        assert pages < 200, "the pages never end"
    return items, pages


def titles(body) -> set[str]:
    return {item["title"] for item in body["items"]}


def _theme(code):
    return db.session.scalar(select(Theme).where(Theme.code == code))


@pytest.fixture
def tacna(reference):
    return make_member(make_authority(name="Gobierno Regional de Tacna"))


@pytest.fixture
def valencia(reference):
    return make_member(
        make_authority(name="Generalitat Valenciana", country="ES", subdivision="ES-V")
    )


# What is listed ----------------------------------------------------------------------------------


def test_practices_lists_published_practices_only(client, tacna):
    make_submission(tacna, state="published", title="Publicada")
    for state in ("draft", "submitted", "in_review", "changes_requested", "rejected", "archived"):
        make_submission(tacna, state=state, title=f"Práctica {state}")
    make_submission(tacna, kind="idea", state="published", title="Una idea publicada")

    body = get_json(client, f"{API}/practices")
    assert titles(body) == {"Publicada"}
    item = body["items"][0]
    assert item["kind"] == "practice"
    assert item["authority"]["name"] == "Gobierno Regional de Tacna"
    assert item["authority"]["country"] == "PE"
    assert item["authority"]["side"] == "LAC"
    assert [theme["code"] for theme in item["themes"]] == ["water-management"]
    assert item["themes"][0]["label"]["es"]
    assert [objective["code"] for objective in item["objectives"]] == ["INNOVACT-1"]
    assert item["url"].endswith(f"/practices/{item['id']}")
    assert item["api_url"].endswith(f"{API}/practices/{item['id']}")
    assert body["next"] is None
    assert body["next_cursor"] is None
    assert body["limit"] == 20


def test_ideas_lists_ideas_open_to_partners_only(client, tacna):
    make_submission(tacna, kind="idea", state="published", title="Abierta")
    make_submission(tacna, kind="idea", state="closed", title="Cerrada")
    make_submission(tacna, kind="idea", state="draft", title="Borrador")
    expired = make_submission(tacna, kind="idea", state="published", title="Vencida")
    # Its date passed and the nightly closing has not run yet: no longer open all the same.
    db.session.execute(
        update(Submission)
        .where(Submission.id == expired.id)
        .values(open_until=date.today() - timedelta(days=1))
    )
    db.session.commit()

    body = get_json(client, f"{API}/ideas")
    assert titles(body) == {"Abierta"}
    idea = body["items"][0]
    assert idea["border_area"]["code"] == "PE-CL"
    assert idea["open_until"] == (date.today() + timedelta(days=90)).isoformat()
    get_json(client, f"{API}/ideas/{expired.id}", status=404)


def test_an_item_page_shows_the_published_revision_not_the_one_being_edited(client, tacna):
    practice = make_submission(tacna, state="published", title="Texto publicado")
    submission_services.save_content(
        tacna, practice, practice_content(title="Texto en edición", summary="Nuevo resumen")
    )
    db.session.commit()

    detail = get_json(client, f"{API}/practices/{practice.id}")
    assert detail["title"] == "Texto publicado"
    assert detail["problem"] == "Escasez de agua para la agricultura familiar."
    assert "Texto en edición" not in json.dumps(get_json(client, f"{API}/practices"))


def test_item_details(client, tacna):
    practice = make_submission(tacna, state="published")
    idea = make_submission(tacna, kind="idea", state="published")
    draft = make_submission(tacna, state="draft")

    detail = get_json(client, f"{API}/practices/{practice.id}")
    assert detail["id"] == practice.id
    assert detail["results"].startswith("Ahorro del 40 %")
    assert detail["lessons"]
    assert detail["language"] == "es"
    assert detail["first_published_at"]

    detail = get_json(client, f"{API}/ideas/{idea.id}")
    assert detail["budget_range"] == "100k_500k"
    assert detail["partner_sides"] == ["EU"]
    assert detail["value_chain"] == "Turismo de aventura andino"

    # A draft, an idea asked for as a practice, and nothing at all: 404, in JSON.
    for path in (
        f"{API}/practices/{draft.id}",
        f"{API}/practices/{idea.id}",
        f"{API}/ideas/{practice.id}",
        f"{API}/practices/999999",
        f"{API}/practices/9223372036854775808",  # more than the database holds
    ):
        body = get_json(client, path, status=404)
        assert body["code"] == 404
        assert body["status"] == "Not Found"
        assert body["message"]


# Filters ------------------------------------------------------------------------------------------


def test_filters_on_practices(client, tacna, valencia):
    tourism = _theme("tourism")
    make_submission(tacna, state="published", title="Agua en Tacna")
    make_submission(
        tacna, state="published", title="Turismo en Tacna", theme_ids=[tourism.id], objective_ids=[]
    )
    make_submission(valencia, state="published", title="Água em Valência", language="pt")

    def listed(query):
        return titles(get_json(client, f"{API}/practices?{query}"))

    assert listed("theme=water-management") == {"Agua en Tacna", "Água em Valência"}
    assert listed("theme=tourism") == {"Turismo en Tacna"}
    assert listed("theme=tourism&theme=water-management") == {
        "Agua en Tacna",
        "Turismo en Tacna",
        "Água em Valência",
    }
    assert listed("objective=INNOVACT-1") == {"Agua en Tacna", "Água em Valência"}
    assert listed("programme=INNOVACT") == {"Agua en Tacna", "Água em Valência"}
    assert listed("programme=IURC") == set()
    assert listed("country=ES") == {"Água em Valência"}
    assert listed("side=LAC") == {"Agua en Tacna", "Turismo en Tacna"}
    assert listed("language=pt") == {"Água em Valência"}
    assert listed(f"authority={valencia.authority_id}") == {"Água em Valência"}
    # Filters combine.
    assert listed("side=LAC&theme=water-management") == {"Agua en Tacna"}
    assert listed("side=EU&theme=tourism") == set()


def test_filters_on_ideas_by_border_area(client, tacna):
    make_submission(tacna, kind="idea", state="published", title="En la frontera")
    elsewhere = db.session.scalar(select(BorderArea).where(BorderArea.code == "MX-GT"))
    make_submission(
        tacna, kind="idea", state="published", title="En otra", border_area_id=elsewhere.id
    )
    # The ideas set in the area, and the items of authorities of the area (as the catalogue).
    assert titles(get_json(client, f"{API}/ideas?border_area=PE-CL")) == {"En la frontera"}
    assert titles(get_json(client, f"{API}/ideas?border_area=MX-GT")) == {"En otra"}
    tacna.authority.border_areas.append(
        db.session.scalar(select(BorderArea).where(BorderArea.code == "CO-EC"))
    )
    db.session.commit()
    assert len(get_json(client, f"{API}/ideas?border_area=CO-EC")["items"]) == 2


def test_filters_on_authorities(client, tacna, valencia):
    make_authority(name="Municipalidad pendiente", verified=False)
    water = _theme("water-management")
    tacna.authority.themes.append(water)
    tacna.authority.programmes.append(
        db.session.scalar(select(Programme).where(Programme.code == "INNOVACT"))
    )
    tacna.authority.border_areas.append(
        db.session.scalar(select(BorderArea).where(BorderArea.code == "PE-CL"))
    )
    db.session.commit()

    def names(query=""):
        return {a["name"] for a in get_json(client, f"{API}/authorities?{query}")["items"]}

    assert names() == {"Gobierno Regional de Tacna", "Generalitat Valenciana"}
    assert names("side=EU") == {"Generalitat Valenciana"}
    assert names("country=PE") == {"Gobierno Regional de Tacna"}
    assert names("kind=region") == {"Gobierno Regional de Tacna", "Generalitat Valenciana"}
    assert names("kind=municipality") == set()
    assert names("theme=water-management") == {"Gobierno Regional de Tacna"}
    assert names("programme=INNOVACT") == {"Gobierno Regional de Tacna"}
    assert names("border_area=PE-CL") == {"Gobierno Regional de Tacna"}

    detail = get_json(client, f"{API}/authorities/{tacna.authority_id}")
    assert detail["themes"][0]["code"] == "water-management"
    assert detail["programmes"][0]["code"] == "INNOVACT"
    assert detail["languages"] == ["es"]
    assert detail["practices_url"].endswith(f"/practices?authority={tacna.authority_id}")


def test_reference_data(client, reference):
    programmes, _ = walk(client, f"{API}/programmes")
    assert {p["code"] for p in programmes} >= {"IURC", "INNOV-AL", "INNOVACT"} - {"INNOV-AL"}
    innovact = next(p for p in programmes if p["code"] == "INNOVACT")
    assert set(innovact["name"]) == {"en", "es", "pt"}
    assert "INNOVACT-1" in {o["code"] for o in innovact["objectives"]}
    assert get_json(client, f"{API}/programmes/{innovact['id']}")["code"] == "INNOVACT"

    objectives = get_json(client, f"{API}/objectives?programme=INNOVACT&limit=100")["items"]
    assert objectives
    assert all(o["programme"]["code"] == "INNOVACT" for o in objectives)
    objective = db.session.scalar(select(Objective).where(Objective.code == "INNOVACT-1"))
    assert get_json(client, f"{API}/objectives/{objective.id}")["text"]["en"] == objective.text_en

    themes, _ = walk(client, f"{API}/themes?limit=7")
    assert len(themes) == db.session.query(Theme).count()
    water = next(t for t in themes if t["code"] == "water-management")
    assert water["group"]["code"]
    grouped = get_json(client, f"{API}/themes?group={water['group']['code']}&limit=100")
    assert "water-management" in {t["code"] for t in grouped["items"]}
    assert get_json(client, f"{API}/themes/{water['id']}")["label"]["en"] == water["label"]["en"]
    get_json(client, f"{API}/themes/999999", status=404)


# Search -------------------------------------------------------------------------------------------


def test_search_uses_the_catalogues_full_text_index(client, tacna):
    make_submission(tacna, state="published", title="Riego tecnificado en zonas áridas")
    make_submission(
        tacna,
        state="published",
        title="Ruta del pisco",
        summary="Turismo gastronómico.",
        problem="Pocos visitantes.",
        actions="Señalización.",
        results="Más visitas.",
        transferability="Alta.",
        lessons="Trabajar con productores.",
        theme_ids=[_theme("tourism").id],
    )

    def found(query):
        return titles(get_json(client, f"{API}/practices?q={query}"))

    assert found("riego") == {"Riego tecnificado en zonas áridas"}
    # Another form of the word, and words in English matched through the theme's labels.
    assert found("riegos") == {"Riego tecnificado en zonas áridas"}
    assert found("water management") == {"Riego tecnificado en zonas áridas"}
    assert found("pisco") == {"Ruta del pisco"}
    assert found("pisco riego") == set()  # every word must match
    # Search and filters together.
    assert found("riego&theme=tourism") == set()
    # Only stop words: no words to search for, everything is listed.
    assert len(found("de la")) == 2


# Pages --------------------------------------------------------------------------------------------


def test_walking_the_pages_gives_every_item_once(client, tacna):
    made = [make_submission(tacna, state="published", title=f"Práctica {n}").id for n in range(7)]
    items, pages = walk(client, f"{API}/practices?limit=2")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == 7
    assert set(ids) == set(made)
    assert pages == 4
    # Newest first.
    published = [item["published_at"] for item in items]
    assert published == sorted(published, reverse=True)
    # The query is kept from page to page.
    items, _ = walk(client, f"{API}/practices?limit=2&theme=water-management")
    assert len(items) == 7
    first = get_json(client, f"{API}/practices?limit=3&theme=water-management")
    assert parse_qs(urlsplit(first["next"]).query)["theme"] == ["water-management"]


def test_pages_are_stable_while_items_are_published(client, tacna):
    made = [make_submission(tacna, state="published", title=f"Antes {n}").id for n in range(5)]
    first = get_json(client, f"{API}/practices?limit=2")
    seen = [item["id"] for item in first["items"]]
    # Published while someone is walking the list: it goes to the top, before the cursor.
    make_submission(tacna, state="published", title="Durante")
    rest, _ = walk(client, first["next"])
    seen += [item["id"] for item in rest]
    assert len(seen) == len(set(seen)), "an item was listed twice"
    assert set(seen) == set(made), "an item was skipped"


def test_walking_the_authorities_gives_every_one_once(client, reference):
    for n in range(5):
        make_authority(name=f"Autoridad {n}")
    items, pages = walk(client, f"{API}/authorities?limit=2")
    assert sorted(a["name"] for a in items) == [f"Autoridad {n}" for n in range(5)]
    assert pages == 3


def test_a_cursor_must_be_one_this_list_made(client, tacna):
    for n in range(3):
        make_submission(tacna, state="published", title=f"Práctica {n}")
    cursor = get_json(client, f"{API}/practices?limit=1")["next_cursor"]
    assert cursor
    for path in (
        f"{API}/practices?cursor={cursor[:-2]}xx",  # tampered with
        f"{API}/practices?cursor=not-a-cursor",
        f"{API}/authorities?cursor={cursor}",  # another list's
        f"{API}/ideas?cursor={cursor}",
    ):
        body = get_json(client, path, status=400)
        assert set(body["errors"]) == {"cursor"}, path


# Bad requests -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
        ("side=NORTH", "side"),
        ("language=fr", "language"),
        ("country=US", "country"),
        ("theme=no-such-theme", "theme"),
        ("programme=NOPE", "programme"),
        ("objective=NOPE-1", "objective"),
        ("authority=abc", "authority"),
        ("themes=water-management", "themes"),  # a typo of the parameter's name
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, reference, query, parameter):
    body = get_json(client, f"{API}/practices?{query}", status=400)
    assert body["code"] == 400
    assert body["status"] == "Bad Request"
    assert body["message"]
    assert parameter in body["errors"], body


def test_an_unknown_border_area_on_ideas_is_named(client, reference):
    body = get_json(client, f"{API}/ideas?border_area=XX-YY&border_area=PE-CL", status=400)
    assert body["errors"] == {"border_area": ["Unknown code: XX-YY"]}


def test_every_failure_answers_json(app, client, reference, monkeypatch):
    body = get_json(client, f"{API}/no-such-thing", status=404)
    assert body["code"] == 404
    body = get_json(client, f"{API}/practices/not-a-number", status=404)
    assert body["code"] == 404

    response = client.post(f"{API}/practices")  # no CSRF token either: 405, not a CSRF page
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["status"] == "Method Not Allowed"
    assert client.delete(f"{API}/themes").status_code == 405

    body = get_json(client, f"{API}/me", status=401)
    assert body["code"] == 401

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(queries, "public_items", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    body = get_json(client, f"{API}/practices", status=500)
    assert body == {
        "code": 500,
        "status": "Internal Server Error",
        "message": body["message"],
    }
    assert "database" not in body["message"]

    # The rest of the site keeps its HTML pages.
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_rate_limit_answers_429_in_json(app, client, reference, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    for _ in range(3):
        get_json(client, f"{API}/themes")
    response = client.get(f"{API}/programmes")  # every endpoint counts against one budget
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.get_json()["code"] == 429
    assert int(response.headers["Retry-After"]) > 0
    # Another client address has its own budget.
    other = get_json(client, f"{API}/themes", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other["items"]
    # The site's pages are not counted.
    assert client.get("/catalogue/").status_code == 200


# OpenAPI and docs ---------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_complete(app, client, reference):
    document = get_json(client, f"{API}/openapi.json")
    validate(document)  # OpenAPI 3 schema and references
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    rules = {
        re.sub(r"<int\([^)]*\):(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert set(paths) == rules
    for path, item in paths.items():
        operation = item["get"]
        assert set(item) - {"parameters"} == {"get"}, path
        assert "200" in operation["responses"], path
        assert operation["summary"], path
        assert "default" in operation["responses"], path
    for path in ("/api/v1/me", "/api/v1/me/items", "/api/v1/me/matches"):
        assert paths[path]["get"]["security"] == [{"bearerAuth": []}]
        assert "401" in paths[path]["get"]["responses"]
    assert "security" not in paths["/api/v1/practices"]["get"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    parameters = {p["name"] for p in paths["/api/v1/practices"]["get"]["parameters"]}
    assert parameters == {
        "q", "theme", "programme", "objective", "country", "side", "language", "authority",
        "limit", "cursor",
    }  # fmt: skip


def test_the_docs_page_is_served_by_the_app_itself(client, reference):
    response = client.get("/developers/api")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for path in ("/api/v1/practices", "/api/v1/ideas/{submission_id}", "/api/v1/me/matches"):
        assert path in page
    assert 'id="schema-PracticeSummary"' in page
    assert "next_cursor" in page
    # Nothing is loaded from another site: the docs work offline.
    for source in re.findall(r'(?:src|href)="([^"]+)"', page):
        host = urlsplit(source).netloc
        assert host in ("", "localhost"), source
    assert client.get(f"{API}/").get_json()["docs"].endswith("/developers/api")
    # The index without its slash: the same JSON, not a redirect (whose body would be HTML).
    assert get_json(client, API)["openapi"].endswith(f"{API}/openapi.json")


# Never a private field ----------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
MARKERS = (
    "MARKER-PERSON",  # names of people
    "marker-mail",  # e-mail addresses
    "+51 952 000 111",  # a phone number, in a draft
    "MARKER-DRAFT",
    "MARKER-SUBMITTED",
    "MARKER-IN-REVIEW",
    "MARKER-CHANGES",
    "MARKER-REJECTED-ITEM",
    "MARKER-ARCHIVED",
    "MARKER-CLOSED-IDEA",
    "MARKER-WORKING-REVISION",
    "MARKER-REVIEW-COMMENT",
    "MARKER-PENDING-AUTHORITY",
    "MARKER-REJECTED-AUTHORITY",
    "MARKER-REJECTION-REASON",
    "MARKER-MATCH-NOTE",
    "MARKER-INTEREST",
    "MARKER-INVITATION",
)
PRIVATE_KEYS = {"email", "emails", "members", "contacts", "password_hash", "match_capacity",
                "status_reason", "note", "reviews", "state", "token"}  # fmt: skip


def _private_world():
    """Public data, and next to it every kind of private data, marked."""
    from exchange.authorities.services import reject_authority
    from exchange.matching import services as matching
    from tests.factories import make_match

    coordinator = make_coordinator(name="MARKER-PERSON coordinator", email="marker-mail1@x.org")
    public = make_authority(name="Autoridad pública")
    member = make_member(public, name="MARKER-PERSON one", email="marker-mail2@x.org")
    partner = make_authority(name="Socio europeo", country="ES", subdivision="ES-V")
    make_member(partner, name="MARKER-PERSON two", email="marker-mail3@x.org")

    published = make_submission(member, state="published", reviewer=coordinator)
    make_submission(member, kind="idea", state="published", reviewer=coordinator)
    make_submission(
        member, title="MARKER-DRAFT", summary="Llamar al +51 952 000 111", reviewer=coordinator
    )
    for state, marker in (
        ("submitted", "MARKER-SUBMITTED"),
        ("in_review", "MARKER-IN-REVIEW"),
        ("rejected", "MARKER-REJECTED-ITEM"),
        ("archived", "MARKER-ARCHIVED"),
    ):
        make_submission(member, state=state, title=marker, reviewer=coordinator)
    changed = make_submission(member, state="in_review", title="MARKER-CHANGES")
    submission_services.request_changes(coordinator, changed, "MARKER-REVIEW-COMMENT")
    make_submission(
        member, kind="idea", state="closed", title="MARKER-CLOSED-IDEA", reviewer=coordinator
    )
    # A new revision of the published practice, under review: the public sees the old one.
    submission_services.save_content(
        member, published, practice_content(title="MARKER-WORKING-REVISION")
    )
    submission_services.submit(member, published)

    pending = make_authority(name="MARKER-PENDING-AUTHORITY", verified=False)
    pending_member = make_member(pending, name="MARKER-PERSON pending", email="marker-mail4@x.org")
    make_submission(pending_member, title="MARKER-DRAFT of a pending authority")
    rejected = make_authority(name="MARKER-REJECTED-AUTHORITY", verified=False)
    reject_authority(coordinator, rejected, "MARKER-REJECTION-REASON")

    other = make_submission(
        make_member(partner), state="published", title="Práctica del socio", reviewer=coordinator
    )
    submission_services.express_interest(member, other, "MARKER-INTEREST")
    idea = make_submission(member, kind="idea", title="MARKER-DRAFT idea", reviewer=coordinator)
    submission_services.invite_co_owner(member, idea, partner.id, "MARKER-INVITATION")
    db.session.commit()
    match = make_match(public, partner, coordinator=coordinator, note="MARKER-MATCH-NOTE",
                       state="connected")  # fmt: skip
    assert matching.contacts_visible(member, match)
    db.session.commit()


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def test_no_private_field_ever_leaves_the_public_api(app, client, reference):
    _private_world()
    bodies: dict[str, str] = {}

    def read(path, status=200):
        response = client.get(path)
        assert response.status_code == status, (path, response.status_code)
        assert response.mimetype == "application/json"
        bodies[path] = response.get_data(as_text=True)
        return response.get_json()

    index = read(f"{API}/")
    lists = [url for name, url in index["resources"].items() if name != "me"]
    detail_paths = set()
    for url in lists:
        path = url
        while path:
            body = read(path)
            detail_paths.update(item["api_url"] for item in body["items"] if "api_url" in item)
            path = body["next"]
    for path in sorted(detail_paths):
        body = read(path)
        for url in (body.get("practices_url"), body.get("ideas_url")):
            if url:
                read(url)
    read(f"{API}/openapi.json")
    assert len(detail_paths) > 20  # items, authorities and the reference data were all read

    # Every private item and authority is hidden behind a 404 too.
    hidden = 0
    for submission in db.session.scalars(select(Submission)):
        if not submission.is_public:
            read(f"{API}/{submission.kind}s/{submission.id}", status=404)
            hidden += 1
    assert hidden >= 8
    from exchange.authorities.models import Authority

    for authority in db.session.scalars(select(Authority).where(Authority.status != "verified")):
        read(f"{API}/authorities/{authority.id}", status=404)

    public = [(path, body) for path, body in bodies.items() if not path.endswith("openapi.json")]
    for path, body in bodies.items():
        for marker in MARKERS:
            assert marker not in body, f"{marker} in {path}"
    for path, body in public:
        assert not EMAIL.search(body), f"an e-mail address in {path}: {EMAIL.search(body)[0]}"
        leaked = _keys(json.loads(body)) & PRIVATE_KEYS
        assert not leaked, f"{leaked} in {path}"
    # Not vacuous: the public items are there.
    authority_pages = [json.loads(b) for path, b in public if path.endswith("/authorities")]
    names = {authority["name"] for page in authority_pages for authority in page["items"]}
    assert names == {"Autoridad pública", "Socio europeo"}
    assert any("Riego tecnificado" in json.loads(body).get("title", "") for _, body in public)
