"""The directory of verified authorities and their public pages: filters, the search by name,
pages, published items, languages, who never appears, and that no private field reaches any
public page (directory, authority pages, programme pages, the feed)."""

import re
from html import unescape

import pytest
from sqlalchemy import event, select

from exchange.authorities.services import (
    ProfileChanges,
    reject_authority,
    request_to_join,
    update_profile,
)
from exchange.catalogue.services import forget_filter_options
from exchange.directory import services
from exchange.directory.services import DirectoryFilters, search_directory
from exchange.extensions import db
from exchange.matching import services as matching_services
from exchange.programmes.services import forget_figures
from exchange.reference.models import Programme, Theme
from exchange.submissions import services as submission_services
from exchange.submissions.models import CoOwner
from tests.factories import (
    idea_content,
    log_in,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_submission,
    make_user,
    practice_content,
)

pytestmark = pytest.mark.usefixtures("reference")


@pytest.fixture(autouse=True)
def _fresh_caches():
    """The filters offer the countries of this test's authorities; the figures are this
    test's."""
    forget_filter_options()
    forget_figures()


def theme_id(code):
    return db.session.scalar(select(Theme.id).where(Theme.code == code))


def programme_id(code):
    return db.session.scalar(select(Programme.id).where(Programme.code == code))


def profile(authority, *, programmes=(), themes=(), description="", website=None):
    """Fill the authority's public profile through the real service."""
    update_profile(
        make_coordinator(),
        authority,
        ProfileChanges(
            name=authority.name,
            kind=authority.kind.value,
            country_code=authority.country_code,
            subdivision_code=authority.subdivision_code,
            website=website,
            description=description,
            description_language="es",
            languages=authority.languages,
            programme_ids=[programme_id(code) for code in programmes],
            theme_ids=[theme_id(code) for code in themes],
            border_area_ids=[],
            match_capacity=authority.match_capacity,
        ),
    )
    db.session.commit()
    return authority


def page_of(client, address, **headers):
    response = client.get(address, headers=headers)
    assert response.status_code == 200, address
    return response.get_data(as_text=True)


def listed(html) -> list[str]:
    """The names in the directory's table, in order."""
    return [
        unescape(name) for name in re.findall(r"<a href=\"/authorities/\d+\"><strong>([^<]+)", html)
    ]


@pytest.fixture
def world():
    tacna = profile(
        make_authority(name="Gobierno Regional de Tacna", country="PE", subdivision="PE-TAC"),
        programmes=("INNOVACT",),
        themes=("water-management", "agri-food"),
    )
    sao_paulo = profile(
        make_authority(
            name="Prefeitura de São Paulo", country="BR", subdivision="BR-SP", kind="municipality"
        ),
        programmes=("IURC",),
        themes=("sustainable-mobility",),
    )
    madrid = profile(
        make_authority(name="Comunidad de Madrid", country="ES", subdivision="ES-MD"),
        programmes=("IURC", "INNOVACT"),
        themes=("water-management",),
    )
    agency = profile(
        make_authority(name="Agencia Nacional", country="CL", subdivision=None, kind="agency"),
        themes=("tourism",),
    )
    assert {theme.code for theme in tacna.themes} == {"water-management", "agri-food"}
    return {"tacna": tacna, "sao_paulo": sao_paulo, "madrid": madrid, "agency": agency}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Agencia Nacional", "Comunidad de Madrid", "Gobierno Regional de Tacna",
              "Prefeitura de São Paulo"]),
        ("?country=PE", ["Gobierno Regional de Tacna"]),
        ("?country=PE&country=BR", ["Gobierno Regional de Tacna", "Prefeitura de São Paulo"]),
        ("?side=EU", ["Comunidad de Madrid"]),
        ("?side=LAC", ["Agencia Nacional", "Gobierno Regional de Tacna",
                       "Prefeitura de São Paulo"]),
        ("?kind=municipality", ["Prefeitura de São Paulo"]),
        ("?kind=agency&side=LAC", ["Agencia Nacional"]),
        ("?theme={water-management}", ["Comunidad de Madrid", "Gobierno Regional de Tacna"]),
        ("?programme={IURC}", ["Comunidad de Madrid", "Prefeitura de São Paulo"]),
        ("?programme={IURC}&theme={water-management}", ["Comunidad de Madrid"]),
        ("?programme={EU-MX-DIALOGUE}", []),
        # The search by name: every word, any case, with or without accents.
        ("?q=tacna", ["Gobierno Regional de Tacna"]),
        ("?q=SAO+paulo", ["Prefeitura de São Paulo"]),
        ("?q=São", ["Prefeitura de São Paulo"]),
        ("?q=regional+madrid", []),
        ("?q=de", ["Comunidad de Madrid", "Gobierno Regional de Tacna",
                   "Prefeitura de São Paulo"]),
        ("?q=de&side=EU", ["Comunidad de Madrid"]),
    ],
)  # fmt: skip
def test_filters_and_search(client, world, query, expected):
    query = re.sub(r"\{([^}]+)\}", lambda m: str(theme_id(m[1]) or programme_id(m[1])), query)
    html = page_of(client, f"/authorities/{query}")
    assert listed(html) == expected
    if query:
        assert f"{len(expected)} authorit" in html
    assert "not recognised" not in html


def test_the_filters_are_labelled_and_keep_their_values(client, world):
    madrid_theme = theme_id("water-management")
    html = page_of(client, f"/authorities/?q=madrid&side=EU&theme={madrid_theme}")
    for name in ("q", "country", "side", "kind", "theme", "programme"):
        assert re.search(rf'<label [^>]*for="(filter-)?{name}"', html), name
    assert 'value="madrid"' in html
    assert '<option value="EU" selected>' in html
    assert f'<option value="{madrid_theme}" selected>' in html
    # Each active filter can be removed on its own.
    assert f'href="/authorities/?q=madrid&amp;theme={madrid_theme}"' in html
    assert listed(html) == ["Comunidad de Madrid"]


def test_unknown_filter_values_are_left_out_with_a_warning(client, world):
    html = page_of(client, "/authorities/?country=XX&kind=castle&theme=999999&programme=abc")
    assert "Some filters in the address were not recognised; they are left out." in html
    assert len(listed(html)) == 4


def test_the_directory_is_paginated(client):
    for number in range(services.PAGE_SIZE + 3):
        make_authority(name=f"Ciudad {number:03d}")
    first = page_of(client, "/authorities/")
    assert listed(first) == [f"Ciudad {n:03d}" for n in range(services.PAGE_SIZE)]
    assert "Page 1 of 2." in first
    assert 'href="/authorities/?page=2" rel="next"' in first
    second = page_of(client, "/authorities/?page=2")
    assert listed(second) == [
        f"Ciudad {n:03d}" for n in range(services.PAGE_SIZE, services.PAGE_SIZE + 3)
    ]
    assert 'rel="prev"' in second
    # A page past the last shows the last; a search keeps its words from page to page.
    assert listed(page_of(client, "/authorities/?page=99")) == listed(second)
    searched = page_of(client, "/authorities/?q=ciudad")
    assert 'href="/authorities/?q=ciudad&amp;page=2"' in searched


def test_names_sort_as_people_read_them():
    for name in ("Ávila", "Avilés", "avenida", "Zaragoza", "Écija"):
        make_authority(name=name, country="ES", subdivision=None)
    result = search_directory(DirectoryFilters())
    assert [entry.name for entry in result.entries] == [
        "avenida",
        "Ávila",
        "Avilés",
        "Écija",
        "Zaragoza",
    ]


def test_pending_and_rejected_authorities_never_appear(app, client, world):
    pending = make_authority(name="Municipalidad Pendiente", verified=False)
    rejected = make_authority(name="Municipalidad Rechazada", verified=False)
    reject_authority(make_coordinator(), rejected, "Duplicada.")
    db.session.commit()
    profile(pending, programmes=("IURC",), themes=("water-management",))
    outsider = app.test_client()
    log_in(outsider, make_member(world["tacna"]))
    for reader in (client, outsider):
        for query in ("", "?q=municipalidad", "?country=PE", f"?programme={programme_id('IURC')}"):
            html = page_of(reader, f"/authorities/{query}")
            assert "Pendiente" not in html, query
            assert "Rechazada" not in html, query
        for authority in (pending, rejected):
            assert reader.get(f"/authorities/{authority.id}").status_code == 404
    assert "4 verified authorities" in page_of(client, "/authorities/")
    # Their members still see their own profile (not a public page).
    member = app.test_client()
    log_in(member, make_member(pending))
    assert member.get(f"/authorities/{pending.id}").status_code == 200
    assert "Pendiente" not in page_of(member, "/authorities/")


def test_published_items_are_counted_and_shown(client, world):
    tacna_member = make_member(world["tacna"])
    reviewer = make_coordinator()
    practice = make_submission(tacna_member, state="published", reviewer=reviewer, title="Riego")
    make_submission(tacna_member, state="published", reviewer=reviewer, title="Segunda práctica")
    idea = make_submission(tacna_member, kind="idea", state="published", reviewer=reviewer)
    make_submission(tacna_member, state="draft", title="Borrador de Tacna")
    make_submission(tacna_member, state="archived", reviewer=reviewer, title="Archivada")
    make_submission(tacna_member, kind="idea", state="closed", reviewer=reviewer, title="Cerrada")
    # An idea of Madrid's that Tacna co-owns counts for both.
    madrid_member = make_member(world["madrid"])
    shared = submission_services.create_submission(
        madrid_member, "idea", idea_content(title="Idea compartida")
    )
    co_owner = submission_services.invite_co_owner(madrid_member, shared, world["tacna"].id)
    submission_services.answer_co_owner_invitation(tacna_member, co_owner, accept=True)
    db.session.commit()
    submission_services.submit(madrid_member, shared)
    submission_services.publish(reviewer, shared)
    db.session.commit()
    assert db.session.get(CoOwner, co_owner.id).status == "accepted"

    counts = {
        entry.name: (entry.practices, entry.ideas)
        for entry in search_directory(DirectoryFilters()).entries
    }
    assert counts == {
        "Agencia Nacional": (0, 0),
        "Comunidad de Madrid": (0, 1),
        "Gobierno Regional de Tacna": (2, 2),
        "Prefeitura de São Paulo": (0, 0),
    }
    row = re.search(
        r"Gobierno Regional de Tacna</strong>.*?</tr>", page_of(client, "/authorities/"), re.S
    )
    assert "2 practices" in row.group(0)
    assert "2 ideas" in row.group(0)

    html = page_of(client, f"/authorities/{world['tacna'].id}")
    titles = [unescape(t) for t in re.findall(r'<h3 class="h5 mb-1"><a [^>]*>([^<]+)</a>', html)]
    assert titles == [
        "Segunda práctica",
        "Riego",
        "Idea compartida",
        idea.published_revision.title,
    ]
    assert f'href="/practices/{practice.id}"' in html
    for hidden in ("Borrador de Tacna", "Archivada", "Cerrada"):
        assert hidden not in html


def test_an_authority_page_lists_its_newest_items_only(client, world, monkeypatch):
    member = make_member(world["agency"])
    reviewer = make_coordinator()
    for number in range(4):
        make_submission(member, state="published", reviewer=reviewer, title=f"Práctica {number}")
    monkeypatch.setattr(services, "ITEMS_SHOWN", 3)
    items = services.public_items(world["agency"])
    assert [line.title for line in items.practices] == ["Práctica 3", "Práctica 2", "Práctica 1"]
    assert items.practice_count == 4


def test_the_public_profile_shows_its_public_fields(client, world):
    tacna = profile(
        world["tacna"],
        programmes=("INNOVACT",),
        themes=("water-management",),
        description="Región del sur del Perú, en la frontera con Chile.",
        website="https://www.regiontacna.gob.pe",
    )
    html = page_of(client, f"/authorities/{tacna.id}")
    assert "Gobierno Regional de Tacna" in html
    assert "Tacna, Peru" in html
    assert "Region, state or province" in html
    assert "Región del sur del Perú, en la frontera con Chile." in html
    assert 'href="https://www.regiontacna.gob.pe"' in html
    assert "INNOVACT" in html
    assert "Water management" in html or "Water" in html


@pytest.mark.parametrize(
    ("language", "country", "region", "kind"),
    [
        ("en", "Spain", "Madrid", "Region, state or province"),
        ("es", "España", "Madrid", None),
        ("pt", "Espanha", "Madrid", None),
    ],
)
def test_the_directory_speaks_the_readers_language(client, world, language, country, region, kind):
    html = page_of(client, "/authorities/?side=EU", **{"Accept-Language": language})
    assert f'<html lang="{language}">' in html
    row = re.search(r"Comunidad de Madrid</strong>.*?</tr>", html, re.S).group(0)
    assert f">{country}<" in row
    assert region in row
    if kind:
        assert kind in row
    # Theme labels in the reader's language.
    label = db.session.scalar(
        select(getattr(Theme, f"label_{language}")).where(Theme.code == "water-management")
    )
    assert label in unescape(row)


def test_a_page_costs_the_same_few_queries_whatever_its_size(client):
    def statements(address):
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page_of(client, address)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    authorities = [make_authority(name=f"Ciudad {n}") for n in range(3)]
    for authority in authorities:
        profile(authority, programmes=("IURC",), themes=("water-management", "tourism"))
    statements("/authorities/")  # the filter choices are read once a minute
    small = statements("/authorities/")
    more = [make_authority(name=f"Pueblo {n}") for n in range(20)]
    for authority in more:
        profile(authority, programmes=("IURC", "INNOVACT"), themes=("water-management",))
    large = statements("/authorities/")
    assert large == small
    assert large <= 4, large  # names, their rows, their themes, their counts


# Nothing private on any public page -------------------------------------------------------------

MARKERS = {
    "member name": "Zzmembername Qqprivate",
    "member e-mail": "zz-member-address@private.example",
    "second member e-mail": "zz-second-member@private.example",
    "join request": "ZZ join request message",
    "joiner name": "Zzjoiner Qqprivate",
    "draft title": "ZZ draft title",
    "submitted title": "ZZ submitted title",
    "revision under review": "ZZ revision under review",
    "rejected title": "ZZ rejected title",
    "review comment": "ZZ review comment",
    "interest message": "ZZ interest message",
    "match note": "ZZ coordinator note",
    "decline reason": "ZZ decline reason",
    "pending authority": "ZZ Pending Authority",
    "rejected authority": "ZZ Rejected Authority",
    "rejection reason": "ZZ rejection reason",
    "pending member": "zz-pending-member@private.example",
}


def test_no_private_field_reaches_a_public_page(app, client, world):
    tacna = world["tacna"]
    madrid = world["madrid"]
    reviewer = make_coordinator()
    member = make_member(tacna, name=MARKERS["member name"], email=MARKERS["member e-mail"])
    make_member(tacna, email=MARKERS["second member e-mail"])
    joiner = make_user(name=MARKERS["joiner name"])
    request_to_join(joiner, tacna.id, MARKERS["join request"])
    db.session.commit()

    public = make_submission(member, state="published", reviewer=reviewer, title="Riego público")
    idea = make_submission(member, kind="idea", state="published", reviewer=reviewer)
    make_submission(member, state="draft", title=MARKERS["draft title"])
    make_submission(member, kind="idea", state="submitted", title=MARKERS["submitted title"])
    make_submission(member, state="rejected", reviewer=reviewer, title=MARKERS["rejected title"])
    changes = make_submission(member, state="submitted", title="Cambios pedidos")
    submission_services.request_changes(reviewer, changes, MARKERS["review comment"])
    # The published practice is being revised: the public keeps seeing the published text.
    submission_services.save_content(
        member, public, practice_content(title=MARKERS["revision under review"])
    )
    submission_services.submit(member, public)
    madrid_member = make_member(madrid)
    submission_services.express_interest(madrid_member, idea, MARKERS["interest message"])
    db.session.commit()
    make_match(tacna, madrid, note=MARKERS["match note"], state="connected")
    declined = make_match(world["sao_paulo"], madrid, note=MARKERS["match note"])
    matching_services.answer_match(
        make_member(madrid), declined, accept=False, reason=MARKERS["decline reason"]
    )
    pending = make_authority(name=MARKERS["pending authority"], verified=False)
    profile(pending, programmes=("INNOVACT",), themes=("water-management",))
    make_member(pending, email=MARKERS["pending member"])
    rejected = make_authority(name=MARKERS["rejected authority"], verified=False)
    reject_authority(reviewer, rejected, MARKERS["rejection reason"])
    db.session.commit()

    programme_codes = db.session.scalars(select(Programme.code)).all()
    pages = [
        "/authorities/",
        "/authorities/?q=zz",
        "/authorities/?country=PE",
        f"/authorities/?programme={programme_id('INNOVACT')}",
        f"/authorities/?theme={theme_id('water-management')}",
        f"/authorities/{tacna.id}",
        f"/authorities/{madrid.id}",
        "/programmes/",
        *(f"/programmes/{code}" for code in programme_codes),
        "/feeds/latest.atom",
        "/feeds/latest.atom?programme=INNOVACT",
        "/feeds/latest.atom?theme=water-management&language=es",
        "/catalogue/",
    ]
    bystander = app.test_client()
    log_in(bystander, make_member(world["agency"]))
    readers = {"a visitor": client, "another authority's member": bystander}
    for reader_name, reader in readers.items():
        for address in pages:
            text = unescape(page_of(reader, address))
            for what, marker in MARKERS.items():
                assert marker.casefold() not in text.casefold(), (reader_name, address, what)
    # Not vacuous: the pages do show the public side of the same rows.
    assert "Riego público" in unescape(page_of(client, f"/authorities/{tacna.id}"))
    assert "Riego público" in unescape(page_of(client, "/programmes/INNOVACT"))
    assert "Riego público" in unescape(page_of(client, "/feeds/latest.atom"))
    assert "Gobierno Regional de Tacna" in page_of(client, "/authorities/?q=tacna")
    # The page of an authority that is not public does not exist for them.
    for authority in (pending, rejected):
        assert bystander.get(f"/authorities/{authority.id}").status_code == 404
        assert client.get(f"/authorities/{authority.id}").status_code == 404
