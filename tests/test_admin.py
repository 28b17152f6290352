"""The operator's pages: people and roles, and the reference data (programmes, objectives, themes,
border areas)."""

import re

import pytest
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.auth.models import Role, User
from exchange.extensions import db
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup
from tests.conftest import csrf_token
from tests.factories import (
    PASSWORD,
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_member,
)


@pytest.fixture
def admin(app):
    return make_admin(email="admin@example.org", name="Ada Admin")


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    log_in(client, admin)
    return client


def reload(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def entries(action: str) -> list[ActivityEntry]:
    return list(
        db.session.scalars(
            select(ActivityEntry).where(ActivityEntry.action == action).order_by(ActivityEntry.id)
        )
    )


def one(model, code: str):
    db.session.expire_all()
    return db.session.scalar(select(model).where(model.code == code))


def field_error(page: str, field: str) -> str:
    """The error shown beside a field, as text."""
    match = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/reference"), **data})


# People ----------------------------------------------------------------------------------------


def test_an_admin_gives_a_role_and_the_change_is_logged(admin_client, admin):
    member = make_member(email="future-coordinator@example.org")
    response = post(admin_client, f"/admin/users/{member.id}/role", role="coordinator")
    assert response.status_code == 302
    assert reload(User, member.id).role == Role.COORDINATOR
    (entry,) = entries("user.set_role")
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (admin.id, "user", member.id)
    assert (entry.from_state, entry.to_state) == ("member", "coordinator")
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "The role of future-coordinator@example.org is saved." in page

    # Giving the same role again changes nothing and logs nothing.
    post(admin_client, f"/admin/users/{member.id}/role", role="coordinator")
    assert len(entries("user.set_role")) == 1


def test_an_admin_cannot_take_the_admin_role_from_themselves(admin_client, admin):
    response = post(admin_client, f"/admin/users/{admin.id}/role", role="member")
    assert response.status_code == 302
    assert reload(User, admin.id).role == Role.ADMIN
    assert entries("user.set_role") == []
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "You cannot take the administrator role from yourself." in page
    # Still an admin: the pages still open.
    assert admin_client.get("/admin/users").status_code == 200


def test_another_admin_can_be_demoted(admin_client):
    other = make_admin(email="other-admin@example.org")
    post(admin_client, f"/admin/users/{other.id}/role", role="member")
    assert reload(User, other.id).role == Role.MEMBER


def test_an_unknown_role_is_refused(admin_client):
    member = make_member()
    response = post(admin_client, f"/admin/users/{member.id}/role", role="superuser")
    assert reload(User, member.id).role == Role.MEMBER
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "Choose a role from the list." in page


def test_suspending_and_restoring_an_account(app, admin_client, admin):
    member = make_member(email="suspect@example.org")
    member_client = app.test_client()
    log_in(member_client, member)

    response = post(admin_client, f"/admin/users/{member.id}/suspend")
    assert response.status_code == 302
    assert reload(User, member.id).active is False
    (entry,) = entries("user.suspend")
    assert (entry.actor_id, entry.subject_id) == (admin.id, member.id)
    assert "suspect@example.org is suspended." in admin_client.get("/admin/users").get_data(True)
    # Signed out at once, and cannot sign in again.
    assert member_client.get("/account").status_code == 302
    response = member_client.post(
        "/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(member_client, "/login"),
        },
    )
    assert response.status_code == 422

    post(admin_client, f"/admin/users/{member.id}/restore")
    assert reload(User, member.id).active is True
    (entry,) = entries("user.activate")
    assert entry.subject_id == member.id
    log_in(app.test_client(), member)


def test_an_admin_cannot_suspend_themselves(admin_client, admin):
    response = post(admin_client, f"/admin/users/{admin.id}/suspend")
    assert reload(User, admin.id).active is True
    assert entries("user.suspend") == []
    assert "You cannot suspend your own account." in admin_client.get(response.location).get_data(
        as_text=True
    )


def test_the_people_list_searches_names_and_addresses(admin_client):
    authority = make_authority(name="Municipalidad de Tacna")
    make_member(authority, email="lucia@tacna.example", name="Lucía Quispe")
    make_member(email="matias@arica.example", name="Matías Rojas")
    page = admin_client.get("/admin/users?q=QUISPE").get_data(as_text=True)
    assert "lucia@tacna.example" in page
    assert "Municipalidad de Tacna" in page
    assert "matias@arica.example" not in page
    assert "1 person" in page
    page = admin_client.get("/admin/users?q=arica").get_data(as_text=True)
    assert "matias@arica.example" in page
    assert "lucia@tacna.example" not in page


# Who may enter ---------------------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/",
    "/admin/users",
    "/admin/reference",
    "/admin/programmes/new",
    "/admin/themes/new",
    "/admin/border-areas/new",
]


@pytest.mark.parametrize("make_person", [make_coordinator, make_member])
def test_coordinators_and_members_get_403_on_admin_pages(app, reference, make_person):
    person = make_person()
    client = app.test_client()
    log_in(client, person)
    programme = one(Programme, "IURC")
    objective = one(Objective, "IURC-1")
    theme = one(Theme, "tourism")
    area = one(BorderArea, "PE-CL")
    pages = [
        *ADMIN_PAGES,
        f"/admin/programmes/{programme.id}",
        f"/admin/programmes/{programme.id}/objectives/new",
        f"/admin/objectives/{objective.id}",
        f"/admin/themes/{theme.id}",
        f"/admin/border-areas/{area.id}",
    ]
    for path in pages:
        assert client.get(path).status_code == 403, path

    token = csrf_token(client)
    victim = make_member()
    for path, data in [
        (f"/admin/users/{victim.id}/role", {"role": "admin"}),
        (f"/admin/users/{victim.id}/suspend", {}),
        (f"/admin/programmes/{programme.id}", {"code": "IURC", "name_en": "Hijacked"}),
        (f"/admin/themes/{theme.id}", {"code": "tourism", "label_en": "Hijacked"}),
    ]:
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert reload(User, victim.id).role == Role.MEMBER
    assert reload(User, victim.id).active is True
    assert reload(User, person.id).role == person.role
    assert one(Programme, "IURC").name_en == "International Urban and Regional Cooperation (IURC)"
    assert one(Theme, "tourism").label_en == "Tourism"
    assert "Administration" not in client.get("/").get_data(as_text=True)


def test_visitors_are_sent_to_log_in(client):
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login"), path


# Programmes and objectives ---------------------------------------------------------------------

NEW_PROGRAMME = {
    "code": "URBACT-LAC",
    "name_en": "URBACT for Latin America",
    "name_es": "URBACT para América Latina",
    "name_pt": "URBACT para a América Latina",
    "description_en": "City networks.",
    "description_es": "Redes de ciudades.",
    "description_pt": "Redes de cidades.",
    "website": "https://urbact.eu",
    "position": "9",
}


def test_an_admin_creates_a_programme(admin_client, admin, reference):
    before = count(Programme)
    response = post(admin_client, "/admin/programmes/new", **NEW_PROGRAMME)
    assert response.status_code == 302
    assert response.location == "/admin/reference"
    assert count(Programme) == before + 1
    programme = one(Programme, "URBACT-LAC")
    assert (programme.name_en, programme.name_es, programme.name_pt) == (
        "URBACT for Latin America",
        "URBACT para América Latina",
        "URBACT para a América Latina",
    )
    assert programme.description_pt == "Redes de cidades."
    assert programme.website == "https://urbact.eu"
    assert programme.position == 9
    (entry,) = entries("programme.create")
    assert (entry.actor_id, entry.subject_id, entry.data) == (
        admin.id,
        programme.id,
        {"code": "URBACT-LAC"},
    )
    page = admin_client.get("/admin/reference").get_data(as_text=True)
    assert "URBACT for Latin America" in page


def test_an_admin_edits_a_programme(admin_client, reference):
    programme = one(Programme, "IURC")
    page = admin_client.get(f"/admin/programmes/{programme.id}").get_data(as_text=True)
    assert 'value="International Urban and Regional Cooperation (IURC)"' in page

    response = post(
        admin_client,
        f"/admin/programmes/{programme.id}",
        code="IURC",
        name_en="IURC (renamed)",
        name_es=programme.name_es,
        name_pt=programme.name_pt,
        description_en="",
        description_es="",
        description_pt="",
        website="",
        position="1",
    )
    assert response.status_code == 302
    saved = reload(Programme, programme.id)
    assert saved.name_en == "IURC (renamed)"
    assert saved.description_en == ""  # an emptied description is stored empty, not NULL
    assert not saved.website
    assert len(saved.objectives) == 2  # the objectives stay with it
    (entry,) = entries("programme.update")
    assert entry.subject_id == programme.id


def test_a_programme_needs_its_name_in_every_language(admin_client, reference):
    before = count(Programme)
    response = post(admin_client, "/admin/programmes/new", **{**NEW_PROGRAMME, "name_pt": " "})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "name_pt") == "Enter this text."
    assert count(Programme) == before


def test_an_admin_adds_and_edits_an_objective(admin_client, admin, reference):
    programme = one(Programme, "IURC")
    response = post(
        admin_client,
        f"/admin/programmes/{programme.id}/objectives/new",
        code="IURC-3",
        text_en="Cities and regions share their climate plans.",
        text_es="Ciudades y regiones comparten sus planes climáticos.",
        text_pt="Cidades e regiões compartilham seus planos climáticos.",
        position="2",
    )
    assert response.status_code == 302
    objective = one(Objective, "IURC-3")
    assert objective.programme_id == programme.id
    assert objective.text_es == "Ciudades y regiones comparten sus planes climáticos."
    assert [o.code for o in reload(Programme, programme.id).objectives] == [
        "IURC-1",
        "IURC-2",
        "IURC-3",
    ]
    assert entries("objective.create")[0].actor_id == admin.id

    response = post(
        admin_client,
        f"/admin/objectives/{objective.id}",
        code="IURC-3",
        text_en="Cities and regions share climate plans.",
        text_es=objective.text_es,
        text_pt=objective.text_pt,
        position="2",
    )
    assert response.status_code == 302
    assert reload(Objective, objective.id).text_en == "Cities and regions share climate plans."
    assert len(entries("objective.update")) == 1


# Themes ----------------------------------------------------------------------------------------


def theme_data(group: ThemeGroup, **fields) -> dict:
    return {
        "code": "urban-heat",
        "group_id": str(group.id),
        "label_en": "Urban heat",
        "label_es": "Calor urbano",
        "label_pt": "Calor urbano",
        "keywords_en": "Heat island\n\n  shade trees  \nHeatwave\n",
        "keywords_es": "isla de calor\r\nola de calor",
        "keywords_pt": "",
        "position": "40",
        **fields,
    }


def test_an_admin_creates_a_theme_with_keywords_one_per_line(admin_client, reference):
    group = one(ThemeGroup, "environment")
    before = count(Theme)
    response = post(admin_client, "/admin/themes/new", **theme_data(group))
    assert response.status_code == 302
    assert count(Theme) == before + 1
    theme = one(Theme, "urban-heat")
    assert theme.group_id == group.id
    assert (theme.label_en, theme.label_es, theme.label_pt) == (
        "Urban heat",
        "Calor urbano",
        "Calor urbano",
    )
    assert theme.keywords == {
        "en": ["heat island", "shade trees", "heatwave"],
        "es": ["isla de calor", "ola de calor"],
        "pt": [],
    }
    assert len(entries("theme.create")) == 1

    # The edit page shows the keywords one per line again.
    page = admin_client.get(f"/admin/themes/{theme.id}").get_data(as_text=True)
    assert "heat island\nshade trees\nheatwave</textarea>" in page


def test_editing_a_theme_replaces_its_keywords_and_group(admin_client, reference):
    theme = one(Theme, "tourism")
    group = one(ThemeGroup, "innovation")
    response = post(
        admin_client,
        f"/admin/themes/{theme.id}",
        **theme_data(
            group,
            code="tourism",
            label_en="Tourism",
            label_es="Turismo",
            label_pt="Turismo",
            keywords_en="ecotourism",
            keywords_es="",
        ),
    )
    assert response.status_code == 302
    saved = reload(Theme, theme.id)
    assert saved.group_id == group.id
    assert saved.keywords == {"en": ["ecotourism"], "es": [], "pt": []}


def test_a_theme_in_an_unknown_group_is_refused(admin_client, reference):
    before = count(Theme)
    response = post(
        admin_client, "/admin/themes/new", **theme_data(one(ThemeGroup, "energy"), group_id="9999")
    )
    assert response.status_code == 422
    assert count(Theme) == before


# Border areas ----------------------------------------------------------------------------------


def area_data(**fields) -> dict:
    return {
        "code": "PE-BR",
        "name_en": "Peru–Brazil",
        "name_es": "Perú–Brasil",
        "name_pt": "Peru–Brasil",
        "countries": ["PE", "BR"],
        "subdivisions": "pe-mdd, BR-AC",
        "value_chains": "Brazil nuts | Castaña amazónica | Castanha-do-brasil\n\nFish farming\n",
        "source_url": "https://example.org/peru-brazil",
        "position": "8",
        **fields,
    }


def test_an_admin_creates_a_border_area(admin_client, admin, reference):
    before = count(BorderArea)
    response = post(admin_client, "/admin/border-areas/new", **area_data())
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert count(BorderArea) == before + 1
    area = one(BorderArea, "PE-BR")
    assert sorted(area.countries) == ["BR", "PE"]
    assert area.subdivisions == ["PE-MDD", "BR-AC"]
    assert area.value_chains == [
        {"en": "Brazil nuts", "es": "Castaña amazónica", "pt": "Castanha-do-brasil"},
        # A line with English only is used for every language.
        {"en": "Fish farming", "es": "Fish farming", "pt": "Fish farming"},
    ]
    assert area.source_url == "https://example.org/peru-brazil"
    (entry,) = entries("border_area.create")
    assert entry.actor_id == admin.id


def test_the_border_area_form_shows_codes_and_value_chains_as_typed(admin_client, reference):
    area = one(BorderArea, "PE-CL")
    page = admin_client.get(f"/admin/border-areas/{area.id}").get_data(as_text=True)
    assert 'value="PE-TAC CL-AP"' in page
    assert (
        "Agriculture in water-scarce areas | Agricultura en zonas con escasez de agua | "
        "Agricultura em áreas com escassez hídrica\n"
        "Andean adventure tourism | Turismo de aventura andino | Turismo de aventura andino"
    ) in page
    checked = re.findall(r'<input checked [^>]*name="countries" [^>]*value="([A-Z]{2})"', page)
    assert sorted(checked) == ["CL", "PE"]


@pytest.mark.parametrize(
    ("subdivisions", "bad"),
    [
        ("PE-TAC AR-N", "AR-N"),  # a real region, but of a country not chosen
        ("PE-TAC PE-XYZ", "PE-XYZ"),  # no such region
        ("Tacna", "TACNA"),  # a name, not a code
    ],
)
def test_border_area_regions_must_exist_and_belong_to_its_countries(
    admin_client, reference, subdivisions, bad
):
    area = one(BorderArea, "PE-CL")
    response = post(
        admin_client,
        f"/admin/border-areas/{area.id}",
        **area_data(code="PE-CL", countries=["PE", "CL"], subdivisions=subdivisions),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "subdivisions") == (
        f"{bad} is not a sub-region of the chosen countries."
    )
    assert f'value="{subdivisions}"' in page  # what was typed stays
    saved = one(BorderArea, "PE-CL")
    assert saved.subdivisions == ["PE-TAC", "CL-AP"]
    assert saved.name_en == "Peru–Chile"
    assert entries("border_area.update") == []


def test_a_border_area_needs_two_countries(admin_client, reference):
    before = count(BorderArea)
    response = post(
        admin_client, "/admin/border-areas/new", **area_data(countries=["PE"], subdivisions="")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "countries") == "Choose at least two neighbouring countries."
    assert count(BorderArea) == before


def test_a_border_area_country_must_be_from_the_list(admin_client, reference):
    before = count(BorderArea)
    response = post(
        admin_client,
        "/admin/border-areas/new",
        **area_data(countries=["PE", "US"], subdivisions="PE-TAC"),
    )
    assert response.status_code == 422
    assert count(BorderArea) == before


# Codes -----------------------------------------------------------------------------------------


def _new(kind: str) -> tuple[str, dict]:
    """The path and a complete form for a new item of `kind`, reusing an existing code."""
    if kind == "programme":
        return "/admin/programmes/new", {**NEW_PROGRAMME, "code": "IURC"}
    if kind == "objective":
        programme = one(Programme, "INNOVACT")
        return f"/admin/programmes/{programme.id}/objectives/new", {
            "code": "IURC-1",
            "text_en": "An objective.",
            "text_es": "Un objetivo.",
            "text_pt": "Um objetivo.",
            "position": "5",
        }
    if kind == "theme":
        return "/admin/themes/new", theme_data(one(ThemeGroup, "energy"), code="tourism")
    return "/admin/border-areas/new", area_data(code="PE-CL")


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("programme", Programme),
        ("objective", Objective),
        ("theme", Theme),
        ("border area", BorderArea),
    ],
)
def test_a_code_already_used_is_refused_and_nothing_is_saved(admin_client, reference, kind, model):
    before = count(model)
    path, data = _new(kind)
    response = post(admin_client, path, **data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "code") == "This code is already used; codes must be unique."
    assert f'value="{data["code"]}"' in page
    assert count(model) == before
    assert db.session.scalar(select(func.count()).select_from(ActivityEntry)) == 0


def test_renaming_a_code_to_one_in_use_is_refused(admin_client, reference):
    programme = one(Programme, "INNOV-AL")
    response = post(
        admin_client,
        f"/admin/programmes/{programme.id}",
        **{**NEW_PROGRAMME, "code": "INNOVACT", "name_en": "Changed"},
    )
    assert response.status_code == 422
    saved = reload(Programme, programme.id)
    assert (saved.code, saved.name_en) == ("INNOV-AL", "INNOV-AL")


@pytest.mark.parametrize("code", ["has space", "-leading", "acentuación", ""])
def test_codes_are_letters_digits_and_hyphens(admin_client, reference, code):
    before = count(Programme)
    response = post(admin_client, "/admin/programmes/new", **{**NEW_PROGRAMME, "code": code})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "code") in {
        "Use letters, digits and hyphens only.",
        "Enter a code.",
    }
    assert count(Programme) == before


def test_reference_pages_are_in_the_admins_language(app, reference):
    admin = make_admin(language="es")
    client = app.test_client()
    log_in(client, admin)
    page = client.get("/admin/reference").get_data(as_text=True)
    assert "Cooperación Urbana y Regional Internacional (IURC)" in page
    assert "Perú–Chile" in page
    assert "Agricultura en zonas con escasez de agua" in page
    assert "Tacna, Arica y Parinacota" in page
