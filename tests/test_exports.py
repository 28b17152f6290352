"""Exports for coordinators: the content of each dataset as CSV and as XLSX (read back with
openpyxl), their filters, who may export, streaming in bounded memory, and formulas made
harmless."""

import csv
import gc
import io
import sys
import tempfile
import tracemalloc
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import insert, select, update

from exchange.authorities.models import Authority
from exchange.database import utcnow
from exchange.errors import NotAllowed
from exchange.extensions import db
from exchange.insight import exports
from exchange.insight.services import InsightFilters
from exchange.matching import services as matching
from exchange.matching.models import Stage
from exchange.reference.models import Programme, Theme
from exchange.submissions.models import Revision, Submission, revision_theme
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_submission,
)

pytestmark = pytest.mark.usefixtures("reference")

PRACTICE_HEADER = [
    "ID",
    "Title",
    "Summary",
    "State",
    "Language",
    "Authority",
    "Country",
    "Country code",
    "Side",
    "Themes",
    "Objectives",
    "Created",
    "Submitted",
    "First published",
    "Published",
    "Address",
]


# Helpers ---------------------------------------------------------------------------------------


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.location
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> tuple[str, list[tuple]]:
    assert response.status_code == 200, response.location
    assert response.mimetype == exports.XLSX_MIME
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    response.close()  # as a server does once it is sent: the temporary file goes
    sheet = workbook.active
    return sheet.title, [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


def as_dicts(rows) -> list[dict]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def at(model_object, **moments) -> None:
    model = type(model_object)
    db.session.execute(update(model).where(model.id == model_object.id).values(**moments))
    db.session.commit()
    db.session.expire_all()


def day(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}T12:00:00+00:00")


# A small platform: Tacna (Peru) and Valencia (Spain) verified, one Mexican authority pending;
# Tacna's published practice and idea, Valencia's submitted practice; Tacna and Valencia
# connected (they met), Tacna and Arica waiting.


@pytest.fixture
def world():
    tacna = make_authority(name="Gobierno Regional de Tacna")
    valencia = make_authority(name="Generalitat Valenciana", country="ES", subdivision="ES-V")
    arica = make_authority(name="Región de Arica", country="CL", subdivision=None)
    pending = make_authority(
        name="Municipio de Tijuana", country="MX", subdivision=None, verified=False
    )
    members = {a: make_member(a) for a in (tacna, valencia, arica)}
    coordinator = make_coordinator(name="Coordinadora Exportaciones")
    practice = make_submission(members[tacna], state="published", reviewer=coordinator)
    idea = make_submission(members[tacna], kind="idea", state="published", reviewer=coordinator)
    submitted = make_submission(
        members[valencia], state="submitted", title="Huertos urbanos en Valencia"
    )
    at(practice, created_at=day("2025-02-10"))
    at(submitted, created_at=day("2025-06-20"))
    connected = make_match(tacna, valencia, coordinator=coordinator, state="connected")
    matching.report_stage(members[tacna], connected, Stage.MET, "Nos reunimos en Lima.")
    db.session.commit()
    waiting = make_match(tacna, arica, coordinator=coordinator, same_side=True)
    return {
        "tacna": tacna,
        "valencia": valencia,
        "arica": arica,
        "pending": pending,
        "members": members,
        "coordinator": coordinator,
        "practice": practice,
        "idea": idea,
        "submitted": submitted,
        "connected": connected,
        "waiting": waiting,
    }


@pytest.fixture
def client(app, world):
    return signed_in(app, world["coordinator"])


# Practices and ideas ---------------------------------------------------------------------------


def test_practices_as_csv(client, world):
    rows = read_csv(client.get("/insight/exports/practices.csv"))
    assert rows[0] == PRACTICE_HEADER
    found = as_dicts(rows)
    assert [int(row["ID"]) for row in found] == [world["practice"].id, world["submitted"].id]
    practice = found[0]
    assert practice["Title"] == "Riego tecnificado en zonas áridas de Tacna"
    assert practice["Summary"] == "Gestión del agua para la agricultura en el desierto."
    assert practice["State"] == "Published"
    assert practice["Language"] == "es"
    assert practice["Authority"] == "Gobierno Regional de Tacna"
    assert (practice["Country"], practice["Country code"]) == ("Peru", "PE")
    assert practice["Side"] == "Latin America and the Caribbean"
    assert practice["Themes"] == "Water management and sanitation"
    assert practice["Objectives"] == "INNOVACT-1"
    assert practice["Created"] == "2025-02-10 12:00:00"
    assert practice["First published"]
    assert practice["Address"] == f"http://localhost/practices/{world['practice'].id}"
    submitted = found[1]
    assert (submitted["State"], submitted["Side"]) == ("Submitted", "European Union")
    assert submitted["Published"] == ""


def test_practices_as_xlsx(client, world):
    title, rows = read_xlsx(client.get("/insight/exports/practices.xlsx"))
    assert title == "Good practices"
    assert list(rows[0]) == PRACTICE_HEADER
    found = as_dicts(rows)
    assert [row["ID"] for row in found] == [world["practice"].id, world["submitted"].id]
    practice = found[0]
    assert practice["Title"] == "Riego tecnificado en zonas áridas de Tacna"
    assert practice["Themes"] == "Water management and sanitation"
    # Dates are dates in the spreadsheet (UTC), numbers are numbers.
    assert practice["Created"] == datetime(2025, 2, 10, 12, 0)
    assert isinstance(practice["ID"], int)
    assert found[1]["Published"] is None


def test_ideas_have_their_own_columns(client, world):
    found = as_dicts(read_csv(client.get("/insight/exports/ideas.csv")))
    assert len(found) == 1
    idea = found[0]
    assert idea["Title"] == "Ruta andina de turismo de aventura Tacna–Arica"
    assert idea["Border area"] == "PE-CL"
    assert idea["Cluster or value chain"] == "Turismo de aventura andino"
    assert idea["Budget"] == "€100,000 to €500,000"
    assert idea["Open until"] == (date.today() + timedelta(days=90)).isoformat()
    assert idea["Address"] == f"http://localhost/ideas/{world['idea'].id}"
    title, rows = read_xlsx(client.get("/insight/exports/ideas.xlsx"))
    assert title == "Project ideas"
    assert as_dicts(rows)[0]["Open until"].date() == date.today() + timedelta(days=90)


def test_practices_follow_the_filters(client, world):
    def ids(query: str) -> list[int]:
        return [
            int(r["ID"])
            for r in as_dicts(read_csv(client.get(f"/insight/exports/practices.csv?{query}")))
        ]

    practice, submitted = world["practice"].id, world["submitted"].id
    assert ids("side=EU") == [submitted]
    assert ids("side=LAC") == [practice]
    assert ids("country=PE") == [practice]
    assert ids("state=submitted") == [submitted]
    innovact = db.session.scalar(select(Programme.id).where(Programme.code == "INNOVACT"))
    iurc = db.session.scalar(select(Programme.id).where(Programme.code == "IURC"))
    assert ids(f"programme={innovact}") == [practice, submitted]
    assert ids(f"programme={iurc}") == []
    # The period selects the day created; the review queue's and the log's names work too.
    assert ids("date_from=2025-06-01&date_to=2025-06-30") == [submitted]
    assert ids("period=all&date_to=2025-03-01") == [practice]
    assert ids("period=all") == [practice, submitted]


def test_bad_filters_export_nothing_and_say_why(client, world):
    for query in ("state=bogus", "side=XX", "date_from=not-a-date", "subject=match"):
        response = client.get(f"/insight/exports/practices.csv?{query}")
        assert response.status_code == 302, query
        assert response.location.startswith("/insight/")
        page = client.get(response.location).get_data(as_text=True)
        assert "Nothing was exported." in page, query
    page = client.get(
        client.get("/insight/exports/practices.xlsx?subject=match").location
    ).get_data(as_text=True)
    assert "This export has no such filter." in page


# Authorities -----------------------------------------------------------------------------------


def test_authorities_in_both_formats(client, world):
    world["valencia"].programmes.append(
        db.session.scalar(select(Programme).where(Programme.code == "IURC"))
    )
    world["valencia"].themes.append(db.session.scalar(select(Theme).where(Theme.code == "tourism")))
    db.session.commit()
    found = {
        row["Name"]: row
        for row in as_dicts(read_csv(client.get("/insight/exports/authorities.csv")))
    }
    assert set(found) == {
        "Gobierno Regional de Tacna",
        "Generalitat Valenciana",
        "Región de Arica",
        "Municipio de Tijuana",
    }
    valencia = found["Generalitat Valenciana"]
    assert valencia["Kind"] == "Region, state or province"
    assert (valencia["Country"], valencia["Subdivision code"]) == ("Spain", "ES-V")
    assert valencia["Status"] == "Verified"
    assert valencia["Programmes"] == "IURC"
    assert valencia["Themes"] == "Tourism"
    assert valencia["Members"] == "1"
    assert valencia["Languages"] == "es"
    assert found["Municipio de Tijuana"]["Status"] == "Waiting for verification"
    assert found["Municipio de Tijuana"]["Verified"] == ""
    title, rows = read_xlsx(client.get("/insight/exports/authorities.xlsx?status=pending"))
    assert title == "Authorities"
    assert [row["Name"] for row in as_dicts(rows)] == ["Municipio de Tijuana"]
    eu = as_dicts(read_csv(client.get("/insight/exports/authorities.csv?side=EU")))
    assert [row["Name"] for row in eu] == ["Generalitat Valenciana"]
    chile = as_dicts(read_csv(client.get("/insight/exports/authorities.csv?country=CL")))
    assert [row["Name"] for row in chile] == ["Región de Arica"]


# Matches with their stages -----------------------------------------------------------------------


def test_matches_with_their_stages(client, world):
    found = as_dicts(read_csv(client.get("/insight/exports/matches.csv")))
    assert [int(row["ID"]) for row in found] == [world["connected"].id, world["waiting"].id]
    connected, waiting = found
    assert {connected["First authority"], connected["Second authority"]} == {
        "Gobierno Regional de Tacna",
        "Generalitat Valenciana",
    }
    assert connected["Status"] == "Connected"
    assert (connected["First authority's answer"], connected["Second authority's answer"]) == (
        "Accepted",
        "Accepted",
    )
    assert connected["Stage reached"] == "Met"
    assert connected["Introduced"]
    assert connected["Met (first reported)"]
    assert connected["Agreement signed (first reported)"] == ""
    assert connected["Score"] == "0.8"
    assert waiting["Status"] == "Waiting for answers"
    assert waiting["Stage reached"] == ""
    assert waiting["Address"] == f"http://localhost/matches/{world['waiting'].id}"

    title, rows = read_xlsx(client.get("/insight/exports/matches.xlsx?status=connected"))
    assert title == "Matches"
    (only,) = as_dicts(rows)
    assert only["Stage reached"] == "Met"
    assert isinstance(only["Met (first reported)"], datetime)
    assert only["Score"] == 0.8
    # Either authority on the side: the LAC-only pair is not an EU pair.
    eu = as_dicts(read_csv(client.get("/insight/exports/matches.csv?side=EU")))
    assert [int(row["ID"]) for row in eu] == [world["connected"].id]


# The activity log ------------------------------------------------------------------------------


def test_the_activity_log_in_both_formats(client, world):
    found = as_dicts(read_csv(client.get("/insight/exports/activity.csv")))
    assert [int(row["ID"]) for row in found] == sorted(int(row["ID"]) for row in found)
    published = [row for row in found if row["Action"] == "submission.publish"]
    assert len(published) == 2
    assert published[0]["What"] == "approved and published it"
    assert published[0]["Who"] == "Coordinadora Exportaciones"
    assert published[0]["About"] == "submission"
    assert published[0]["To"] == "published"
    stage = next(row for row in found if row["Action"] == "match.report_stage")
    assert stage["Comment"] == "Nos reunimos en Lima."
    assert stage["About (ID)"] == str(world["connected"].id)

    only = as_dicts(read_csv(client.get("/insight/exports/activity.csv?action=submission.publish")))
    assert {row["Action"] for row in only} == {"submission.publish"}
    subject = as_dicts(read_csv(client.get("/insight/exports/activity.csv?action=match")))
    assert {row["Action"].split(".")[0] for row in subject} == {"match"}
    assert subject
    matches = as_dicts(read_csv(client.get("/insight/exports/activity.csv?subject=match")))
    assert {row["About"] for row in matches} == {"match"}
    title, rows = read_xlsx(client.get("/insight/exports/activity.xlsx?subject=match"))
    assert title == "Activity log"
    assert len(rows) == len(matches) + 1
    assert isinstance(as_dicts(rows)[0]["When"], datetime)
    # The period: nothing happened in 2020 (the header alone).
    header = read_csv(client.get("/insight/exports/activity.csv"))[0]
    assert read_csv(client.get("/insight/exports/activity.csv?date_to=2020-12-31")) == [header]


# Who may export, and in which language ---------------------------------------------------------


def test_only_coordinators_export(app, world):
    anonymous = app.test_client()
    member = signed_in(app, world["members"][world["tacna"]])
    for name in exports.DATASETS:
        for fmt in exports.FORMATS:
            path = f"/insight/exports/{name}.{fmt}"
            response = anonymous.get(path)
            assert response.status_code == 302
            assert response.location.startswith("/login?")
            assert member.get(path).status_code == 403
    with pytest.raises(NotAllowed):
        exports.export_rows(world["members"][world["tacna"]], "practices", InsightFilters())


def test_headers_and_labels_are_in_the_readers_language(app, world):
    spanish = make_coordinator(language="es")
    rows = read_csv(signed_in(app, spanish).get("/insight/exports/practices.csv?state=published"))
    assert rows[0][:6] == ["ID", "Título", "Resumen", "Estado", "Idioma", "Autoridad"]
    assert rows[1][3] == "Publicada"
    assert rows[1][6] == "Perú"
    response = signed_in(app, spanish).get("/insight/exports/practices.xlsx")
    assert read_xlsx(response)[1][0][1] == "Título"
    assert "attachment" in response.headers["Content-Disposition"]
    assert (
        f"exchange-practices-{utcnow().date().isoformat()}.xlsx"
        in response.headers["Content-Disposition"]
    )


# Formulas ----------------------------------------------------------------------------------------


def test_formulas_are_made_harmless(app, world):
    member = world["members"][world["tacna"]]
    evil = make_submission(
        member,
        title='=HYPERLINK("http://evil.example","click")',
        summary="+1+1",
        lessons="@SUM(A1)",
    )
    at(evil, created_at=day("2025-01-01"))
    other = make_authority(name="-2+3 Municipio", country="BO", subdivision=None)
    client = signed_in(app, world["coordinator"])

    practices = as_dicts(read_csv(client.get("/insight/exports/practices.csv")))
    row = next(r for r in practices if r["ID"] == str(evil.id))
    assert row["Title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Summary"] == "'+1+1"
    authorities = as_dicts(read_csv(client.get("/insight/exports/authorities.csv")))
    assert next(r for r in authorities if r["ID"] == str(other.id))["Name"] == "'-2+3 Municipio"
    # Numbers are not touched.
    assert row["ID"] == str(evil.id)

    response = client.get("/insight/exports/practices.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    response.close()
    cells = {cell.value: cell for row in workbook.active.iter_rows() for cell in row}
    cell = cells['=HYPERLINK("http://evil.example","click")']
    assert cell.data_type == "s"  # a text, not a formula
    assert cells["+1+1"].data_type == "s"

    assert exports.neutralise("=1+2") == "'=1+2"
    assert exports.neutralise("\t=1") == "'\t=1"
    assert exports.neutralise("Tacna = agua") == "Tacna = agua"


# Streaming in bounded memory -------------------------------------------------------------------


def _many_practices(authority: Authority, count: int) -> None:
    """`count` draft practices of `authority`, written in bulk (through the services they would
    take minutes), each with a text and a theme."""
    now = utcnow()
    submission, revision = Submission.__table__, Revision.__table__
    ids = db.session.scalars(
        insert(submission).returning(submission.c.id, sort_by_parameter_order=True),
        [
            {
                "kind": "practice",
                "authority_id": authority.id,
                "state": "draft",
                "created_at": now,
                "state_changed_at": now,
                "updated_at": now,
            }
            for _ in range(count)
        ],
    ).all()
    revisions = db.session.scalars(
        insert(revision).returning(revision.c.id, sort_by_parameter_order=True),
        [
            {
                "submission_id": i,
                "number": 1,
                "language": "es",
                "title": f"Práctica número {i} sobre gestión del agua en zonas áridas",
                "summary": "Riego por goteo, organización de regantes y asistencia técnica. " * 3,
                "created_at": now,
                "updated_at": now,
            }
            for i in ids
        ],
    ).all()
    theme = db.session.scalar(select(Theme.id).where(Theme.code == "water-management"))
    db.session.execute(
        insert(revision_theme), [{"revision_id": r, "theme_id": theme} for r in revisions]
    )
    db.session.execute(
        update(submission)
        .where(submission.c.authority_id == authority.id)
        .values(
            working_revision_id=select(revision.c.id)
            .where(revision.c.submission_id == submission.c.id)
            .scalar_subquery()
        )
    )
    db.session.commit()


LARGE = 20_000


def test_a_large_export_streams_in_bounded_memory(app):
    authority = make_authority(name="Autoridad con muchas prácticas")
    client = signed_in(app, make_coordinator())
    _many_practices(authority, LARGE)
    # Once, for what every first export loads (the statements, the country names…).
    warm = client.get("/insight/exports/practices.csv")
    assert sum(chunk.count(b"\r\n") for chunk in warm.response) == LARGE + 1
    warm.close()

    response = client.get("/insight/exports/practices.csv")
    assert response.is_streamed
    assert response.headers.get("Content-Length") is None
    read = {"bytes": 0, "lines": 0, "chunks": 0}
    tracemalloc.start()
    try:
        for chunk in response.response:
            read["bytes"] += len(chunk)
            read["lines"] += chunk.count(b"\r\n")
            read["chunks"] += 1
        response.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read["lines"] == LARGE + 1
    assert read["chunks"] > LARGE // exports.BATCH_SIZE  # sent as it was read
    # A list of every row would hold at least an object per cell (an empty text is 49 bytes),
    # and more than the text of the rows (a CSV of 8 MB here): streaming them takes a fraction
    # of either at its peak, whatever the number of rows.
    holding_at_least = LARGE * len(exports.DATASETS["practices"].columns) * sys.getsizeof("")
    assert read["bytes"] > 6_000_000
    assert peak < holding_at_least / 4, (peak, holding_at_least)
    assert peak < read["bytes"] / 2, (peak, read["bytes"])


def test_the_pipeline_page_offers_the_matches_export(client, world):
    page = client.get("/brokerage/pipeline").get_data(as_text=True)
    assert 'href="/insight/exports/matches.csv"' in page
    assert 'href="/insight/exports/matches.xlsx"' in page


def test_an_xlsx_is_sent_from_a_temporary_file_that_goes(client, world):
    response = client.get("/insight/exports/practices.xlsx")
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    assert body.startswith(b"PK")  # a zip, as every XLSX
    response.close()
    # A response dropped unsent closes (and so deletes) its file when collected, without a
    # warning (which the tests would turn into an error).
    dropped = client.get("/insight/exports/ideas.xlsx")
    assert dropped.status_code == 200
    del dropped
    gc.collect()

    sent = tempfile.TemporaryFile()  # noqa: SIM115 (closed by what is tested)
    sent.write(b"x" * 100_000)
    sent.seek(0)
    download = exports.TemporaryDownload(sent, block=30_000)
    assert [len(block) for block in download] == [30_000, 30_000, 30_000, 10_000]
    download.close()
    assert sent.closed
    unsent = tempfile.TemporaryFile()  # noqa: SIM115 (closed by what is tested)
    exports.TemporaryDownload(unsent)  # dropped at once
    gc.collect()
    assert unsent.closed
