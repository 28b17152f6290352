"""The Atom feed: valid Atom read back as XML, what it holds and in which order, its entries'
fields, stable ids, RFC 3339 dates, filters, bad filters, its size, and caching headers."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from exchange.catalogue.bulk import seed_catalogue
from exchange.catalogue.services import forget_filter_options
from exchange.extensions import db
from exchange.feeds.services import FEED_SIZE
from exchange.reference.models import Objective, Theme
from exchange.submissions.models import Submission
from tests.conftest import BASE_URL
from tests.factories import make_authority, make_coordinator, make_member, make_submission

pytestmark = pytest.mark.usefixtures("reference")

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# RFC 3339 date-time: full date, "T", full time with optional fraction, and a zone.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def theme_id(code):
    return db.session.scalar(select(Theme.id).where(Theme.code == code))


def objective_id(code):
    return db.session.scalar(select(Objective.id).where(Objective.code == code))


def read_feed(client, address="/feeds/latest.atom", **headers) -> ET.Element:
    response = client.get(address, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)  # noqa: S314 (well-formed XML, or this raises)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(feed: ET.Element) -> list[ET.Element]:
    return feed.findall(f"{ATOM}entry")


def titles(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in entries(feed)]


@pytest.fixture
def world():
    tacna = make_member(make_authority(name="Gobierno Regional de Tacna"))
    madrid = make_member(
        make_authority(name="Comunidad de Madrid", country="ES", subdivision="ES-MD")
    )
    reviewer = make_coordinator()

    def publish(who, title, kind="practice", state="published", **fields):
        return make_submission(
            who, kind=kind, state=state, reviewer=reviewer, title=title, **fields
        )

    items = {
        "riego": publish(tacna, "Riego tecnificado"),
        "ruta": publish(tacna, "Ruta andina", kind="idea"),
        "madrid": publish(
            madrid,
            "Water for Madrid",
            language="en",
            theme_ids=[theme_id("sustainable-mobility"), theme_id("water-management")],
            objective_ids=[objective_id("IURC-1")],
        ),
        "portugues": publish(
            madrid,
            "Gestão da água",
            language="pt",
            theme_ids=[theme_id("tourism")],
            objective_ids=[objective_id("INNOVACT-3")],
        ),
    }
    publish(tacna, "Borrador", state="draft")
    publish(tacna, "En revisión", state="submitted")
    publish(tacna, "Archivada", state="archived")
    publish(tacna, "Cerrada", kind="idea", state="closed")
    # Publication order, oldest first: riego, ruta, madrid, portugues (one second apart).
    base = datetime.now().astimezone() - timedelta(hours=1)
    for seconds, key in enumerate(("riego", "ruta", "madrid", "portugues")):
        db.session.execute(
            update(Submission)
            .where(Submission.id == items[key].id)
            .values(
                published_at=base + timedelta(seconds=seconds),
                first_published_at=base + timedelta(seconds=seconds) - timedelta(days=3),
            )
        )
    db.session.commit()
    return items


def test_the_feed_is_atom_with_everything_a_reader_needs(client, world):
    feed = read_feed(client)
    assert feed.findtext(f"{ATOM}title") == "Exchange: newly published practices and ideas"
    assert feed.findtext(f"{ATOM}id") == f"{BASE_URL}/feeds/latest.atom"
    assert RFC3339.match(feed.findtext(f"{ATOM}updated"))
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": f"{BASE_URL}/feeds/latest.atom", "alternate": f"{BASE_URL}/catalogue/"}
    assert feed.get(XML_LANG) == "en"

    # Public items only, most recently published first.
    assert titles(feed) == [
        "Gestão da água",
        "Water for Madrid",
        "Ruta andina",
        "Riego tecnificado",
    ]
    (entry,) = [e for e in entries(feed) if e.findtext(f"{ATOM}title") == "Water for Madrid"]
    item = world["madrid"]
    url = f"{BASE_URL}/practices/{item.id}"
    assert entry.findtext(f"{ATOM}id") == url
    link = entry.find(f"{ATOM}link")
    assert (link.get("href"), link.get("rel"), link.get("hreflang")) == (url, "alternate", "en")
    summary = entry.find(f"{ATOM}summary")
    assert summary.text == "Gestión del agua para la agricultura en el desierto."
    assert summary.get("type") == "text"
    author = entry.find(f"{ATOM}author")
    assert author.findtext(f"{ATOM}name") == "Comunidad de Madrid"
    assert author.findtext(f"{ATOM}uri") == f"{BASE_URL}/authorities/{item.authority_id}"
    categories = [(c.get("term"), c.get("label")) for c in entry.findall(f"{ATOM}category")]
    labels = dict(db.session.execute(select(Theme.code, Theme.label_en)).all())
    assert sorted(categories) == [
        ("sustainable-mobility", labels["sustainable-mobility"]),
        ("water-management", labels["water-management"]),
    ]
    # The text is in the item's language; the labels around it in the reader's.
    assert entry.find(f"{ATOM}title").get(XML_LANG) == "en"
    (spanish,) = [e for e in entries(feed) if e.findtext(f"{ATOM}title") == "Riego tecnificado"]
    assert spanish.find(f"{ATOM}title").get(XML_LANG) == "es"
    assert spanish.find(f"{ATOM}summary").get(XML_LANG) == "es"
    assert spanish.find(f"{ATOM}link").get("hreflang") == "es"
    assert link.get("type") == "text/html"
    published = datetime.fromisoformat(entry.findtext(f"{ATOM}published"))
    updated = datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
    assert published.tzinfo is not None
    assert updated - published == timedelta(days=3)
    # The feed is as new as its newest entry.
    newest = entries(feed)[0].findtext(f"{ATOM}updated")
    assert feed.findtext(f"{ATOM}updated") == newest
    # Ideas link to their own pages.
    (idea,) = [e for e in entries(feed) if e.findtext(f"{ATOM}title") == "Ruta andina"]
    assert idea.findtext(f"{ATOM}id") == f"{BASE_URL}/ideas/{world['ruta'].id}"
    for entry in entries(feed):
        for name in ("published", "updated"):
            assert RFC3339.match(entry.findtext(f"{ATOM}{name}")), name
        assert entry.findtext(f"{ATOM}id").startswith(BASE_URL + "/")


def test_links_use_the_public_address_whatever_the_host(client, world):
    """The ids are the items' addresses on BASE_URL: the same through any host name."""
    feed = read_feed(client)
    other = client.get("/feeds/latest.atom", base_url="http://127.0.0.1:5000")
    assert other.status_code == 200
    again = ET.fromstring(other.data)  # noqa: S314
    ids = [entry.findtext(f"{ATOM}id") for entry in entries(feed)]
    assert [entry.findtext(f"{ATOM}id") for entry in entries(again)] == ids
    assert "127.0.0.1" not in other.get_data(as_text=True)


def test_entry_ids_are_stable(client, world):
    first = [entry.findtext(f"{ATOM}id") for entry in entries(read_feed(client))]
    # A new revision published later moves the item up: same id, newer update.
    reviewer = make_coordinator()
    from exchange.submissions import services
    from tests.factories import practice_content

    riego = world["riego"]
    member = riego.authority.members[0]
    services.save_content(member, riego, practice_content(title="Riego tecnificado (2)"))
    services.submit(member, riego)
    services.publish(reviewer, riego)
    db.session.commit()
    feed = read_feed(client)
    assert titles(feed)[0] == "Riego tecnificado (2)"
    second = [entry.findtext(f"{ATOM}id") for entry in entries(feed)]
    assert sorted(second) == sorted(first)
    assert second[0] == f"{BASE_URL}/practices/{riego.id}"
    # The same item has the same id in a filtered feed, and the filtered feed an id of its own
    # whatever the order of its filters.
    filtered = read_feed(client, "/feeds/latest.atom?language=es&type=practice")
    assert [e.findtext(f"{ATOM}id") for e in entries(filtered)] == [second[0]]
    reordered = read_feed(client, "/feeds/latest.atom?type=practice&language=es&language=")
    assert reordered.findtext(f"{ATOM}id") == filtered.findtext(f"{ATOM}id")
    assert (
        filtered.findtext(f"{ATOM}id") == f"{BASE_URL}/feeds/latest.atom?language=es&type=practice"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?theme=water-management", ["Water for Madrid", "Riego tecnificado"]),
        ("?theme=tourism", ["Gestão da água", "Ruta andina"]),
        ("?theme=tourism&theme=sustainable-mobility",
         ["Gestão da água", "Water for Madrid", "Ruta andina"]),
        ("?programme=IURC", ["Water for Madrid"]),
        ("?programme=INNOVACT", ["Gestão da água", "Riego tecnificado"]),
        ("?programme=INNOVACT&theme=water-management", ["Riego tecnificado"]),
        ("?language=pt", ["Gestão da água"]),
        ("?language=en&language=pt", ["Gestão da água", "Water for Madrid"]),
        ("?type=idea", ["Ruta andina"]),
        ("?type=practice&language=es", ["Riego tecnificado"]),
        ("?programme=EU-MX-DIALOGUE", []),
        ("?objective=IURC-1", ["Water for Madrid"]),
        ("?objective=IURC-1&objective=INNOVACT-3", ["Gestão da água", "Water for Madrid"]),
        ("?country=ES", ["Gestão da água", "Water for Madrid"]),
        ("?side=LAC", ["Ruta andina", "Riego tecnificado"]),
        ("?border_area=PE-CL", ["Ruta andina"]),
        ("?country=PE&type=idea", ["Ruta andina"]),
        ("?theme=&programme=",
         ["Gestão da água", "Water for Madrid", "Ruta andina", "Riego tecnificado"]),
    ],
)  # fmt: skip
def test_filters(client, world, query, expected):
    feed = read_feed(client, f"/feeds/latest.atom{query}")
    assert titles(feed) == expected


def test_a_filtered_feed_says_what_it_holds(client, world):
    feed = read_feed(client, "/feeds/latest.atom?programme=IURC&theme=water-management")
    water = db.session.scalar(select(Theme.label_en).where(Theme.code == "water-management"))
    assert feed.findtext(f"{ATOM}title") == (
        "Exchange: newly published practices and ideas — International Urban and Regional "
        f"Cooperation (IURC), {water}"
    )
    self_link = next(link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert (
        self_link.get("href")
        == f"{BASE_URL}/feeds/latest.atom?theme=water-management&programme=IURC"
    )


def test_labels_follow_the_readers_language(client, world):
    feed = read_feed(client, "/feeds/latest.atom?theme=tourism", **{"Accept-Language": "es"})
    assert feed.get(XML_LANG) == "es"
    spanish = db.session.scalar(select(Theme.label_es).where(Theme.code == "tourism"))
    labels = {c.get("label") for e in entries(feed) for c in e.findall(f"{ATOM}category")}
    assert spanish in labels


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?theme=watr", "Unknown theme code: “watr”."),
        ("?theme=tourism&theme=nope&theme=zilch", "Unknown theme code: “nope”, “zilch”."),
        ("?programme=IURC&programme=iurc", "Unknown programme code: “iurc”."),
        ("?language=fr", "Unknown language: “fr” (use en, es or pt)."),
        ("?type=event", "Unknown type: “event” (use practice or idea)."),
        ("?objective=IURC-99", "Unknown objective code: “IURC-99”."),
        ("?border_area=XX-YY", "Unknown border area code: “XX-YY”."),
        (
            "?country=US",
            "Unknown country: “US” (use the two-letter ISO code of a country of "
            "the cooperation, such as MX or ES).",
        ),
        ("?side=eu", "Unknown side: “eu” (use EU or LAC)."),
    ],
)
def test_unknown_codes_are_refused_with_a_message(client, world, query, message):
    """A mistyped filter must not quietly give the whole feed: 400, and what was wrong."""
    response = client.get(f"/feeds/latest.atom{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).strip() == message


def test_a_very_long_unknown_code_is_not_echoed_whole(client, world):
    response = client.get("/feeds/latest.atom?theme=" + "x" * 5000)
    assert response.status_code == 400
    assert len(response.get_data(as_text=True)) < 200


def test_the_feed_holds_the_newest_fifty(client):
    seed_catalogue(FEED_SIZE + 5, seed=11)
    feed = read_feed(client)
    assert len(entries(feed)) == FEED_SIZE
    newest = db.session.scalars(
        select(Submission.id)
        .order_by(Submission.published_at.desc(), Submission.id.desc())
        .limit(FEED_SIZE)
    ).all()
    ids = [int(e.findtext(f"{ATOM}id").rsplit("/", 1)[1]) for e in entries(feed)]
    assert ids == newest


def test_an_empty_feed_is_valid(client, world):
    feed = read_feed(client, "/feeds/latest.atom?programme=EU-MX-DIALOGUE")
    assert entries(feed) == []
    assert RFC3339.match(feed.findtext(f"{ATOM}updated"))
    assert feed.findtext(f"{ATOM}id")


def test_readers_polling_get_304_when_nothing_changed(client, world):
    response = client.get("/feeds/latest.atom")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response.headers["Vary"]
    etag = response.headers["ETag"]
    last_modified = response.headers["Last-Modified"]
    assert client.get("/feeds/latest.atom", headers={"If-None-Match": etag}).status_code == 304
    response = client.get("/feeds/latest.atom", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304
    # Something new: a new ETag, and the whole feed again.
    make_submission(
        world["riego"].authority.members[0],
        state="published",
        reviewer=make_coordinator(),
        title="Nueva práctica",
    )
    response = client.get("/feeds/latest.atom", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert "Nueva práctica" in response.get_data(as_text=True)


def test_the_catalogue_and_the_programme_pages_point_to_the_feed(client, world):
    catalogue = client.get("/catalogue/").get_data(as_text=True)
    assert (
        '<link rel="alternate" type="application/atom+xml" href="/feeds/latest.atom"' in catalogue
    )
    programmes = client.get("/programmes/").get_data(as_text=True)
    assert 'type="application/atom+xml" href="/feeds/latest.atom"' in programmes
    # Every page's footer links the feed.
    assert 'href="/feeds/latest.atom" type="application/atom+xml"' in catalogue


def test_a_catalogue_search_links_the_feed_of_its_filters(client, world):
    forget_filter_options()  # this process's copy may hold an earlier test's reference data
    water = theme_id("water-management")
    page = client.get(f"/catalogue/?q=agua&theme={water}&country=ES&language=en")
    html = page.get_data(as_text=True)
    expected = "/feeds/latest.atom?theme=water-management&amp;country=ES&amp;language=en"
    assert f'<link rel="alternate" type="application/atom+xml" href="{expected}"' in html
    assert f'<a href="{expected}" type="application/atom+xml">' in html
    assert "the search words are not part of it" in html
    feed = read_feed(client, expected.replace("&amp;", "&"))
    assert titles(feed) == ["Water for Madrid"]
    assert feed.findtext(f"{ATOM}title").endswith("Spain, English")
    # Without filters, the page points to the whole feed and offers no "follow" link.
    html = client.get("/catalogue/?q=agua").get_data(as_text=True)
    assert 'href="/feeds/latest.atom" title="Newly published practices and ideas"' in html
    assert "Follow new items with these filters" not in html
