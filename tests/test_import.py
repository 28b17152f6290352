"""`flask exchange import`: authorities, members, practices and ideas from JSON and CSV files —
checked row by row first, then written all or nothing through the real services."""

import copy
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.activity.services import activity_for
from exchange.auth import passwords
from exchange.auth.models import User, find_user_by_email
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.errors import ActionError
from exchange.extensions import db
from exchange.notifications.models import Notification
from exchange.submissions import services as submission_services
from exchange.submissions.models import Revision, Submission
from exchange.submissions.search import search_condition
from exchange.workflow import Kind, State
from tests.factories import log_in, make_authority, make_coordinator, make_member
from tests.test_auth import link_in

pytestmark = pytest.mark.usefixtures("reference")

COORDINATOR = "boss@programme.example"
WRITTEN = (Authority, User, Submission, Revision, ActivityEntry, Notification)
IN_90_DAYS = (date.today() + timedelta(days=90)).isoformat()

PROGRAMME = {
    "authorities": [
        {
            "key": "tacna",
            "name": "Gobierno Regional de Tacna",
            "kind": "region",
            "country": "PE",
            "subdivision": "PE-TAC",
            "website": "https://www.regiontacna.gob.pe",
            "languages": ["es", "ay"],
            "description": "Región fronteriza con Chile.",
            "description_language": "es",
            "programmes": ["INNOVACT"],
            "themes": ["water-management", "agri-food"],
            "border_areas": ["PE-CL"],
            "match_capacity": 5,
        },
        {
            "key": "arica",
            "name": "Gobierno Regional de Arica y Parinacota",
            "kind": "region",
            "country": "cl",
            "subdivision": "cl-ap",
            "themes": "tourism; water-management",
        },
        {
            "key": "porto",
            "name": "Câmara Municipal do Porto",
            "kind": "municipality",
            "country": "PT",
            "subdivision": "PT-13",
            "languages": "pt;en",
            "status": "pending",
        },
    ],
    "members": [
        {"email": "Lucia.Quispe@RegionTacna.example", "name": "Lucía Quispe", "authority": "tacna"}
    ],
    "practices": [
        {
            "authority": "tacna",
            "state": "published",
            "language": "es",
            "title": "Riego por goteo para la agricultura familiar en Tacna",
            "summary": "Tecnificación del riego en 300 parcelas del valle de Caplina.",
            "problem": "El acuífero de Caplina se agota por el bombeo sin control.",
            "actions": "Cofinanciamos equipos de riego por goteo y capacitamos a los regantes.",
            "results": "Ahorro del 40 % del agua en las parcelas tecnificadas.",
            "resources": "1,2 millones de soles en tres años.",
            "transferability": "Sirve en cualquier valle árido con juntas de usuarios.",
            "lessons": "La organización de los regantes pesa tanto como la técnica.",
            "themes": ["water-management", "agri-food"],
            "objectives": ["INNOVACT-1"],
            "period_start": "2019-01-01",
            "period_end": "2022-12-31",
        },
        {
            "authority": "porto",
            "language": "pt",
            "title": "Compostagem comunitária nos bairros",
            "summary": "Compostores partilhados em 40 bairros.",
        },
    ],
    "ideas": [
        {
            "authority": "arica",
            "state": "published",
            "language": "es",
            "title": "Ruta binacional de turismo de aventura Tacna–Arica",
            "summary": "Un circuito andino compartido por dos regiones.",
            "description": "Diseñar, señalizar y promover una ruta común.",
            "value_chain": "Turismo de aventura andino",
            "expected_results": "Más visitantes y empleo local en ambos lados.",
            "border_area": "PE-CL",
            "budget_range": "100k_500k",
            "open_until": IN_90_DAYS,
            "partner_kinds": ["region", "agency"],
            "partner_sides": "EU",
            "partner_themes": ["tourism"],
            "themes": ["tourism", "cross-border-cooperation"],
        }
    ],
}


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def coordinator():
    return make_coordinator(email=COORDINATOR, name="Programme coordinator")


def run_import(runner, *paths, options=()):
    return runner.invoke(
        args=["exchange", "import", *map(str, paths), "--as", COORDINATOR, *options]
    )


def write_json(tmp_path, data, name="import.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def committed_counts() -> dict[str, int]:
    """Row counts as another connection sees them: only what was committed."""
    with db.engine.connect() as connection:
        return {
            model.__name__: connection.execute(select(func.count()).select_from(model)).scalar()
            for model in WRITTEN
        }


NOTHING_WRITTEN = {
    "Authority": 0,
    "User": 1,  # the coordinator
    "Submission": 0,
    "Revision": 0,
    "ActivityEntry": 0,
    "Notification": 0,
}


def found_by_search(words: str) -> list[int]:
    condition = search_condition(words).condition
    return list(db.session.scalars(select(Submission.id).where(condition)))


def submission_titled(title: str) -> Submission:
    db.session.expire_all()
    return db.session.scalar(
        select(Submission).join(Submission.working_revision).where(Revision.title == title)
    )


# Imports that succeed ----------------------------------------------------------------------------


def test_a_json_import_creates_everything_through_the_services(runner, coordinator, tmp_path):
    result = run_import(runner, write_json(tmp_path, PROGRAMME))
    assert result.exit_code == 0, result.output
    assert (
        "Checked 1 file(s) (authorities: 3, members: 1, practices: 2, ideas: 1): no problem found."
        in result.output
    )
    assert "  authorities: 3 created, 0 reused\n" in result.output
    assert "  members: 1 created, 0 reused (each sent a link to choose a password)\n" in (
        result.output
    )
    assert "  practices: 2 created, 0 reused (1 published)\n" in result.output
    assert "  ideas: 1 created, 0 reused (1 published)\n" in result.output

    db.session.expire_all()
    tacna = db.session.scalar(select(Authority).where(Authority.name.like("%Tacna")))
    assert (tacna.kind, tacna.country_code, tacna.subdivision_code, tacna.side) == (
        "region",
        "PE",
        "PE-TAC",
        "LAC",
    )
    assert tacna.status == AuthorityStatus.VERIFIED
    assert tacna.verified_by_id == coordinator.id
    assert tacna.website == "https://www.regiontacna.gob.pe"
    assert tacna.languages == ["ay", "es"]
    assert (tacna.description, tacna.description_language) == ("Región fronteriza con Chile.", "es")
    assert [p.code for p in tacna.programmes] == ["INNOVACT"]
    assert sorted(t.code for t in tacna.themes) == ["agri-food", "water-management"]
    assert [b.code for b in tacna.border_areas] == ["PE-CL"]
    assert tacna.match_capacity == 5
    assert [(e.action, e.actor_id) for e in activity_for(tacna)] == [
        ("authority.create", coordinator.id),
        ("authority.update_profile", coordinator.id),
        ("authority.verify", coordinator.id),
    ]
    arica = db.session.scalar(select(Authority).where(Authority.name.like("%Arica%")))
    # Codes are read whatever their case.
    assert (arica.country_code, arica.subdivision_code) == ("CL", "CL-AP")
    assert sorted(t.code for t in arica.themes) == ["tourism", "water-management"]
    porto = db.session.scalar(select(Authority).where(Authority.name.like("%Porto")))
    assert porto.status == AuthorityStatus.PENDING
    assert porto.languages == ["en", "pt"]

    practice = submission_titled("Riego por goteo para la agricultura familiar en Tacna")
    assert (practice.kind, practice.state, practice.authority_id) == (
        Kind.PRACTICE,
        State.PUBLISHED,
        tacna.id,
    )
    assert practice.published_revision_id == practice.working_revision_id is not None
    assert practice.is_public
    revision = practice.published_revision
    assert revision.period_start == date(2019, 1, 1)
    assert revision.lessons == "La organización de los regantes pesa tanto como la técnica."
    assert [o.code for o in revision.objectives] == ["INNOVACT-1"]
    assert [(e.action, e.actor_id) for e in activity_for(practice)] == [
        ("submission.create", coordinator.id),
        ("submission.submit", None),  # the platform
        ("submission.publish", coordinator.id),
    ]
    assert found_by_search("goteo") == [practice.id]

    idea = submission_titled("Ruta binacional de turismo de aventura Tacna–Arica")
    assert (idea.kind, idea.state, idea.authority_id) == (Kind.IDEA, State.PUBLISHED, arica.id)
    assert idea.open_until == date.fromisoformat(IN_90_DAYS)
    assert idea.published_revision.border_area.code == "PE-CL"
    assert idea.published_revision.partner_kinds == ["agency", "region"]
    assert idea.published_revision.partner_sides == ["EU"]
    assert [t.code for t in idea.published_revision.partner_themes] == ["tourism"]
    assert found_by_search("aventura") == [idea.id]

    draft = submission_titled("Compostagem comunitária nos bairros")
    assert (draft.state, draft.authority_id, draft.published_revision_id) == (
        State.DRAFT,
        porto.id,
        None,
    )
    assert found_by_search("compostagem") == []

    member = find_user_by_email("lucia.quispe@regiontacna.example")
    assert (member.name, member.authority_id, member.language) == ("Lucía Quispe", tacna.id, "es")
    assert not member.email_confirmed
    # A password nobody knows; the person sets one through the reset link.
    assert not passwords.verify_password(member.password_hash, "")
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == member.id))
    assert list(kinds) == ["auth.reset_password"]


def test_an_imported_member_sets_a_password_through_the_emailed_link(
    app, runner, coordinator, tmp_path, worker, mailbox
):
    data = {
        "authorities": PROGRAMME["authorities"][:1],
        "members": [
            {"email": "rosa@tacna.example", "name": "Rosa Mamani", "authority": "tacna"},
            {
                "email": "pedro@tacna.example",
                "name": "Pedro Condori",
                "language": "en",
                "authority": "Gobierno Regional de Tacna",
            },
        ],
    }
    result = run_import(runner, write_json(tmp_path, data))
    assert result.exit_code == 0, result.output
    messages = mailbox.wait_for(2)
    assert sorted(m.to for m in messages) == ["pedro@tacna.example", "rosa@tacna.example"]
    # In the person's language: the authority's language unless the file says otherwise.
    languages = {m.to: m.message["Content-Language"] for m in messages}
    assert languages == {"rosa@tacna.example": "es", "pedro@tacna.example": "en"}

    client = app.test_client()
    (message,) = mailbox.to("rosa@tacna.example")
    reset = link_in(message)
    response = client.post(
        reset, data={"password": "una clave larga y nueva", "csrf_token": _csrf(client, reset)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    rosa = find_user_by_email("rosa@tacna.example")
    assert rosa.email_confirmed  # following the link proves the address
    log_in(app.test_client(), rosa, password="una clave larga y nueva")


def _csrf(client, path):
    from tests.conftest import csrf_token

    return csrf_token(client, path)


def test_csv_files_named_after_their_type_import_together(runner, coordinator, tmp_path):
    # Semicolons and a byte-order mark, as spreadsheets save them in Spanish and Portuguese.
    (tmp_path / "authorities.csv").write_text(
        "key;name;kind;country;subdivision;themes;status\n"
        "piura;Gobierno Regional de Piura;region;PE;PE-PIU;agri-food;verified\n"
        "loja;Gobierno Provincial de Loja;region;EC;EC-L;agri-food;pending\n",
        encoding="utf-8-sig",
    )
    (tmp_path / "practices.csv").write_text(
        "type,authority,state,language,title,summary,problem,actions,results,"
        "transferability,themes\n"
        'practice,piura,published,es,Cacao fino de aroma en Piura,"Resumen; con punto y coma",'
        'Precios bajos,"Centros de acopio,\nfermentación y secado",Mejor precio,'
        "Cooperativas similares,agri-food;value-chains\n"
        "practice,loja,draft,es,Café de altura de Loja,,,,,,\n",
        encoding="utf-8",
    )
    result = run_import(runner, tmp_path / "authorities.csv", tmp_path / "practices.csv")
    assert result.exit_code == 0, result.output
    assert "Checked 2 file(s) (authorities: 2, members: 0, practices: 2, ideas: 0)" in result.output

    cacao = submission_titled("Cacao fino de aroma en Piura")
    assert cacao.state == State.PUBLISHED
    assert cacao.authority.name == "Gobierno Regional de Piura"
    assert cacao.published_revision.summary == "Resumen; con punto y coma"
    assert cacao.published_revision.actions == "Centros de acopio,\nfermentación y secado"
    assert [t.code for t in cacao.published_revision.themes] == ["value-chains", "agri-food"]
    cafe = submission_titled("Café de altura de Loja")
    assert (cafe.state, cafe.authority.status) == (State.DRAFT, AuthorityStatus.PENDING)

    # A later file refers to them by their exact name, its rows typed by --type.
    (tmp_path / "border.csv").write_text(
        "authority,state,language,title,summary,description,expected_results,border_area,"
        "open_until,themes\n"
        f"Gobierno Regional de Piura,published,es,Corredor del cacao Piura–Loja,Resumen,"
        f"Descripción,Resultados,EC-PE,{IN_90_DAYS},agri-food\n",
        encoding="utf-8",
    )
    result = run_import(runner, tmp_path / "border.csv", options=["--type", "ideas"])
    assert result.exit_code == 0, result.output
    idea = submission_titled("Corredor del cacao Piura–Loja")
    assert (idea.kind, idea.state, idea.authority_id) == (
        Kind.IDEA,
        State.PUBLISHED,
        cacao.authority_id,
    )


def test_a_json_list_of_typed_records(runner, coordinator, tmp_path):
    records = [
        {"type": "authority", "key": "bo", "name": "Comune di Bologna", "kind": "municipality",
         "country": "IT", "subdivision": "IT-BO"},
        {"type": "practice", "authority": "bo", "language": "en",
         "title": "Civic imagination offices"},
    ]  # fmt: skip
    result = run_import(runner, write_json(tmp_path, records))
    assert result.exit_code == 0, result.output
    practice = submission_titled("Civic imagination offices")
    assert (practice.state, practice.authority.name) == (State.DRAFT, "Comune di Bologna")


def test_a_second_import_reuses_what_is_there(runner, coordinator, tmp_path):
    path = write_json(tmp_path, PROGRAMME)
    assert run_import(runner, path).exit_code == 0
    first = committed_counts()

    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert committed_counts() == first
    tacna_id = db.session.scalar(select(Authority.id).where(Authority.name.like("%Tacna")))
    assert (
        f"import.json: authorities row 1: 'Gobierno Regional de Tacna' (PE) is already on the "
        f"platform (id {tacna_id}): reused as it is" in result.output
    )
    assert "import.json: members row 1: lucia.quispe@regiontacna.example already works for" in (
        result.output
    )
    assert "  authorities: 0 created, 3 reused\n" in result.output
    assert "  practices: 0 created, 2 reused (0 published)\n" in result.output
    assert "  ideas: 0 created, 1 reused (0 published)\n" in result.output


def test_an_authority_already_on_the_platform_is_reused_not_duplicated(
    runner, coordinator, tmp_path
):
    existing = make_authority(name="Gobierno Regional de Tacna", country="PE", subdivision="PE-TAC")
    # Another country: a different authority with the same name.
    make_authority(name="Gobierno Regional de Tacna", country="CL", subdivision="CL-AP")
    data = {
        "authorities": [
            {"key": "t", "name": "gobierno  regional de TACNA", "kind": "agency", "country": "PE"}
        ],
        "practices": [{"authority": "t", "language": "es", "title": "Nueva práctica"}],
    }
    result = run_import(runner, write_json(tmp_path, data))
    assert result.exit_code == 0, result.output
    assert "(PE) is already on the platform" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Authority)) == 2
    assert db.session.get(Authority, existing.id).kind == "region"  # reused as it is
    assert submission_titled("Nueva práctica").authority_id == existing.id


def test_dry_run_writes_nothing(runner, coordinator, tmp_path):
    result = run_import(runner, write_json(tmp_path, PROGRAMME), options=["--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was saved. The import would make:" in result.output
    assert "  authorities: 3 created, 0 reused\n" in result.output
    assert "  practices: 2 created, 0 reused (1 published)\n" in result.output
    assert committed_counts() == NOTHING_WRITTEN
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Authority)) == 0
    assert found_by_search("goteo") == []


# Problems, row by row ---------------------------------------------------------------------------


def changed(section, index, **fields):
    """PROGRAMME with fields of one record changed (None removes the field)."""

    def change(data):
        for name, value in fields.items():
            if value is None:
                data[section][index].pop(name, None)
            else:
                data[section][index][name] = value

    return change


def added(section, record):
    return lambda data: data[section].append(record)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        # Unknown codes.
        (
            changed("practices", 0, themes=["water-management", "watr"]),
            "practices row 1, field themes: unknown theme code 'watr'",
        ),
        (
            changed("practices", 0, objectives="INNOVACT-1;IURC-9"),
            "practices row 1, field objectives: unknown objective code 'IURC-9'",
        ),
        (
            changed("authorities", 0, programmes=["INNOVAKT"]),
            "authorities row 1, field programmes: unknown programme code 'INNOVAKT'",
        ),
        (
            changed("ideas", 0, border_area="PE-BO"),
            "ideas row 1, field border_area: unknown border area code 'PE-BO'",
        ),
        (
            changed("ideas", 0, partner_themes=["tourisme"]),
            "ideas row 1, field partner_themes: unknown theme code 'tourisme'",
        ),
        (
            changed("authorities", 0, kind="city"),
            "authorities row 1, field kind: 'city' is not one of: municipality, "
            "metropolitan_area, region, national_body, cross_border_body, agency",
        ),
        (
            changed("authorities", 0, languages=["es", "klingon"]),
            "authorities row 1, field languages: 'klingon' is not one of:",
        ),
        (
            changed("ideas", 0, budget_range="a lot"),
            "ideas row 1, field budget_range: 'a lot' is not one of: under_100k, 100k_500k,",
        ),
        (
            changed("ideas", 0, partner_sides="EU;Asia"),
            "ideas row 1, field partner_sides: 'Asia' is not one of: EU, LAC",
        ),
        # Countries and subdivisions.
        (
            changed("authorities", 1, country="XX", subdivision=None),
            "authorities row 2, field country: unknown country code 'XX'; use ISO 3166-1 "
            "alpha-2 (PE, ES…)",
        ),
        (
            changed("authorities", 1, country="CHL", subdivision=None),
            "authorities row 2, field country: unknown country code 'CHL'",
        ),
        (
            changed("authorities", 1, country="US", subdivision=None),
            "authorities row 2, field country: US (United States) is neither an EU member state "
            "nor a country of Latin America and the Caribbean",
        ),
        (
            changed("authorities", 1, subdivision="CL-XX"),
            "authorities row 2, field subdivision: unknown subdivision code 'CL-XX'; use ISO "
            "3166-2 (PE-TAC…)",
        ),
        (
            changed("authorities", 1, subdivision="PE-TAC"),
            "authorities row 2, field subdivision: PE-TAC (Tacna) is in PE, not in CL",
        ),
        # Missing required fields.
        (
            changed("authorities", 2, name=None),
            "authorities row 3, field name: required, but missing",
        ),
        (
            changed("authorities", 2, kind="  "),
            "authorities row 3, field kind: required, but missing; use one of: municipality,",
        ),
        (
            changed("authorities", 2, country=None, subdivision=None),
            "authorities row 3, field country: required, but missing",
        ),
        (
            changed("practices", 1, title=None),
            "practices row 2, field title: required, but missing",
        ),
        (
            changed("practices", 1, language=None),
            "practices row 2, field language: required, but missing; use one of: en, es, pt",
        ),
        (
            changed("members", 0, authority=None),
            "members row 1, field authority: required, but missing",
        ),
        (
            changed("members", 0, email=None),
            "members row 1, field email: required, but missing",
        ),
        (
            changed("practices", 0, problem=""),
            "practices row 1, field problem: required for a published practice, but missing",
        ),
        (
            changed("practices", 0, themes=[]),
            "practices row 1, field themes: required for a published practice, but missing",
        ),
        (
            changed("ideas", 0, border_area=None),
            "ideas row 1, field border_area: required for a published idea, but missing",
        ),
        # Dates.
        (
            changed("practices", 0, period_start="2021-13-01"),
            "practices row 1, field period_start: '2021-13-01' is not a date; write it as "
            "YYYY-MM-DD",
        ),
        (
            changed("practices", 0, period_end="31/12/2022"),
            "practices row 1, field period_end: '31/12/2022' is not a date;",
        ),
        (
            changed("practices", 0, period_start="2023-01-01"),
            "practices row 1, field period_end: the period ends (2022-12-31) before it starts "
            "(2023-01-01)",
        ),
        (
            changed("ideas", 0, open_until="2020-01-31"),
            "ideas row 1, field open_until: 2020-01-31 has passed; a published idea needs a date "
            "in the future",
        ),
        # References between records.
        (
            changed("practices", 0, authority="tacnaa"),
            "practices row 1, field authority: unknown authority 'tacnaa': neither a key of the "
            "file nor the name of an authority on the platform",
        ),
        (
            added(
                "authorities", {"key": "porto", "name": "Other", "kind": "agency", "country": "PT"}
            ),
            "authorities row 4, field key: duplicate key 'porto': authorities row 3 has it",
        ),
        (
            added(
                "authorities",
                {"name": "GOBIERNO REGIONAL DE TACNA", "kind": "region", "country": "PE"},
            ),
            "authorities row 4, field name: the same authority (name and country) as "
            "authorities row 1",
        ),
        (
            added(
                "practices",
                {
                    "authority": "porto",
                    "language": "pt",
                    "title": "Compostagem comunitária nos Bairros",
                },
            ),
            "practices row 3, field title: the same title, for the same authority, as "
            "practices row 2",
        ),
        (
            added(
                "members",
                {"email": "lucia.quispe@regiontacna.example", "name": "L", "authority": "arica"},
            ),
            "members row 2, field email: the same address as members row 1",
        ),
        # States.
        (
            changed("practices", 0, state="submitted"),
            "practices row 1, field state: 'submitted' is not one of: draft, published",
        ),
        (
            changed(
                "practices",
                1,
                state="published",
                problem="p",
                actions="a",
                results="r",
                transferability="t",
                themes=["waste-management"],
            ),
            "practices row 2, field state: 'Câmara Municipal do Porto' is not verified: only "
            "drafts can be imported for it",
        ),
        (
            changed("authorities", 2, status="approved"),
            "authorities row 3, field status: 'approved' is not one of: verified, pending",
        ),
        # Other values.
        (
            changed("members", 0, email="lucia at tacna"),
            "members row 1, field email: 'lucia at tacna' is not an e-mail address",
        ),
        (
            changed("authorities", 0, website="www.regiontacna.gob.pe"),
            "authorities row 1, field website: 'www.regiontacna.gob.pe' is not a web address "
            "starting with https://",
        ),
        (
            changed("authorities", 0, match_capacity=50),
            "authorities row 1, field match_capacity: 50 is not a whole number from 0 to 20",
        ),
        (
            changed("practices", 1, title="x" * 201),
            "practices row 2, field title: too long: 201 characters, at most 200",
        ),
        (
            changed("practices", 0, themes={"code": "tourism"}),
            'practices row 1, field themes: must be a list of texts, or texts separated by ";"',
        ),
        (
            changed("practices", 0, border_area="PE-CL"),
            "practices row 1, field border_area: not a field of practices",
        ),
        (
            changed("ideas", 0, type="practice"),
            "ideas row 1, field type: a practices record in the ideas list",
        ),
    ],
)
def test_each_problem_is_reported_with_its_row_and_field(
    runner, coordinator, tmp_path, change, problem
):
    data = copy.deepcopy(PROGRAMME)
    change(data)
    result = run_import(runner, write_json(tmp_path, data))
    assert result.exit_code == 1, result.output
    assert "Nothing was imported: 1 problem(s) to correct.\n" in result.output
    assert f"  import.json: {problem}" in result.output
    assert committed_counts() == NOTHING_WRITTEN


def test_an_account_of_another_authority_is_a_problem(runner, coordinator, tmp_path):
    make_member(make_authority(name="Elsewhere"), email="lucia.quispe@regiontacna.example")
    result = run_import(runner, write_json(tmp_path, PROGRAMME))
    assert result.exit_code == 1
    assert (
        "import.json: members row 1, field email: an account with this address already exists, "
        "not for this authority" in result.output
    )


def test_an_ambiguous_authority_name_is_a_problem(runner, coordinator, tmp_path):
    make_authority(name="Municipalidad Provincial", country="PE", subdivision="PE-TAC")
    make_authority(name="Municipalidad Provincial", country="PE", subdivision="PE-PIU")
    data = {
        "practices": [{"authority": "Municipalidad Provincial", "language": "es", "title": "T"}]
    }
    result = run_import(runner, write_json(tmp_path, data))
    assert result.exit_code == 1
    assert (
        "import.json: practices row 1, field authority: 2 authorities on the platform are called "
        "'Municipalidad Provincial' (PE, PE); add the one you mean to the file, with its country "
        "and a key" in result.output
    )


def test_every_problem_of_every_row_is_reported_and_nothing_written(runner, coordinator, tmp_path):
    (tmp_path / "practices.csv").write_text(
        "authority,state,language,title,themes,period_start\n"
        "Nobody,draft,es,Una,water-management,\n"
        'Nobody,draft,es,"Dos,\nen dos líneas",watr,\n'
        "Nobody,archived,xx,Tres,,2021-02-30\n",
        encoding="utf-8",
    )
    result = run_import(runner, tmp_path / "practices.csv")
    assert result.exit_code == 1
    unknown = (
        "field authority: unknown authority 'Nobody': neither a key of the file nor the name of "
        "an authority on the platform"
    )
    assert result.output.splitlines()[-8:] == [
        "Nothing was imported: 7 problem(s) to correct.",
        f"  practices.csv: practices row 2, {unknown}",
        f"  practices.csv: practices row 3, {unknown}",
        "  practices.csv: practices row 3, field themes: unknown theme code 'watr'",
        # The row after a value on two lines is numbered by the line it starts on.
        f"  practices.csv: practices row 5, {unknown}",
        "  practices.csv: practices row 5, field state: 'archived' is not one of: draft, published",
        "  practices.csv: practices row 5, field language: 'xx' is not one of: en, es, pt",
        "  practices.csv: practices row 5, field period_start: '2021-02-30' is not a date; "
        "write it as YYYY-MM-DD",
    ]
    assert committed_counts() == NOTHING_WRITTEN


@pytest.mark.parametrize(
    ("name", "content", "options", "problem"),
    [
        ("broken.json", '{"authorities": [', (), "broken.json: is not valid JSON: Expecting value"),
        (
            "sections.json",
            '{"authorities": [], "partners": []}',
            (),
            "sections.json: unknown section 'partners'; use authorities, members, practices, ideas",
        ),
        (
            "list.json",
            '[{"name": "Comune di Bologna"}]',
            (),
            'list.json: records row 1, field type: say what this record is with "type": '
            "authorities, members, practices, ideas",
        ),
        (
            "rows.csv",
            "name,kind,country\nComune di Bologna,municipality,IT\n",
            (),
            "rows.csv: row 2, field type: say what the rows are: a 'type' column, --type, or a "
            "file named authorities.csv, members.csv, practices.csv or ideas.csv",
        ),
        (
            "authorities.csv",
            "name,kind,country,colour\nComune di Bologna,municipality,IT,red\n",
            (),
            "authorities.csv: row 1: unknown column 'colour'",
        ),
        (
            "authorities.csv",
            "name,kind,country\nComune di Bologna,municipality,IT,extra\n",
            (),
            "authorities.csv: row 2: has 4 values but the header names 3 columns",
        ),
        (
            "rows.csv",
            "name,kind,country\nComune di Bologna,municipality,IT\n",
            ("--type", "practices"),
            "rows.csv: practices row 2, field name: not a field of practices",
        ),
        ("notes.txt", "hello", (), "notes.txt: give a .json or a .csv file"),
    ],
)
def test_files_that_cannot_be_read_are_reported(
    runner, coordinator, tmp_path, name, content, options, problem
):
    (tmp_path / name).write_text(content, encoding="utf-8")
    result = run_import(runner, tmp_path / name, options=options)
    assert result.exit_code == 1, result.output
    assert f"  {problem}" in result.output
    assert committed_counts() == NOTHING_WRITTEN


def test_only_a_coordinator_can_import(runner, tmp_path):
    make_member(email=COORDINATOR)
    before = committed_counts()
    result = run_import(runner, write_json(tmp_path, PROGRAMME))
    assert result.exit_code == 2
    assert f"{COORDINATOR} is not the address of an active coordinator or admin" in result.output
    assert committed_counts() == before


# All or nothing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [ActionError("The review queue is closed."), RuntimeError("the process was killed")],
)
def test_a_failure_half_way_through_writing_leaves_nothing(
    runner, coordinator, tmp_path, monkeypatch, failure
):
    data = copy.deepcopy(PROGRAMME)
    second = copy.deepcopy(data["practices"][0])
    second["title"] = "Segunda práctica publicada"
    data["practices"].append(second)
    publish = submission_services.publish
    calls = []

    def publish_then_fail(actor, submission, comment=""):
        calls.append(submission.id)
        if len(calls) == 2:
            raise failure
        publish(actor, submission, comment)

    monkeypatch.setattr(submission_services, "publish", publish_then_fail)
    result = run_import(runner, write_json(tmp_path, data))

    assert len(calls) == 2  # authorities and a first practice were written before the failure
    assert result.exit_code == 1
    if isinstance(failure, ActionError):
        assert (
            "Nothing was imported: import.json: practices row 3: The review queue is closed."
            in result.output
        )
    else:
        assert result.exception is failure
    assert committed_counts() == NOTHING_WRITTEN
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    assert found_by_search("goteo") == []


def test_members_of_an_authority_already_on_the_platform(runner, coordinator, tmp_path):
    arica = make_authority(name="Municipalidad de Arica", country="CL", subdivision="CL-AP")
    (tmp_path / "members.csv").write_text(
        "email,name,authority\nana@arica.example,Ana Mamani,Municipalidad de Arica\n",
        encoding="utf-8",
    )
    result = run_import(runner, tmp_path / "members.csv")
    assert result.exit_code == 0, result.output
    assert "  members: 1 created, 0 reused (each sent a link to choose a password)\n" in (
        result.output
    )
    ana = find_user_by_email("ana@arica.example")
    # The authority's working language, since the file gives none.
    assert (ana.authority_id, ana.language, ana.email_confirmed) == (arica.id, "es", False)
