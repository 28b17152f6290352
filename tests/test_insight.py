"""The coordinators' dashboard: every chart's data on a small known dataset, its filters, the
page's tables, each chart's SVG and CSV, and who may see them."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from flask_babel import format_date
from sqlalchemy import select, update

from exchange.authorities.models import Authority
from exchange.database import utcnow
from exchange.extensions import db
from exchange.insight import services
from exchange.insight.charts import CHARTS, cooperation_map
from exchange.insight.services import InsightFilters, Period, period_bounds
from exchange.matching import services as matching
from exchange.matching.models import Stage
from exchange.notifications.models import Notification, NotificationStatus
from exchange.reference.countries import Side
from exchange.reference.models import Objective, Programme, Theme
from exchange.workflow import KIND_LABELS, STATE_LABELS, Kind, State
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_proposal,
    make_submission,
)

pytestmark = pytest.mark.usefixtures("reference")

ALL_TIME = InsightFilters()


# Helpers ---------------------------------------------------------------------------------------


def at(model_object, **moments) -> None:
    """Set the object's timestamps (the services stamp everything with now)."""
    model = type(model_object)
    db.session.execute(update(model).where(model.id == model_object.id).values(**moments))
    db.session.commit()
    db.session.expire_all()


def day(text: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(f"{text}T{hour:02d}:00:00+00:00")


def programme(code: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def theme_id(code: str) -> int:
    return db.session.scalar(select(Theme.id).where(Theme.code == code))


def objective_id(code: str) -> int:
    return db.session.scalar(select(Objective.id).where(Objective.code == code))


class _Tables(HTMLParser):
    """Each table with an id: its caption, its header cells (with their scope) and its rows."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table = self._cell = self._row = None
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(
                attrs["id"], {"caption": "", "head": [], "rows": [], "scopes": []}
            )
        elif self._table is None:
            return
        elif tag in ("thead", "tbody", "caption"):
            self._in = tag
        elif tag == "tr" and self._in == "tbody":
            self._row = []
            self._table["rows"].append(self._row)
        elif tag in ("th", "td"):
            self._cell = []
            self._table["scopes"].append((self._in, tag, attrs.get("scope")))

    def handle_endtag(self, tag):
        if self._table is None:
            return
        if tag in ("th", "td") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if self._in == "thead":
                self._table["head"].append(text)
            elif self._row is not None:
                self._row.append(text)
            self._cell = None
        elif tag == "caption":
            self._in = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._table is not None and self._in == "caption":
            self._table["caption"] += data.strip()


def tables(page: str) -> dict[str, dict]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets then read the accents as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


# The authorities of every test: two in Peru and one in Chile (LAC), one in Spain and one in France
# (EU), and one in Mexico waiting for verification.


@pytest.fixture
def places():
    found = {
        "tacna": make_authority(name="Gobierno Regional de Tacna"),
        "moquegua": make_authority(name="Gobierno Regional de Moquegua", subdivision="PE-MOQ"),
        "arica": make_authority(name="Región de Arica", country="CL", subdivision=None),
        "valencia": make_authority(name="Generalitat Valenciana", country="ES", subdivision="ES-V"),
        "lyon": make_authority(name="Métropole de Lyon", country="FR", subdivision=None),
        "pending": make_authority(name="Municipio pendiente", country="MX", subdivision=None),
    }
    found["pending"].status = "pending"
    found["pending"].verified_at = None
    db.session.commit()
    return found


@pytest.fixture
def members(places):
    return {name: make_member(authority) for name, authority in places.items()}


@pytest.fixture
def coordinator():
    return make_coordinator(name="Coordinadora")


# The periods -----------------------------------------------------------------------------------


def test_the_period_presets_have_known_bounds():
    today = date(2026, 3, 15)
    assert period_bounds(Period.LAST_30_DAYS, today) == (date(2026, 2, 14), today)
    assert period_bounds(Period.LAST_90_DAYS, today) == (date(2025, 12, 16), today)
    # Whole months: the chart's first month is not cut.
    assert period_bounds(Period.LAST_12_MONTHS, today) == (date(2025, 4, 1), today)
    assert period_bounds(Period.THIS_YEAR, today) == (date(2026, 1, 1), today)
    assert period_bounds(Period.LAST_YEAR, today) == (date(2025, 1, 1), date(2025, 12, 31))
    assert period_bounds(Period.ALL, today) == (None, None)
    assert period_bounds(Period.LAST_12_MONTHS, date(2026, 12, 31))[0] == date(2026, 1, 1)
    # Both ends are whole UTC days.
    filters = InsightFilters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    assert filters.start == day("2026-01-01", 0)
    assert filters.end == day("2026-02-01", 0)


# Practices and ideas per month -----------------------------------------------------------------


@pytest.fixture
def items(members):
    """Two practices of March 2025 (LAC published, EU submitted), an idea of May 2025 (LAC,
    draft, no objective), and a practice of December 2024."""
    found = {
        "published": make_submission(members["tacna"], state="published"),
        "submitted": make_submission(members["valencia"], state="submitted", language="es"),
        "idea": make_submission(members["tacna"], kind="idea"),
        "old": make_submission(members["arica"]),
    }
    at(found["published"], created_at=day("2025-03-10"))
    at(found["submitted"], created_at=day("2025-03-31", 23))
    at(found["idea"], created_at=day("2025-05-02"))
    at(found["old"], created_at=day("2024-12-31", 23))
    return found


FIRST_HALF_2025 = InsightFilters(date_from=date(2025, 1, 1), date_to=date(2025, 6, 30))


def test_submissions_are_counted_per_month_type_and_state(items):
    rows = services.submissions_by_month(FIRST_HALF_2025)
    assert rows == [
        ("2025-03", Kind.PRACTICE, State.SUBMITTED, 1),
        ("2025-03", Kind.PRACTICE, State.PUBLISHED, 1),
        ("2025-05", Kind.IDEA, State.DRAFT, 1),
    ]
    # Every month of the period on the chart's axis, the empty ones too.
    assert services.month_range(FIRST_HALF_2025, rows, date(2026, 1, 1)) == [
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-04",
        "2025-05",
        "2025-06",
    ]
    everything = services.submissions_by_month(ALL_TIME)
    assert sum(row.count for row in everything) == 4
    assert everything[0] == ("2024-12", Kind.PRACTICE, State.DRAFT, 1)


def test_submissions_follow_the_side_and_the_programme(items):
    eu = services.submissions_by_month(
        InsightFilters(side=Side.EU, date_from=date(2025, 1, 1), date_to=date(2025, 6, 30))
    )
    assert eu == [("2025-03", Kind.PRACTICE, State.SUBMITTED, 1)]
    # The practices serve INNOVACT-1; the idea serves no objective.
    innovact = services.submissions_by_month(InsightFilters(programme_id=programme("INNOVACT").id))
    assert {(row.month, row.kind) for row in innovact} == {
        ("2024-12", Kind.PRACTICE),
        ("2025-03", Kind.PRACTICE),
    }
    assert services.submissions_by_month(InsightFilters(programme_id=programme("IURC").id)) == []


# The review queue ------------------------------------------------------------------------------


def test_the_queue_is_grouped_by_days_waiting(members):
    now = utcnow()
    for days, state, author in (
        (2, "submitted", "tacna"),
        (10, "in_review", "tacna"),
        (40, "submitted", "valencia"),
        (3, "published", "tacna"),  # not waiting
    ):
        item = make_submission(members[author], state=state)
        at(item, submitted_at=now - timedelta(days=days))
    counts = [bucket.count for bucket in services.queue_age(ALL_TIME, now)]
    assert counts == [1, 1, 0, 1]
    assert [bucket.low for bucket in services.queue_age(ALL_TIME, now)] == [None, 7, 14, 30]
    # Entered the queue in the last twenty days: the forty-day-old item is not counted.
    recent = InsightFilters(date_from=(now - timedelta(days=20)).date())
    assert [b.count for b in services.queue_age(recent, now)] == [1, 1, 0, 0]
    assert [b.count for b in services.queue_age(InsightFilters(side=Side.EU), now)] == [0, 0, 0, 1]


# Authorities on the map ------------------------------------------------------------------------


def test_verified_authorities_are_counted_per_country(places, members):
    rows = services.authorities_by_country(ALL_TIME)
    assert [(r.country_code, r.side, r.count) for r in rows] == [
        ("PE", Side.LAC, 2),
        ("CL", Side.LAC, 1),
        ("FR", Side.EU, 1),
        ("ES", Side.EU, 1),
    ]
    assert rows[1].country == "Chile"
    eu = services.authorities_by_country(InsightFilters(side=Side.EU))
    assert [r.country_code for r in eu] == ["FR", "ES"]
    # Taking part in a programme: declared on the profile, or through a public item.
    places["lyon"].programmes.append(programme("IURC"))
    db.session.commit()
    make_submission(members["arica"], state="published")  # serves INNOVACT-1
    assert [
        r.country_code
        for r in services.authorities_by_country(InsightFilters(programme_id=programme("IURC").id))
    ] == ["FR"]
    assert [
        r.country_code
        for r in services.authorities_by_country(
            InsightFilters(programme_id=programme("INNOVACT").id)
        )
    ] == ["CL"]
    # Verified in the period.
    at(places["tacna"], verified_at=day("2020-05-05"))
    old = services.authorities_by_country(InsightFilters(date_to=date(2020, 12, 31)))
    assert [(r.country_code, r.count) for r in old] == [("PE", 1)]


# Practices by theme and by objective -------------------------------------------------------------


@pytest.fixture
def practices(members):
    """Public practices: Tacna's on water (INNOVACT-1), Valencia's on water and tourism (IURC-1).
    Not counted: a draft, an archived practice, a published idea."""
    found = {
        "tacna": make_submission(members["tacna"], state="published"),
        "valencia": make_submission(
            members["valencia"],
            state="published",
            theme_ids=[theme_id("water-management"), theme_id("tourism")],
            objective_ids=[objective_id("IURC-1")],
        ),
        "draft": make_submission(members["tacna"]),
        "archived": make_submission(members["tacna"], state="archived"),
        "idea": make_submission(members["tacna"], kind="idea", state="published"),
    }
    at(found["valencia"], first_published_at=day("2025-06-01"))
    return found


def test_public_practices_are_counted_per_theme(practices):
    rows = services.practices_by_theme(ALL_TIME)
    assert len(rows) == db.session.query(Theme).count()  # every theme, the empty ones too
    assert rows[0] == ("water-management", "Water management and sanitation", 2)
    counts = {row.code: row.count for row in rows}
    assert counts["tourism"] == 1
    assert sum(counts.values()) == 3
    innovact = {
        r.code: r.count
        for r in services.practices_by_theme(InsightFilters(programme_id=programme("INNOVACT").id))
    }
    assert (innovact["water-management"], innovact["tourism"]) == (1, 0)
    eu = {r.code: r.count for r in services.practices_by_theme(InsightFilters(side=Side.EU))}
    assert (eu["water-management"], eu["tourism"]) == (1, 1)
    # First published in the period: only Valencia's in June 2025.
    june = InsightFilters(date_from=date(2025, 6, 1), date_to=date(2025, 6, 30))
    assert {r.code: r.count for r in services.practices_by_theme(june)}["water-management"] == 1


def test_public_practices_are_counted_per_objective(practices):
    rows = services.practices_by_objective(ALL_TIME)
    counts = {row.code: row.count for row in rows}
    assert counts["INNOVACT-1"] == 1
    assert counts["IURC-1"] == 1
    assert sum(counts.values()) == 2
    assert len(rows) == db.session.query(Objective).count()
    only_iurc = services.practices_by_objective(InsightFilters(programme_id=programme("IURC").id))
    assert {row.programme for row in only_iurc} == {"IURC"}
    assert {row.code: row.count for row in only_iurc}["IURC-1"] == 1
    lac = {r.code: r.count for r in services.practices_by_objective(InsightFilters(side=Side.LAC))}
    assert (lac["INNOVACT-1"], lac["IURC-1"]) == (1, 0)


# The match funnel ------------------------------------------------------------------------------


@pytest.fixture
def pairs(places, members, coordinator):
    """Tacna–Valencia connected, then met and signed an agreement; Arica–Valencia offered and
    waiting; Tacna–Lyon proposed; Tacna–Arica (same side) dismissed; Moquegua–Lyon matched by
    hand."""
    connected = make_match(
        places["tacna"], places["valencia"], coordinator=coordinator, state="connected"
    )
    for stage in (Stage.MET, Stage.AGREEMENT):
        matching.report_stage(members["tacna"], connected, stage)
        db.session.commit()
    waiting = make_match(places["arica"], places["valencia"], coordinator=coordinator)
    proposed = make_proposal(places["tacna"], places["lyon"])
    dismissed = make_proposal(places["tacna"], places["arica"], status="dismissed", same_side=True)
    by_hand = matching.create_match(coordinator, places["moquegua"], places["lyon"])
    db.session.commit()
    return {
        "connected": connected,
        "waiting": waiting,
        "proposed": proposed,
        "dismissed": dismissed,
        "by_hand": by_hand,
    }


def _funnel(filters) -> dict:
    return {
        step.key: (step.count, step.from_previous, step.from_start)
        for step in services.match_funnel(filters)
    }


def test_the_funnel_counts_each_step_and_its_conversion(pairs):
    steps = services.match_funnel(ALL_TIME)
    assert [step.key for step in steps] == [
        "proposed",
        "approved",
        "connected",
        "met",
        "agreement",
        "joint_project",
    ]
    funnel = _funnel(ALL_TIME)
    # Four proposals (two became matches) and one match by hand.
    assert funnel["proposed"] == (5, None, 1.0)
    assert funnel["approved"] == (3, pytest.approx(0.6), pytest.approx(0.6))
    assert funnel["connected"] == (1, pytest.approx(1 / 3), pytest.approx(0.2))
    assert funnel["met"] == (1, 1.0, pytest.approx(0.2))
    assert funnel["agreement"] == (1, 1.0, pytest.approx(0.2))
    assert funnel["joint_project"] == (0, 0.0, 0.0)
    # The pipeline page counts the same stages after the introduction.
    from exchange.matching.console_services import funnel as pipeline_funnel

    reached = {row.stage: row.reached for row in pipeline_funnel()}
    assert reached[Stage.MET] == funnel["met"][0]
    assert reached[Stage.INTRODUCED] == funnel["connected"][0]


def test_the_funnel_follows_the_side_the_programme_and_the_period(pairs, places):
    # The dismissed pair is on the LAC side only.
    assert _funnel(InsightFilters(side=Side.EU))["proposed"][0] == 4
    assert _funnel(InsightFilters(side=Side.LAC))["proposed"][0] == 5
    places["lyon"].programmes.append(programme("IURC"))
    db.session.commit()
    iurc = _funnel(InsightFilters(programme_id=programme("IURC").id))
    assert (iurc["proposed"][0], iurc["approved"][0], iurc["connected"][0]) == (2, 1, 0)
    # A pair enters when it is proposed: the connected pair's proposal is from 2024.
    at(pairs["connected"].proposal, computed_at=day("2024-02-02"))
    this_year = InsightFilters(date_from=date(2025, 1, 1))
    assert (_funnel(this_year)["proposed"][0], _funnel(this_year)["connected"][0]) == (4, 0)
    old = InsightFilters(date_to=date(2024, 12, 31))
    assert [count for count, *_ in _funnel(old).values()] == [1, 1, 1, 1, 1, 0]


# E-mail delivery -------------------------------------------------------------------------------


def _notification(user, kind, status, created_at):
    notification = Notification(
        user=user,
        kind=kind,
        to_address=user.email,
        status=status,
        created_at=created_at,
        sent_at=created_at if status == NotificationStatus.SENT else None,
    )
    db.session.add(notification)
    return notification


def test_email_delivery_by_kind_and_status(members):
    db.session.execute(Notification.__table__.delete())
    now = utcnow()
    tacna, valencia = members["tacna"], members["valencia"]
    for status in ("sent", "sent", "sent", "failed", "skipped"):
        _notification(
            tacna, "matching.proposed", NotificationStatus(status), now - timedelta(days=1)
        )
    _notification(tacna, "matching.proposed", NotificationStatus.PENDING, now - timedelta(days=5))
    _notification(
        valencia, "matching.proposed", NotificationStatus.PENDING, now - timedelta(hours=2)
    )
    _notification(valencia, "auth.confirm_email", NotificationStatus.SENT, now - timedelta(days=2))
    _notification(valencia, "auth.confirm_email", NotificationStatus.FAILED, day("2024-01-01"))
    db.session.commit()

    rows = services.email_delivery(ALL_TIME, now)
    assert [row.kind for row in rows] == ["matching.proposed", "auth.confirm_email"]
    proposed, confirm = rows
    assert (proposed.sent, proposed.failed, proposed.pending, proposed.skipped) == (3, 1, 2, 1)
    assert proposed.total == 7
    assert proposed.failure_rate == pytest.approx(0.25)
    assert proposed.oldest_waiting_days == 5
    assert confirm.label == "Confirming your e-mail address"
    assert (confirm.failure_rate, confirm.oldest_waiting) == (0.5, None)
    totals = services.delivery_totals(rows, now)
    assert (totals.total, totals.failed, totals.sent) == (9, 2, 4)
    assert totals.failure_rate == pytest.approx(2 / 6)
    assert totals.oldest_waiting_days == 5

    eu = services.email_delivery(InsightFilters(side=Side.EU), now)
    assert [(r.kind, r.total) for r in eu] == [("auth.confirm_email", 2), ("matching.proposed", 1)]
    recent = services.email_delivery(
        InsightFilters(date_from=(now - timedelta(days=3)).date()), now
    )
    assert {r.kind: r.total for r in recent} == {"matching.proposed": 6, "auth.confirm_email": 1}
    nobody = services.email_delivery(InsightFilters(programme_id=programme("IURC").id), now)
    assert nobody == []


# The page, its tables, its SVG and CSV -----------------------------------------------------------


def test_only_coordinators_see_the_dashboard(app, members, coordinator):
    anonymous = app.test_client()
    member = signed_in(app, members["tacna"])
    for path in (
        "/insight/",
        "/insight/charts/authorities.svg",
        "/insight/charts/funnel.csv",
    ):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response.location.startswith("/login?")
        assert member.get(path).status_code == 403
    assert signed_in(app, coordinator).get("/insight/").status_code == 200


def test_every_chart_has_a_table_with_a_caption_and_headers(app, items, pairs, coordinator):
    page = signed_in(app, coordinator).get("/insight/?period=all").get_data(as_text=True)
    found = tables(page)
    assert set(found) == {f"table-{key}" for key in CHARTS}
    for key, chart in CHARTS.items():
        table = found[f"table-{key}"]
        assert table["caption"] == str(chart.title)
        assert table["head"] == [str(column.label) for column in chart.columns]
        assert all(scope == "col" for part, tag, scope in table["scopes"] if part == "thead")
        body = [(tag, scope) for part, tag, scope in table["scopes"] if part == "tbody"]
        assert all(scope == "row" for tag, scope in body if tag == "th")
        # Each chart is an image described by its text, with its CSV beside it.
        assert f'src="/insight/charts/{key}.svg?period=all"' in page
        assert f'href="/insight/charts/{key}.csv?period=all"' in page
        assert f'aria-describedby="chart-{key}-desc"' in page
    funnel = found["table-funnel"]["rows"]
    assert funnel[0] == ["Proposed", "5", "—", "100 %"]
    assert funnel[1] == ["Approved", "3", "60 %", "60 %"]
    submissions = found["table-submissions"]["rows"]
    assert ["Mar 2025", "Good practice", "Published", "1"] in submissions
    assert "<script" not in page.split("<main", 1)[1].split("</main>")[0]


def test_the_filters_apply_to_every_chart(app, items, pairs, practices, coordinator):
    client = signed_in(app, coordinator)
    page = client.get("/insight/?side=EU&period=all").get_data(as_text=True)
    found = tables(page)
    assert [row[0] for row in found["table-authorities"]["rows"]] == ["France", "Spain"]
    assert {row[2] for row in found["table-submissions"]["rows"]} == {"Submitted", "Published"}
    assert found["table-funnel"]["rows"][0][1] == "4"
    assert "European Union" in page
    # Every chart's and export's address carries the same filters.
    for key in CHARTS:
        assert f"/insight/charts/{key}.svg?period=all&amp;side=EU" in page
    assert "/insight/exports/practices.xlsx?period=all&amp;side=EU" in page
    # The default period is the last twelve months: the 2024–2025 items are out of it.
    default = tables(client.get("/insight/").get_data(as_text=True))
    months = {row[0] for row in default["table-submissions"]["rows"]}
    assert months == {format_date(utcnow().date(), "MMM y")}  # this month's practices only


def test_dates_replace_the_period_and_bad_ones_are_refused(app, items, coordinator):
    client = signed_in(app, coordinator)
    page = client.get("/insight/?period=all&date_from=2025-03-01&date_to=2025-03-31")
    found = tables(page.get_data(as_text=True))
    assert [row[:3] for row in found["table-submissions"]["rows"]] == [
        ["Mar 2025", "Good practice", "Submitted"],
        ["Mar 2025", "Good practice", "Published"],
    ]
    assert "Mar 1, 2025 to Mar 31, 2025" in page.get_data(as_text=True)
    bad = client.get("/insight/?date_from=2025-03-31&date_to=2025-03-01&side=XX")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "This date is before the first one." in text
    assert "Choose from the list." in text
    # The SVG and the CSV refuse them too.
    assert client.get("/insight/charts/queue.svg?side=XX").status_code == 400
    refused = client.get("/insight/charts/queue.csv?date_from=yesterday")
    assert refused.status_code == 302
    assert refused.location.startswith("/insight/?")


def test_a_charts_csv_is_exactly_its_data(app, items, pairs, coordinator):
    client = signed_in(app, coordinator)
    response = client.get("/insight/charts/submissions.csv?period=all&side=LAC")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["Month", "Type", "State", "Items"]
    expected = services.submissions_by_month(InsightFilters(side=Side.LAC))
    assert rows[1:] == [
        [row.month, str(KIND_LABELS[row.kind]), str(STATE_LABELS[row.state]), str(row.count)]
        for row in expected
    ]
    assert len(rows) == 4  # December, March (published), May
    funnel = read_csv(client.get("/insight/charts/funnel.csv?period=all"))
    assert funnel[0] == ["Step", "Pairs", "Of the previous step", "Of those proposed"]
    assert funnel[1:3] == [["Proposed", "5", "", "1.0"], ["Approved", "3", "0.6", "0.6"]]
    themes = read_csv(client.get("/insight/charts/themes.csv?period=all"))
    assert len(themes) == 1 + db.session.query(Theme).count()


def test_the_svg_is_accessible_offline_and_in_the_readers_language(app, places, members):
    spanish = make_coordinator(language="es")
    client = signed_in(app, spanish)
    response = client.get("/insight/charts/authorities.svg?period=all")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    # A document of its own: its inline styles, nothing else.
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script" not in policy
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg")
    assert re.search(r"<title>[^<]+</title>\s*<desc>[^<]+</desc>", svg)
    assert 'lang="es"' in svg
    assert "<script" not in svg
    assert not re.search(r'(href|src)="https?://', svg)
    # The legend and the countries in Spanish.
    assert "Unión Europea" in svg
    assert "América Latina y el Caribe" in svg
    assert "España: 1" in svg
    assert "Perú: 2" in svg
    for key in CHARTS:
        chart = client.get(f"/insight/charts/{key}.svg")
        assert chart.status_code == 200, key
        assert "<desc>" in chart.get_data(as_text=True), key


def test_the_map_keeps_only_the_countries_that_can_take_part():
    svg = cooperation_map()
    assert 'class="pe country' in svg
    assert 'class="es country' in svg
    assert 'class="us country' not in svg
    assert 'class="cn country' not in svg
    assert len(svg) < 300_000  # the whole world is more than 1 MB


def test_nothing_for_the_filters_is_said(app, coordinator):
    client = signed_in(app, coordinator)
    page = client.get("/insight/").get_data(as_text=True)
    assert "Nothing for these filters." in page
    assert "No message is waiting to be sent." in page
    for key in ("submissions", "authorities", "email"):
        svg = client.get(f"/insight/charts/{key}.svg").get_data(as_text=True)
        assert "Nothing for these filters" in svg, key
    for key in ("queue", "themes", "objectives", "funnel"):  # zeros, drawn
        assert client.get(f"/insight/charts/{key}.svg").status_code == 200, key


def test_the_dashboard_is_in_the_coordination_menu(app, coordinator, members):
    page = signed_in(app, coordinator).get("/review/").get_data(as_text=True)
    assert 'href="/insight/"' in page
    assert 'href="/insight/"' not in signed_in(app, members["tacna"]).get("/").get_data(
        as_text=True
    )


def test_pending_authorities_stay_off_the_map(places):
    assert db.session.get(Authority, places["pending"].id).status == "pending"
    assert "MX" not in {row.country_code for row in services.authorities_by_country(ALL_TIME)}
