"""The public catalogue: who appears in it, every filter, sorting, pages, counts, bad addresses,
the page as a visitor reads it, related items, and the bulk seeding of a large catalogue."""

import itertools
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select, update

from exchange.catalogue import services
from exchange.catalogue.bulk import query_words, seed_catalogue
from exchange.catalogue.services import (
    Filters,
    Sort,
    forget_filter_options,
    related_items,
    search_catalogue,
)
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

pytestmark = pytest.mark.usefixtures("reference")


@pytest.fixture(autouse=True)
def _fresh_filter_options():
    """Each test has its own authorities: no filter choices kept from another test."""
    forget_filter_options()


def theme_id(code):
    return db.session.scalar(select(Theme.id).where(Theme.code == code))


def objective_id(code):
    return db.session.scalar(select(Objective.id).where(Objective.code == code))


def programme_id(code):
    return db.session.scalar(select(Programme.id).where(Programme.code == code))


def area_id(code):
    return db.session.scalar(select(BorderArea.id).where(BorderArea.code == code))


def titles(query="", sort=None, page=1, **filters):
    result = search_catalogue(Filters(query=query, **filters), sort, page)
    return [line.title for line in result.results]


def page_of(client, address):
    response = client.get(address)
    assert response.status_code == 200, address
    return response.get_data(as_text=True)


def shown_titles(html):
    return [unescape(t) for t in re.findall(r'<h3 class="h5 mb-1"><a [^>]*>([^<]+)</a>', html)]


@pytest.fixture
def world():
    """Authorities on both sides, and their members."""
    tacna = make_authority(name="Gobierno Regional de Tacna", country="PE", subdivision="PE-TAC")
    madrid = make_authority(name="Comunidad de Madrid", country="ES", subdivision="ES-MD")
    curitiba = make_authority(name="Prefeitura de Curitiba", country="BR", subdivision="BR-PR")
    return {
        "tacna": make_member(tacna),
        "madrid": make_member(madrid),
        "curitiba": make_member(curitiba),
    }


# Who is in the catalogue ------------------------------------------------------------------------


def test_only_published_practices_and_open_ideas_are_listed(world):
    author = world["tacna"]
    for state in ("draft", "submitted", "in_review", "changes_requested", "rejected"):
        make_submission(author, state=state, title=f"Práctica {state}")
        make_submission(author, kind="idea", state=state, title=f"Idea {state}")
    make_submission(author, state="archived", title="Práctica archivada")
    make_submission(author, kind="idea", state="archived", title="Idea archivada")
    make_submission(author, kind="idea", state="closed", title="Idea cerrada")
    make_submission(author, state="published", title="Práctica publicada")
    make_submission(author, kind="idea", state="published", title="Idea publicada")
    assert sorted(titles()) == ["Idea publicada", "Práctica publicada"]


def test_an_idea_past_its_date_leaves_before_the_nightly_closing(world):
    idea = make_submission(world["tacna"], kind="idea", state="published", title="Vencida")
    make_submission(world["tacna"], kind="idea", state="published", title="Abierta")
    # The closing task has not run yet: the item is still published, with a past date.
    db.session.execute(
        update(Submission)
        .where(Submission.id == idea.id)
        .values(open_until=date.today() - timedelta(days=1))
    )
    db.session.commit()
    assert titles() == ["Abierta"]


def test_a_pending_new_version_leaves_the_published_one_listed(world, client):
    author = world["tacna"]
    item = make_submission(
        author, state="published", title="Versión publicada", summary="Resumen publicado."
    )
    submission_services.save_content(
        author,
        item,
        practice_content(
            title="Versión en borrador",
            summary="Resumen del borrador.",
            theme_ids=[theme_id("tourism")],
        ),
    )
    submission_services.submit(author, item)
    db.session.commit()
    assert item.state == "submitted"
    html = page_of(client, "/catalogue/")
    assert shown_titles(html) == ["Versión publicada"]
    assert "Resumen publicado." in html
    assert "Versión en borrador" not in html
    assert "Resumen del borrador." not in html
    # Themes are those of the published version.
    assert titles(theme_ids=(theme_id("water-management"),)) == ["Versión publicada"]
    assert titles(theme_ids=(theme_id("tourism"),)) == []


# Filters ----------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(world):
    """Five public items spread over the filters."""
    water, tourism, ict = theme_id("water-management"), theme_id("tourism"), theme_id("ict")
    return {
        "riego": make_submission(
            world["tacna"],
            state="published",
            title="Riego en Tacna",
            theme_ids=[water],
            objective_ids=[objective_id("INNOVACT-1")],
        ),
        "ruta": make_submission(
            world["tacna"],
            kind="idea",
            state="published",
            title="Ruta Tacna–Arica",
            theme_ids=[tourism, water],
        ),
        "metro": make_submission(
            world["madrid"],
            state="published",
            language="en",
            title="Metro data portal",
            theme_ids=[ict],
            objective_ids=[objective_id("IURC-1")],
        ),
        "agua": make_submission(
            world["madrid"],
            state="published",
            title="Agua regenerada",
            theme_ids=[water],
            objective_ids=[objective_id("IURC-2")],
        ),
        "onibus": make_submission(
            world["curitiba"],
            state="published",
            language="pt",
            title="Ônibus elétricos",
            theme_ids=[ict, tourism],
            objective_ids=[objective_id("IURC-1"), objective_id("INNOV-AL-1")],
        ),
    }


def test_every_filter(catalogue):
    water, tourism = theme_id("water-management"), theme_id("tourism")
    cases = [
        ({"kinds": ("idea",)}, {"Ruta Tacna–Arica"}),
        ({"kinds": ("practice",)}, {"Riego en Tacna", "Metro data portal", "Agua regenerada",
                                    "Ônibus elétricos"}),
        ({"languages": ("en",)}, {"Metro data portal"}),
        ({"languages": ("pt",)}, {"Ônibus elétricos"}),
        ({"theme_ids": (tourism,)}, {"Ruta Tacna–Arica", "Ônibus elétricos"}),
        ({"objective_ids": (objective_id("IURC-1"),)}, {"Metro data portal", "Ônibus elétricos"}),
        ({"programme_ids": (programme_id("IURC"),)},
         {"Metro data portal", "Agua regenerada", "Ônibus elétricos"}),
        ({"programme_ids": (programme_id("INNOV-AL"),)}, {"Ônibus elétricos"}),
        ({"countries": ("PE",)}, {"Riego en Tacna", "Ruta Tacna–Arica"}),
        ({"countries": ("ES",)}, {"Metro data portal", "Agua regenerada"}),
        ({"sides": ("EU",)}, {"Metro data portal", "Agua regenerada"}),
        ({"sides": ("LAC",)}, {"Riego en Tacna", "Ruta Tacna–Arica", "Ônibus elétricos"}),
        ({"border_area_ids": (area_id("PE-CL"),)}, {"Ruta Tacna–Arica"}),
        ({"border_area_ids": (area_id("MX-GT"),)}, set()),
        ({"theme_ids": (water,), "countries": ("ES",)}, {"Agua regenerada"}),
    ]  # fmt: skip
    for filters, expected in cases:
        assert set(titles(**filters)) == expected, filters


def test_several_values_of_a_filter_mean_any_of_them(catalogue):
    assert set(titles(languages=("en", "pt"))) == {"Metro data portal", "Ônibus elétricos"}
    assert set(titles(countries=("ES", "BR"))) == {
        "Metro data portal",
        "Agua regenerada",
        "Ônibus elétricos",
    }
    ict, tourism = theme_id("ict"), theme_id("tourism")
    assert set(titles(theme_ids=(ict, tourism))) == {
        "Metro data portal",
        "Ruta Tacna–Arica",
        "Ônibus elétricos",
    }
    both = (objective_id("INNOVACT-1"), objective_id("INNOV-AL-1"))
    assert set(titles(objective_ids=both)) == {"Riego en Tacna", "Ônibus elétricos"}


def test_filters_combine_with_each_other_and_with_words(catalogue):
    water, ict = theme_id("water-management"), theme_id("ict")
    assert titles(theme_ids=(ict,), sides=("LAC",), languages=("pt",)) == ["Ônibus elétricos"]
    assert titles(theme_ids=(water,), kinds=("practice",), sides=("LAC",)) == ["Riego en Tacna"]
    assert titles(programme_ids=(programme_id("IURC"),), objective_ids=(
        objective_id("INNOVACT-1"),)) == []  # fmt: skip
    assert titles("tacna", kinds=("idea",)) == ["Ruta Tacna–Arica"]
    assert titles("regenerada", countries=("PE",)) == []
    assert titles("regenerada", countries=("ES",), theme_ids=(water,)) == ["Agua regenerada"]


def test_a_border_area_also_finds_the_items_of_its_authorities(world):
    tacna = world["tacna"].authority
    tacna.border_areas = [db.session.get(BorderArea, area_id("PE-CL"))]
    db.session.commit()
    make_submission(world["tacna"], state="published", title="Práctica de Tacna")
    make_submission(world["madrid"], state="published", title="Práctica de Madrid")
    assert titles(border_area_ids=(area_id("PE-CL"),)) == ["Práctica de Tacna"]


def test_a_co_owner_country_counts_for_an_idea(world):
    author = world["tacna"]
    idea = make_submission(author, kind="idea", title="Idea compartida")
    submission_services.invite_co_owner(author, idea, world["madrid"].authority_id)
    db.session.commit()
    (invitation,) = idea.co_owners
    submission_services.answer_co_owner_invitation(world["madrid"], invitation, accept=True)
    db.session.commit()
    coordinator = make_coordinator()
    submission_services.submit(author, idea)
    submission_services.publish(coordinator, idea)
    db.session.commit()
    assert titles(countries=("ES",)) == ["Idea compartida"]
    assert titles(sides=("EU",)) == ["Idea compartida"]


# Sorting, pages, counts -------------------------------------------------------------------------


def _published_in_order(author, names):
    """Items published one after the other, the first the oldest."""
    items = [make_submission(author, state="published", title=name) for name in names]
    base = date(2025, 1, 1)
    for offset, item in enumerate(items):
        db.session.execute(
            update(Submission)
            .where(Submission.id == item.id)
            .values(published_at=_at(base + timedelta(days=offset)))
        )
    db.session.commit()
    return items


def _at(day):
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_sorting(world):
    _published_in_order(world["tacna"], ["Banco de semillas", "Acueducto rural", "Ciclovía"])
    assert titles() == ["Ciclovía", "Acueducto rural", "Banco de semillas"]  # newest first
    assert titles(sort=Sort.NEWEST) == ["Ciclovía", "Acueducto rural", "Banco de semillas"]
    assert titles(sort=Sort.TITLE) == ["Acueducto rural", "Banco de semillas", "Ciclovía"]
    # Without words, "relevance" means the newest.
    assert search_catalogue(Filters(), Sort.RELEVANCE).sort == Sort.NEWEST
    assert search_catalogue(Filters(query="acueducto")).sort == Sort.RELEVANCE


def test_pages_and_counts(world, client):
    names = [f"Práctica {number:02d}" for number in range(1, services.PAGE_SIZE + 6)]
    _published_in_order(world["tacna"], names)
    first = search_catalogue(Filters())
    assert (first.total, first.more, first.pages, first.page) == (len(names), False, 2, 1)
    assert [line.title for line in first.results] == names[::-1][: services.PAGE_SIZE]
    second = search_catalogue(Filters(), page=2)
    assert [line.title for line in second.results] == names[::-1][services.PAGE_SIZE :]
    # Past the last page: the last page.
    assert search_catalogue(Filters(), page=99).page == 2

    html = page_of(client, "/catalogue/?page=2")
    assert f"{len(names)} results" in html
    assert re.search(r'<a class="page-link" href="[^"]*page=2"[^>]*aria-current="page"', html)
    assert 'rel="prev"' in html
    assert 'rel="next"' not in html
    assert shown_titles(html) == names[::-1][services.PAGE_SIZE :]
    assert f'<ol class="list-unstyled catalogue-results" start="{services.PAGE_SIZE + 1}">' in html


def test_the_count_stops_at_a_thousand(app):
    """A large catalogue, made by the bulk seeding (on this database): the count is capped,
    the pages stop at the fiftieth, and the last page says why."""
    assert seed_catalogue(services.COUNT_LIMIT + 5, seed=7) == services.COUNT_LIMIT + 5
    result = search_catalogue(Filters())
    assert (result.total, result.more) == (services.COUNT_LIMIT, True)
    assert result.pages == services.MAX_PAGE
    assert search_catalogue(Filters(), page=10_000).page == services.MAX_PAGE
    client = app.test_client()
    html = page_of(client, "/catalogue/?page=999")
    assert "More than 1,000 results" in html
    assert "Only the first 1,000 results are listed" in html
    assert len(shown_titles(html)) == services.PAGE_SIZE


def test_bulk_seeded_practices_are_complete_and_searchable(app):
    count = seed_catalogue(30, seed=3)
    assert count == 30
    practices = db.session.scalars(select(Submission)).all()
    assert len(practices) == 30
    for item in practices:
        assert item.state == "published"
        assert item.is_public
        revision = item.published_revision
        assert revision is item.working_revision
        assert revision.title
        assert revision.themes
        assert item.authority.is_verified
        assert item.authority.side in ("EU", "LAC")
        assert item.language == revision.language
    # Words of the catalogue find it, through the same index as published items.
    word = next(w for w in query_words(50, seed=3) if titles(w))
    assert all(titles(word))
    # Filters work on seeded items as on published ones.
    some = practices[0]
    (theme, *_) = some.published_revision.themes
    assert some.published_revision.title in titles(theme_ids=(theme.id,))
    # Again: more practices, the ids carry on.
    assert seed_catalogue(5, seed=4) == 5
    assert db.session.scalar(select(db.func.count()).select_from(Submission)) == 35


# The page ---------------------------------------------------------------------------------------


def test_a_result_line_shows_what_a_visitor_needs(world, client):
    long_summary = "Una palabra " * 60
    item = make_submission(
        world["tacna"],
        state="published",
        title="Riego tecnificado <en> Tacna",
        summary=long_summary,
        theme_ids=[theme_id("water-management"), theme_id("agri-food")],
    )
    html = page_of(client, "/catalogue/")
    assert f'href="/practices/{item.id}" lang="es">Riego tecnificado &lt;en&gt; Tacna</a>' in html
    assert "Good practice" in html
    assert "Gobierno Regional de Tacna" in html
    assert "Peru" in html
    assert "Spanish" in html
    assert "Water management and sanitation" in html
    assert "Agri-food and agriculture" in html
    shown = re.search(r'<p class="mb-2" lang="es">([^<]*)</p>', html).group(1)
    assert shown.endswith("…")
    assert len(shown) <= services.SUMMARY_LENGTH + 1
    assert item.published_at.date().isoformat() in html


def test_the_page_in_spanish_names_themes_in_spanish(world, client):
    make_submission(world["tacna"], state="published", title="Riego")
    client.set_cookie("lang", "es")
    html = page_of(client, "/catalogue/")
    assert "Gestión del agua y saneamiento" in html
    assert 'lang="es"' in html


def test_the_page_is_accessible_and_needs_no_script(catalogue, client):
    theme = db.session.scalar(db.select(Theme).order_by(Theme.position, Theme.id))
    html = page_of(client, f"/catalogue/?q=tacna&theme={theme.id}")
    assert 'role="search"' in html
    assert '<label class="form-label fw-semibold" for="q">' in html
    assert 'id="result-count" role="status"' in html
    # Every filter is a labelled group of checkboxes in a plain GET form.
    assert '<form method="get" action="/catalogue/"' in html
    for name in ("type", "theme", "programme", "objective", "side", "country", "border_area",
                 "language"):  # fmt: skip
        assert f'name="{name}"' in html
    for checkbox in re.findall(r'<input class="form-check-input" type="checkbox"[^>]*>', html):
        box_id = re.search(r'id="([^"]+)"', checkbox).group(1)
        assert f'<label class="form-check-label" for="{box_id}">' in html
    headings = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert headings[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings))
    # Content Security Policy: no inline script, style or event handler.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    # The chosen values stay chosen, and can be removed one by one.
    assert re.search(rf'name="theme" id="theme-{theme.id}" value="{theme.id}" checked', html)
    assert 'href="/catalogue/?q=tacna"' in html  # the search without its only filter


def test_bad_addresses_never_fail(catalogue, client):
    for address in (
        "/catalogue/?page=abc",
        "/catalogue/?page=-3",
        "/catalogue/?page=99999999999999999999",
        "/catalogue/?theme=abc&theme=999999",
        "/catalogue/?type=nothing&side=MARS&language=xx&country=ZZ",
        "/catalogue/?sort=bogus",
        "/catalogue/?q=" + "agua%20" * 500,
        "/catalogue/?q=%00%27%22%3C",
        "/catalogue/?programme=1e9&objective=&border_area=-1",
    ):
        response = client.get(address)
        assert response.status_code == 200, address
    html = page_of(client, "/catalogue/?theme=abc&side=MARS")
    assert "Some filters in the address were not recognised" in html
    assert len(shown_titles(html)) == 5  # the unknown values are ignored, not applied
    html = page_of(client, "/catalogue/")
    assert "not recognised" not in html


def test_no_match_says_so(catalogue, client):
    html = page_of(client, "/catalogue/?q=zzzyzx")
    assert "0 results" in html
    assert "Nothing matches this search." in html


def test_page_links_keep_the_search(world, client):
    _published_in_order(world["tacna"], [f"Riego {n:02d}" for n in range(services.PAGE_SIZE + 1)])
    html = page_of(client, "/catalogue/?q=riego&language=es&sort=title&_external=1")
    pages = html[html.index('aria-label="Pages of results"') :]
    assert 'href="/catalogue/?q=riego&amp;language=es&amp;sort=title&amp;page=2"' in pages
    assert "_external" not in pages  # only what the search form knows is carried over


# Related items -----------------------------------------------------------------------------------


def test_related_items_share_themes_most_shared_first(world):
    water, tourism, ict, food = (
        theme_id(c) for c in ("water-management", "tourism", "ict", "agri-food")
    )
    author = world["tacna"]
    item = make_submission(author, state="published", title="Riego", theme_ids=[water, food, ict])
    make_submission(author, state="published", title="Dos en común", theme_ids=[water, food])
    make_submission(author, state="published", title="Tres en común", theme_ids=[water, food, ict])
    make_submission(author, state="published", title="Uno en común", theme_ids=[ict, tourism])
    make_submission(author, state="published", title="Ninguno", theme_ids=[tourism])
    make_submission(author, state="draft", title="Borrador", theme_ids=[water, food, ict])
    make_submission(author, state="archived", title="Archivado", theme_ids=[water, food, ict])
    related = [line.title for line in related_items(item)]
    assert related == ["Tres en común", "Dos en común", "Uno en común"]
    assert [line.title for line in related_items(item, limit=2)] == related[:2]


def test_related_items_on_the_item_page(world, client):
    water = theme_id("water-management")
    item = make_submission(world["tacna"], state="published", title="Riego", theme_ids=[water])
    other = make_submission(world["madrid"], state="published", title="Agua", theme_ids=[water])
    html = page_of(client, f"/practices/{item.id}")
    section = html[html.index('id="related-heading"') :]
    assert f'href="/practices/{other.id}"' in section
    assert f'href="/practices/{item.id}"' not in section
    # The theme in common is marked in words, not by its colour only.
    assert 'Water management and sanitation<span class="visually-hidden"> (in common)' in section
    lonely = make_submission(
        world["curitiba"], state="published", title="Solo", theme_ids=[theme_id("blue-economy")]
    )
    assert 'id="related-heading"' not in page_of(client, f"/practices/{lonely.id}")


def test_the_filters_offer_the_reference_data_and_keep_it_a_minute(world):
    options = services.filter_options("es")
    assert [p.label for p in options.programmes] == [
        "Diálogo UE–México sobre política regional y urbana",
        "Cooperación Urbana y Regional Internacional (IURC)",
        "INNOV-AL",
        "INNOVACT",
    ]
    iurc = programme_id("IURC")
    assert [options.objective_codes[o.id] for o in options.objectives[iurc]] == ["IURC-1", "IURC-2"]
    water = theme_id("water-management")
    assert any(theme == (water, "Gestión del agua y saneamiento") for _, themes in
               options.theme_groups for theme in themes)  # fmt: skip
    assert options.countries == [("BR", "Brasil"), ("ES", "España"), ("PE", "Perú")]  # by name
    assert services.filter_options("es") is options  # kept
    make_member(make_authority(name="Ville de Lyon", country="FR", subdivision="FR-ARA"))
    assert "FR" not in dict(services.filter_options("es").countries)
    forget_filter_options()
    assert dict(services.filter_options("es").countries)["FR"] == "Francia"
