"""The programmes' public pages: every programme with its objectives, what counts in its live
figures (and what does not), its latest items, links to the catalogue, languages, and the cost
of the pages in queries."""

import re
import threading
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import event, select, update

from exchange.authorities.services import ProfileChanges, update_profile
from exchange.extensions import db
from exchange.programmes import services
from exchange.programmes.services import programme_figures
from exchange.reference.models import Objective, Programme
from exchange.submissions.models import Submission
from tests.factories import (
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_submission,
)

pytestmark = pytest.mark.usefixtures("reference")


@pytest.fixture(autouse=True)
def _fresh_figures():
    """Each test has its own rows: no figures kept from another test."""
    services.forget_figures()
    yield
    services.forget_figures()


def programme(code) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def objective(code) -> Objective:
    return db.session.scalar(select(Objective).where(Objective.code == code))


def join_programmes(authority, *codes):
    """The authority names these programmes in its profile (through the real service)."""
    update_profile(
        make_coordinator(),
        authority,
        ProfileChanges(
            name=authority.name,
            kind=authority.kind.value,
            country_code=authority.country_code,
            subdivision_code=authority.subdivision_code,
            website=authority.website,
            description=authority.description,
            description_language=authority.description_language,
            languages=authority.languages,
            programme_ids=[programme(code).id for code in codes],
            theme_ids=[],
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


def figures_on(html) -> list[tuple[str, str]]:
    """(number, label) of each figure shown, in order."""
    pairs = re.findall(
        r'<dt class="small fw-normal">(?:<a href="[^"]*">)?([^<]+)(?:</a>)?</dt>\s*'
        r'<dd class="fs-3 fw-bold mb-0">([^<]+)</dd>',
        html,
    )
    return [(number, unescape(label)) for label, number in pairs]


def result_titles(html) -> list[str]:
    return [unescape(t) for t in re.findall(r'<h3 class="h5 mb-1"><a [^>]*>([^<]+)</a>', html)]


@pytest.fixture
def world():
    """Tacna and Madrid take part in IURC and INNOVACT; Arica in IURC; Bologna in INNOVACT; a
    pending authority says it is in IURC."""
    tacna = join_programmes(make_authority(name="Tacna"), "IURC", "INNOVACT")
    madrid = join_programmes(
        make_authority(name="Madrid", country="ES", subdivision="ES-MD"), "IURC", "INNOVACT"
    )
    arica = join_programmes(make_authority(name="Arica", country="CL", subdivision="CL-AP"), "IURC")
    bologna = join_programmes(
        make_authority(name="Bologna", country="IT", subdivision="IT-BO"), "INNOVACT"
    )
    pending = join_programmes(make_authority(name="Pending", verified=False), "IURC")
    return {
        "tacna": make_member(tacna),
        "madrid": make_member(madrid),
        "arica": make_member(arica),
        "bologna": make_member(bologna),
        "pending": make_member(pending),
        "reviewer": make_coordinator(),
    }


def publish(world, who, title, objectives=("IURC-1",), kind="practice", state="published"):
    return make_submission(
        world[who],
        kind=kind,
        state=state,
        reviewer=world["reviewer"],
        title=title,
        objective_ids=[objective(code).id for code in objectives],
    )


def test_the_figures_count_only_what_is_public(world):
    publish(world, "tacna", "IURC practice")
    publish(world, "madrid", "Both programmes", objectives=("IURC-2", "INNOVACT-1"))
    publish(world, "arica", "IURC idea", kind="idea", objectives=("IURC-2",))
    # Not public: a draft, an item under review, a rejected, an archived and a closed one, and an
    # idea whose open-until date has passed (the nightly closing has not run yet).
    publish(world, "tacna", "Draft", state="draft")
    publish(world, "tacna", "Submitted", state="submitted")
    publish(world, "tacna", "Rejected", state="rejected")
    publish(world, "tacna", "Archived", state="archived")
    publish(world, "arica", "Closed", kind="idea", state="closed")
    expired = publish(world, "arica", "Expired idea", kind="idea")
    db.session.execute(
        update(Submission)
        .where(Submission.id == expired.id)
        .values(open_until=date.today() - timedelta(days=1))
    )
    db.session.commit()
    # Connections: both sides accepted, between two authorities of the programme.
    make_match(world["tacna"].authority, world["madrid"].authority, state="connected")
    # Not a connection of any programme: Arica (IURC) and Bologna (INNOVACT) share none. Not
    # connections: an offer not answered yet, and a declined one.
    make_match(world["arica"].authority, world["bologna"].authority, state="connected")
    make_match(world["tacna"].authority, world["arica"].authority, state="awaiting", same_side=True)
    make_match(world["madrid"].authority, world["arica"].authority, state="declined")

    figures = programme_figures()
    iurc = figures.of(programme("IURC").id)
    assert (iurc.authorities, iurc.practices, iurc.ideas, iurc.connections) == (3, 2, 1, 1)
    innovact = figures.of(programme("INNOVACT").id)
    assert (innovact.authorities, innovact.practices, innovact.ideas) == (3, 1, 0)
    assert innovact.connections == 1  # Tacna–Madrid: both are in INNOVACT too
    dialogue = figures.of(programme("EU-MX-DIALOGUE").id)
    assert (dialogue.authorities, dialogue.practices, dialogue.ideas, dialogue.connections) == (
        0,
        0,
        0,
        0,
    )
    # Per objective: the items that name it.
    assert figures.objectives[objective("IURC-1").id] == 1
    assert figures.objectives[objective("IURC-2").id] == 2  # the practice and the idea
    assert figures.objectives[objective("INNOVACT-1").id] == 1
    assert objective("INNOVACT-2").id not in figures.objectives


def test_the_programme_page_shows_figures_objectives_and_latest_items(client, world):
    first = publish(world, "tacna", "Agua para Tacna")
    publish(world, "madrid", "Madrid en bici", objectives=("IURC-2",))
    publish(world, "arica", "Ruta Tacna–Arica", kind="idea", objectives=("IURC-2",))
    publish(world, "bologna", "Bologna only INNOVACT", objectives=("INNOVACT-1",))
    publish(world, "tacna", "Borrador", state="draft")
    make_match(
        world["tacna"].authority, world["arica"].authority, state="connected", same_side=True
    )

    html = page_of(client, "/programmes/IURC")
    iurc = programme("IURC")
    assert f'<h1 class="page-title h2">{iurc.name_en}</h1>' in html
    assert iurc.description_en in html
    assert figures_on(html) == [
        ("3", "participating authorities"),
        ("2", "published good practices"),
        ("1", "project idea open to partners"),
        ("1", "connection made"),
    ]
    # The figures lead to what they count.
    assert f'href="/authorities/?programme={iurc.id}"' in html
    assert f'href="/catalogue/?programme={iurc.id}&amp;type=practice"' in html
    assert f'href="/catalogue/?programme={iurc.id}&amp;type=idea"' in html
    # Every objective, each a link to the catalogue filtered by it, with its count.
    for code, count in (("IURC-1", 1), ("IURC-2", 2)):
        goal = objective(code)
        assert goal.text_en in html
        link = re.search(
            rf'<a class="small" href="/catalogue/\?objective={goal.id}">([^<]+)</a>', html
        )
        assert link, code
        expected = "item" if count == 1 else "items"
        assert link.group(1) == f"{count} published {expected} for this objective"
    # The newest items of the programme, newest first; not the other programme's, not drafts.
    assert result_titles(html) == ["Ruta Tacna–Arica", "Madrid en bici", "Agua para Tacna"]
    assert f'href="/practices/{first.id}"' in html
    # An Atom feed of the programme, for browsers and feed readers.
    assert (
        '<link rel="alternate" type="application/atom+xml" href="/feeds/latest.atom?programme=IURC"'
        in html
    )


def test_the_latest_items_are_the_newest_few(client, world):
    for number in range(services.LATEST_ITEMS + 2):
        publish(world, "tacna", f"Practice {number}")
    html = page_of(client, "/programmes/IURC")
    expected = [f"Practice {n}" for n in range(services.LATEST_ITEMS + 1, 1, -1)]
    assert result_titles(html) == expected
    assert "All of them in the catalogue" in html


def test_the_programmes_index_lists_every_programme_with_its_figures(client, world):
    publish(world, "tacna", "Agua para Tacna")
    html = page_of(client, "/programmes/")
    codes = db.session.scalars(select(Programme.code).order_by(Programme.position)).all()
    assert len(codes) == 4
    links = re.findall(r'<h2 class="h4" id="programme-\d+"><a href="/programmes/([^"]+)">', html)
    assert links == codes
    figures = figures_on(html)
    assert len(figures) == 4 * len(codes)
    iurc_position = codes.index("IURC")
    assert figures[4 * iurc_position : 4 * iurc_position + 2] == [
        ("3", "participating authorities"),
        ("1", "published good practice"),
    ]


def test_an_unknown_programme_is_404(client, world):
    assert client.get("/programmes/NO-SUCH").status_code == 404
    assert client.get("/programmes/iurc").status_code == 404  # codes are exact


def test_the_pages_follow_the_readers_language(client, world):
    publish(world, "tacna", "Agua para Tacna")
    iurc = programme("IURC")
    for language in ("es", "pt"):
        html = page_of(client, "/programmes/IURC", **{"Accept-Language": language})
        assert f'<html lang="{language}">' in html
        assert getattr(iurc, f"description_{language}") in html
        for goal in iurc.objectives:
            assert getattr(goal, f"text_{language}") in html
        index = page_of(client, "/programmes/", **{"Accept-Language": language})
        assert getattr(iurc, f"name_{language}") in index


def test_the_figures_are_kept_for_a_short_while(world):
    first = programme_figures()
    publish(world, "tacna", "After the first look")
    # Within FIGURES_MAX_AGE, the same figures (the pages are public and need not be exact).
    assert programme_figures() is first
    assert programme_figures().of(programme("IURC").id).practices == 0
    services.forget_figures()
    assert programme_figures().of(programme("IURC").id).practices == 1


def test_the_pages_cost_a_few_queries_whatever_the_data(app, client, world):
    """No query per programme, objective or item: the same number with more of everything."""

    def statements(address):
        services.forget_figures()
        seen = []

        here = threading.get_ident()

        def count(*_args):
            # The page's own statements, not those of the worker thread sending e-mails.
            if threading.get_ident() == here:
                seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page_of(client, address)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    publish(world, "tacna", "One")
    statements("/programmes/"), statements("/programmes/IURC")  # what a process reads once
    small = (statements("/programmes/"), statements("/programmes/IURC"))
    for number in range(4):
        publish(world, "madrid", f"More {number}", objectives=("IURC-1", "IURC-2", "INNOVACT-3"))
        publish(world, "arica", f"Idea {number}", kind="idea", objectives=("IURC-2",))
    large = (statements("/programmes/"), statements("/programmes/IURC"))
    assert large == small
    assert large[0] <= 3, large  # programmes, their objectives, the figures
    assert large[1] <= 6, large
