"""The coordinators' brokerage console: who may open it, the proposals and their filters, single
and bulk decisions (bulk behind a confirmation page), running the matching, matching by hand
with the engine's explanation first, previews of the offer e-mails, the pipeline board and the
outcome funnel, and the pairing round. E-mails go through the real worker and SMTP server."""

import html
import itertools
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from exchange.database import utcnow
from exchange.extensions import db
from exchange.matching import services
from exchange.matching.models import (
    Match,
    MatchingRun,
    MatchStatus,
    Proposal,
    ProposalStatus,
    Stage,
)
from exchange.notifications.models import Notification
from exchange.notifications.services import queue_notification
from exchange.reference.models import Programme, Theme
from tests.conftest import csrf_token, wait_for
from tests.factories import (
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_proposal,
    make_submission,
    make_user,
)

pytestmark = pytest.mark.usefixtures("reference")

_sentinels = itertools.count(1)


# Helpers -----------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """The body rows of every table with an id: (data-* attributes of the row, cell texts)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[tuple[dict, list[str]]]] = {}
        self._table = None
        self._row = None
        self._cell = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._cell is not None:
            self._cell.append(" ")
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table is not None and not self._in_head:
            self._row = ({k: v for k, v in attrs.items() if k.startswith("data-")}, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rows(page: str, table_id: str) -> list[tuple[dict, list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables.get(table_id, [])


def keys(page: str, table_id: str, attribute: str = "data-key") -> list[str]:
    return [attrs[attribute] for attrs, _cells in rows(page, table_id)]


def listed_ids(page: str) -> list[int]:
    return [int(key) for key in keys(page, "proposals", "data-proposal-id")]


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, f"no error beside {field}"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def text_of(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def reload(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


def settled(mailbox):
    """Everything the worker sent up to now: a sentinel queued last arrives last (one worker)."""
    sentinel = make_user(email=f"sentinel-b{next(_sentinels)}@example.org")
    queue_notification(sentinel, "auth.confirm_email")
    db.session.commit()
    wait_for(lambda: mailbox.to(sentinel.email), timeout=30, message="the sentinel e-mail")
    return [m for m in mailbox.messages if not m.to.startswith("sentinel-")]


def theme(code: str) -> Theme:
    return db.session.scalar(select(Theme).where(Theme.code == code))


def programme(code: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


@pytest.fixture
def coordinator():
    return make_coordinator(name="Carla Coordinadora", email="carla@exchange.example")


@pytest.fixture
def world(coordinator):
    """Tacna and Arica (LAC), Bologna and Murcia (EU), with members in their languages."""
    tacna = make_authority(name="Gobierno Regional de Tacna")
    arica = make_authority(name="Región de Arica", country="CL", subdivision="CL-AP")
    bologna = make_authority(
        name="Comune di Bologna", country="IT", subdivision="IT-BO", kind="municipality"
    )
    murcia = make_authority(name="Región de Murcia", country="ES", subdivision="ES-MU")
    tacna.themes = [theme("water-management")]
    bologna.themes = [theme("water-management"), theme("agri-food")]
    murcia.themes = [theme("circular-economy")]
    tacna.programmes = [programme("INNOVACT")]
    db.session.commit()
    return {
        "tacna": tacna,
        "arica": arica,
        "bologna": bologna,
        "murcia": murcia,
        "ana": make_member(tacna, email="ana@tacna.example", name="Ana", language="es"),
        "marco": make_member(bologna, email="marco@bologna.example", name="Marco"),
        "coordinator": coordinator,
    }


# Access ------------------------------------------------------------------------------------------


def _routes(proposal_id: int) -> list[tuple[str, str]]:
    return [
        ("get", "/brokerage/"),
        ("get", f"/brokerage/proposals/{proposal_id}"),
        ("post", f"/brokerage/proposals/{proposal_id}/approve"),
        ("post", f"/brokerage/proposals/{proposal_id}/dismiss"),
        ("post", f"/brokerage/proposals/{proposal_id}/preview"),
        ("post", f"/brokerage/proposals/{proposal_id}/preview/0"),
        ("post", "/brokerage/bulk"),
        ("post", "/brokerage/run"),
        ("get", "/brokerage/match"),
        ("post", "/brokerage/match"),
        ("post", "/brokerage/match/preview"),
        ("post", "/brokerage/match/preview/0"),
        ("post", "/brokerage/match/create"),
        ("get", "/brokerage/pipeline"),
        ("get", "/brokerage/pairing"),
        ("post", "/brokerage/pairing"),
    ]


def _everything(world, proposal) -> dict:
    return {
        "note": "Hola",
        "action": "approve",
        "proposal_ids": [str(proposal.id)],
        "confirm": "yes",
        "authority_a": str(world["tacna"].id),
        "authority_b": str(world["murcia"].id),
        "checked": f"{world['tacna'].id}-{world['murcia'].id}",
        "programme": str(programme("INNOVACT").id),
        "pairs": [f"{world['tacna'].id}-{world['murcia'].id}"],
    }


def test_visitors_are_sent_to_log_in(app, world):
    proposal = make_proposal(world["tacna"], world["bologna"])
    client = app.test_client()
    token = csrf_token(client, "/login")
    for method, path in _routes(proposal.id):
        data = {**_everything(world, proposal), "csrf_token": token} if method == "post" else None
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 302, path
        assert response.location.startswith("/login"), path
    assert reload(Proposal, proposal.id).status == ProposalStatus.PROPOSED
    assert count(Match) == 0


def test_members_are_refused(app, world):
    proposal = make_proposal(world["tacna"], world["bologna"])
    for member in (world["ana"], make_member(make_authority(name="Other"))):
        client = signed_in(app, member)
        token = csrf_token(client)
        for method, path in _routes(proposal.id):
            data = {**_everything(world, proposal), "csrf_token": token}
            response = getattr(client, method)(path, data=data if method == "post" else None)
            assert response.status_code == 403, (member, path)
    assert reload(Proposal, proposal.id).status == ProposalStatus.PROPOSED
    assert count(Match) == 0
    assert count(MatchingRun) == 0


def test_coordinators_and_admins_open_every_page(app, world):
    proposal = make_proposal(world["tacna"], world["bologna"])
    for person in (world["coordinator"], make_admin()):
        client = signed_in(app, person)
        for path in (
            "/brokerage/",
            f"/brokerage/proposals/{proposal.id}",
            "/brokerage/match",
            "/brokerage/pipeline",
            "/brokerage/pairing",
            f"/brokerage/pairing?programme={programme('INNOVACT').id}",
        ):
            assert client.get(path).status_code == 200, path
        page = client.get("/brokerage/").get_data(as_text=True)
        assert 'aria-current="page">Coordination</a>' in page
        assert '<a class="dropdown-item" href="/brokerage/">Matching proposals</a>' in page


def test_the_navigation_shows_matching_to_coordinators_only(app, world):
    coordinator_page = signed_in(app, world["coordinator"]).get("/review/")
    assert ">Matching proposals</a>" in coordinator_page.get_data(as_text=True)
    member_page = signed_in(app, world["ana"]).get("/workspace/")
    assert ">Matching proposals</a>" not in member_page.get_data(as_text=True)


def test_an_unknown_proposal_is_not_found(app, coordinator):
    client = signed_in(app, coordinator)
    assert client.get("/brokerage/proposals/999").status_code == 404
    token = csrf_token(client)
    for action in ("approve", "dismiss", "preview"):
        response = client.post(f"/brokerage/proposals/999/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action


# The list ----------------------------------------------------------------------------------------


def test_the_list_shows_proposed_pairs_best_first_with_scores_and_reasons_in_words(app, world):
    low = make_proposal(world["tacna"], world["murcia"], score=0.41)
    high = make_proposal(world["tacna"], world["bologna"], score=0.83)
    make_proposal(world["arica"], world["bologna"], status="dismissed")
    make_proposal(world["arica"], world["murcia"], status="approved")
    high.score_ab, high.score_ba = 0.9, 0.77
    db.session.commit()
    client = signed_in(app, world["coordinator"])

    page = client.get("/brokerage/").get_data(as_text=True)

    assert listed_ids(page) == [high.id, low.id]
    (_attrs, cells), _second = rows(page, "proposals")
    pair, score, why = cells[1], cells[2], cells[3]
    assert "Gobierno Regional de Tacna Peru Latin America and the Caribbean" in pair
    assert "Comune di Bologna Italy European Union" in pair
    # How well each suits the other, under each authority (Tacna is authority_a).
    assert "Tacna Peru Latin America and the Caribbean · fit for it: 0.90" in pair
    assert "fit for it: 0.77" in pair
    assert score == "0.83"
    assert "Themes in common: Water management and sanitation." in why
    assert "A language in common: Spanish." in why
    assert f'href="/authorities/{world["tacna"].id}"' in page
    assert "2 proposals are waiting for a decision." in text_of(page)


def test_the_list_is_in_the_readers_language(app, world):
    make_proposal(world["tacna"], world["bologna"])
    spanish = make_coordinator(language="es")
    page = signed_in(app, spanish).get("/brokerage/").get_data(as_text=True)
    assert "Gestión del agua" in page


@pytest.fixture
def spread(world):
    """Proposals that each filter tells apart."""
    lyon = make_authority(
        name="Métropole de Lyon", country="FR", subdivision="FR-69", kind="metropolitan_area"
    )
    cusco = make_authority(name="Municipalidad de Cusco", subdivision="PE-CUS")
    lyon.themes = [theme("water-management")]
    cusco.themes = [theme("water-management")]
    world["bologna"].programmes = [programme("IURC")]
    db.session.commit()
    found = {
        "tacna-bologna": make_proposal(world["tacna"], world["bologna"], score=0.9),
        "tacna-murcia": make_proposal(world["tacna"], world["murcia"], score=0.5),
        "arica-lyon": make_proposal(world["arica"], lyon, score=0.7),
        "cusco-lyon": make_proposal(cusco, lyon, score=0.3),
        "tacna-cusco": make_proposal(world["tacna"], cusco, score=0.6, same_side=True),
    }
    # Oldest first: cusco-lyon, then tacna-murcia.
    found["cusco-lyon"].computed_at = utcnow() - timedelta(days=9)
    found["tacna-murcia"].computed_at = utcnow() - timedelta(days=5)
    db.session.commit()
    return found


def test_each_filter_narrows_the_list_and_keeps_its_value(app, world, spread):
    client = signed_in(app, world["coordinator"])

    def listed(query: str) -> set[str]:
        response = client.get(f"/brokerage/?{query}")
        assert response.status_code == 200, query
        ids = listed_ids(response.get_data(as_text=True))
        return {name for name, p in spread.items() if p.id in ids}

    everything = set(spread)
    assert listed("") == everything
    # At least one of the two takes part: Tacna in INNOVACT, Bologna in IURC.
    assert listed(f"programme={programme('INNOVACT').id}") == {
        "tacna-bologna",
        "tacna-murcia",
        "tacna-cusco",
    }
    assert listed(f"programme={programme('IURC').id}") == {"tacna-bologna"}
    assert listed("country=FR") == {"arica-lyon", "cusco-lyon"}
    assert listed("country=CL") == {"arica-lyon"}
    assert listed("sides=across") == everything - {"tacna-cusco"}
    assert listed("sides=LAC") == {"tacna-cusco"}
    assert listed("sides=EU") == set()
    assert listed("min_score=0.6") == {"tacna-bologna", "arica-lyon", "tacna-cusco"}
    assert listed("min_score=0,7") == {"tacna-bologna", "arica-lyon"}
    # Both work on it.
    assert listed(f"theme={theme('water-management').id}") == {
        "tacna-bologna",
        "cusco-lyon",
        "tacna-cusco",
    }
    assert listed(f"country=PE&min_score=0.55&theme={theme('water-management').id}") == {
        "tacna-bologna",
        "tacna-cusco",
    }

    page = client.get("/brokerage/?sort=age").get_data(as_text=True)
    assert listed_ids(page)[:2] == [spread["cusco-lyon"].id, spread["tacna-murcia"].id]
    page = client.get("/brokerage/?country=FR&min_score=0.25").get_data(as_text=True)
    assert '<option selected value="FR">' in page
    assert 'value="0.25"' in page


def test_a_theme_on_a_published_item_counts_for_the_theme_filter(app, world):
    make_submission(world["ana"], state="published", theme_ids=[theme("circular-economy").id])
    proposal = make_proposal(world["tacna"], world["murcia"])
    page = signed_in(app, world["coordinator"]).get(
        f"/brokerage/?theme={theme('circular-economy').id}"
    )
    assert listed_ids(page.get_data(as_text=True)) == [proposal.id]


def test_a_bad_filter_is_refused_on_its_field_and_kept(app, world, spread):
    client = signed_in(app, world["coordinator"])
    response = client.get("/brokerage/?min_score=abc&country=FR")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "min_score") == "Enter a score between 0 and 1, e.g. 0.5."
    assert 'value="abc"' in page
    # The valid filters still apply.
    assert set(listed_ids(page)) == {spread["arica-lyon"].id, spread["cusco-lyon"].id}

    response = client.get("/brokerage/?min_score=1.5")
    assert response.status_code == 422
    assert "Enter a score between 0 and 1" in field_error(
        response.get_data(as_text=True), "min_score"
    )
    for made_up in ("programme=999", "country=XX", "sides=moon", "theme=abc", "sort=name"):
        response = client.get(f"/brokerage/?{made_up}")
        assert response.status_code == 422, made_up
        name = made_up.split("=")[0]
        assert field_error(response.get_data(as_text=True), name) == "Choose from the list."


# One proposal ------------------------------------------------------------------------------------


def test_approving_one_proposal_offers_the_match_with_the_note_in_each_language(
    app, worker, mailbox, world
):
    settled(mailbox)
    mailbox.reset()
    proposal = make_proposal(world["tacna"], world["bologna"], score=0.72)
    client = signed_in(app, world["coordinator"])
    note = "Les presento: los dos trabajan en riego."

    response = client.post(
        f"/brokerage/proposals/{proposal.id}/approve",
        data={
            "note": note,
            "filters": "country=PE",
            "csrf_token": csrf_token(client, "/brokerage/"),
        },
    )

    assert response.status_code == 302
    assert response.location == "/brokerage/?country=PE"
    saved = reload(Proposal, proposal.id)
    assert saved.status == ProposalStatus.APPROVED
    assert saved.decided_by_id == world["coordinator"].id
    (match,) = db.session.scalars(select(Match)).all()
    assert (match.authority_a_id, match.authority_b_id) == (world["tacna"].id, world["bologna"].id)
    assert match.proposal_id == proposal.id
    assert match.note == note
    assert match.score == 0.72
    assert match.status == MatchStatus.AWAITING

    messages = {m.to: m for m in settled(mailbox)}
    assert set(messages) == {"ana@tacna.example", "marco@bologna.example"}
    to_ana, to_marco = messages["ana@tacna.example"], messages["marco@bologna.example"]
    assert to_marco.subject == (
        "Action needed: a partner proposed for Comune di Bologna: Gobierno Regional de Tacna"
    )
    assert to_marco.message["Content-Language"] == "en"
    assert "Hello Marco," in to_marco.text
    assert to_ana.message["Content-Language"] == "es"
    assert "Hola, Ana:" in to_ana.text
    assert "Comune di Bologna" in to_ana.subject
    for message in (to_ana, to_marco):
        assert note in message.text
        assert note in message.html

    page = client.get("/brokerage/?country=PE").get_data(as_text=True)
    assert "Match offered to Gobierno Regional de Tacna and Comune di Bologna" in text_of(page)
    assert listed_ids(page) == []


def test_dismissing_one_proposal_never_proposes_the_pair_again(app, world):
    proposal = make_proposal(world["tacna"], world["bologna"])
    client = signed_in(app, world["coordinator"])

    response = client.post(
        f"/brokerage/proposals/{proposal.id}/dismiss",
        data={"csrf_token": csrf_token(client, "/brokerage/")},
    )

    assert response.status_code == 302
    assert reload(Proposal, proposal.id).status == ProposalStatus.DISMISSED
    assert count(Match) == 0
    assert count(Notification) == 0
    assert services.is_excluded(world["tacna"].id, world["bologna"].id)
    page = client.get("/brokerage/").get_data(as_text=True)
    assert "will not be proposed again" in text_of(page)


def test_a_refused_approval_says_why_and_keeps_the_note(app, world):
    bologna = world["bologna"]
    bologna.match_capacity = 1
    db.session.commit()
    make_match(bologna, world["murcia"], coordinator=world["coordinator"], same_side=True)
    proposal = make_proposal(world["tacna"], bologna)
    matches = count(Match)
    client = signed_in(app, world["coordinator"])

    response = client.post(
        f"/brokerage/proposals/{proposal.id}/approve",
        data={"note": "Una nota que no se pierde.", "csrf_token": csrf_token(client)},
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Comune di Bologna has no room for another match (1 open of 1)." in text_of(page)
    assert "Una nota que no se pierde.</textarea>" in page
    assert reload(Proposal, proposal.id).status == ProposalStatus.PROPOSED
    assert count(Match) == matches


def test_a_note_too_long_is_refused_and_kept(app, world):
    proposal = make_proposal(world["tacna"], world["bologna"])
    client = signed_in(app, world["coordinator"])
    note = "x" * 2001
    response = client.post(
        f"/brokerage/proposals/{proposal.id}/approve",
        data={"note": note, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "note") == "Keep it under 2000 characters."
    assert note in page
    assert reload(Proposal, proposal.id).status == ProposalStatus.PROPOSED


def test_a_decided_proposal_shows_its_decision_and_no_form(app, world):
    match = make_match(world["tacna"], world["bologna"], coordinator=world["coordinator"])
    page = signed_in(app, world["coordinator"]).get(f"/brokerage/proposals/{match.proposal_id}")
    text = page.get_data(as_text=True)
    assert "Approved" in text
    assert f'href="/matches/{match.id}"' in text
    assert "/approve" not in text


# Bulk decisions ----------------------------------------------------------------------------------


@pytest.fixture
def bulk_world(world):
    """Five proposals: two fine, two for Murcia which has room for one more, one for a pair
    that has been matched meanwhile; and one not chosen."""
    murcia, tacna, arica, bologna = (world[k] for k in ("murcia", "tacna", "arica", "bologna"))
    murcia.match_capacity = 1
    lyon = make_authority(name="Métropole de Lyon", country="FR", subdivision="FR-69")
    db.session.commit()
    services.create_match(world["coordinator"], arica, lyon)
    db.session.commit()
    return {
        "tacna-bologna": make_proposal(tacna, bologna, score=0.9),
        "arica-bologna": make_proposal(arica, bologna, score=0.8),
        "tacna-murcia": make_proposal(tacna, murcia, score=0.7),
        "arica-murcia": make_proposal(arica, murcia, score=0.6),
        "arica-lyon": make_proposal(arica, lyon, score=0.5),
        "not-chosen": make_proposal(world["tacna"], lyon, score=0.4),
    }


def _bulk(client, action, ids, **extra):
    return client.post(
        "/brokerage/bulk",
        data={
            "action": action,
            "proposal_ids": [str(i) for i in ids],
            "csrf_token": csrf_token(client, "/brokerage/"),
            **extra,
        },
    )


def test_bulk_confirmation_lists_exactly_the_chosen_and_skipped_and_changes_nothing(
    app, world, bulk_world
):
    chosen = [name for name in bulk_world if name != "not-chosen"]
    client = signed_in(app, world["coordinator"])
    matches, notifications = count(Match), count(Notification)

    response = _bulk(
        client,
        "approve",
        [bulk_world[name].id for name in chosen],
        bulk_note="Nota común.",
        filters="min_score=0.3",
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    allowed = keys(page, "bulk-allowed")
    assert allowed == [
        str(bulk_world[name].id) for name in ("tacna-bologna", "arica-bologna", "tacna-murcia")
    ]
    skipped = {attrs["data-key"]: cells[1] for attrs, cells in rows(page, "bulk-skipped")}
    assert skipped == {
        str(bulk_world["arica-murcia"].id): (
            "Capacity reached: Región de Murcia has 1 open or planned matches of 1."
        ),
        str(bulk_world["arica-lyon"].id): (
            "This pair can no longer be proposed: the two authorities have been matched, or "
            "their proposal was dismissed."
        ),
    }
    assert "Nota común." in page
    assert 'name="filters" value="min_score=0.3"' in page
    # The first POST changes nothing.
    db.session.expire_all()
    assert {p.status for p in bulk_world.values()} == {ProposalStatus.PROPOSED}
    assert count(Match) == matches
    assert count(Notification) == notifications


def test_confirmed_bulk_approval_runs_each_through_the_service(app, world, bulk_world):
    client = signed_in(app, world["coordinator"])
    chosen = [bulk_world[n].id for n in bulk_world if n != "not-chosen"]
    matches = count(Match)

    response = _bulk(client, "approve", chosen, bulk_note="Nota común.", confirm="yes")

    assert response.status_code == 302
    db.session.expire_all()
    statuses = {name: p.status for name, p in bulk_world.items()}
    assert statuses == {
        "tacna-bologna": ProposalStatus.APPROVED,
        "arica-bologna": ProposalStatus.APPROVED,
        "tacna-murcia": ProposalStatus.APPROVED,
        "arica-murcia": ProposalStatus.PROPOSED,
        "arica-lyon": ProposalStatus.PROPOSED,
        "not-chosen": ProposalStatus.PROPOSED,
    }
    assert count(Match) == matches + 3
    notes = set(db.session.scalars(select(Match.note).where(Match.proposal_id.is_not(None))))
    assert notes == {"Nota común."}
    page = client.get("/brokerage/").get_data(as_text=True)
    assert "3 proposals approved" in text_of(page)
    assert "2 were skipped" in text_of(page)


def test_bulk_dismissal(app, world, bulk_world):
    client = signed_in(app, world["coordinator"])
    ids = [bulk_world["arica-murcia"].id, bulk_world["arica-lyon"].id]

    first = _bulk(client, "dismiss", ids)
    assert first.status_code == 200
    assert keys(first.get_data(as_text=True), "bulk-allowed") == [str(i) for i in ids]
    assert reload(Proposal, ids[0]).status == ProposalStatus.PROPOSED

    assert _bulk(client, "dismiss", ids, confirm="yes").status_code == 302
    db.session.expire_all()
    assert {bulk_world[n].status for n in ("arica-murcia", "arica-lyon")} == {
        ProposalStatus.DISMISSED
    }
    assert bulk_world["tacna-bologna"].status == ProposalStatus.PROPOSED


def test_bulk_needs_an_action_and_a_proposal_and_keeps_the_choice(app, world, bulk_world):
    client = signed_in(app, world["coordinator"])
    chosen = bulk_world["tacna-bologna"].id

    response = _bulk(client, "", [chosen])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "action") == "Choose what to do with the chosen proposals."
    assert f'value="{chosen}" id="choose-{chosen}" checked' in page

    response = _bulk(client, "approve", [])
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "proposal_ids") == (
        "Choose at least one proposal."
    )


def test_a_proposal_decided_after_the_confirmation_page_is_skipped(app, world, bulk_world):
    client = signed_in(app, world["coordinator"])
    ids = [bulk_world["tacna-bologna"].id, bulk_world["arica-bologna"].id]
    assert _bulk(client, "approve", ids).status_code == 200
    # Someone else dismisses one meanwhile.
    services.dismiss_proposal(make_coordinator(), bulk_world["arica-bologna"])
    db.session.commit()

    assert _bulk(client, "approve", ids, confirm="yes").status_code == 302

    db.session.expire_all()
    assert bulk_world["tacna-bologna"].status == ProposalStatus.APPROVED
    assert bulk_world["arica-bologna"].status == ProposalStatus.DISMISSED
    assert count(Match, Match.proposal_id == bulk_world["arica-bologna"].id) == 0


# Running the matching ----------------------------------------------------------------------------


def test_run_matching_now_hands_a_run_to_the_workers(app, worker, world):
    world["murcia"].themes = [theme("water-management")]
    for authority, text in (
        (world["tacna"], "Gestión del agua y riego tecnificado para la agricultura."),
        (world["bologna"], "Water management and drip irrigation for agriculture."),
    ):
        authority.description = text
    db.session.commit()
    client = signed_in(app, world["coordinator"])

    response = client.post("/brokerage/run", data={"csrf_token": csrf_token(client, "/brokerage/")})

    assert response.status_code == 302
    (run,) = db.session.scalars(select(MatchingRun)).all()
    assert run.started_by_id == world["coordinator"].id

    def finished():
        return reload(MatchingRun, run.id).finished_at is not None

    wait_for(finished, timeout=60, message="the run")
    assert count(Proposal, Proposal.status == ProposalStatus.PROPOSED) >= 1
    page = client.get("/brokerage/").get_data(as_text=True)
    text = text_of(page)
    assert "Matching started (run" in text
    assert f"Run {run.id}, started" in text
    assert "Finished" in text
    assert "Engine version 1.0" in text
    assert [cells[0] for _attrs, cells in rows(page, "run-weights")][:2] == ["themes", "text"]


def test_a_second_run_is_refused_while_one_is_in_progress(app, world):
    running = services.start_run(world["coordinator"])
    db.session.commit()
    client = signed_in(app, world["coordinator"])

    response = client.post("/brokerage/run", data={"csrf_token": csrf_token(client, "/brokerage/")})

    assert response.status_code == 302
    assert count(MatchingRun) == 1
    page = client.get("/brokerage/").get_data(as_text=True)
    assert f"A run is already in progress (run {running.id}" in text_of(page)
    assert "In progress" in text_of(page)


# Matching by hand --------------------------------------------------------------------------------


def _by_hand(client, path, first, second, **extra):
    return client.post(
        path,
        data={
            "authority_a": str(first.id),
            "authority_b": str(second.id),
            "csrf_token": csrf_token(client, "/brokerage/match"),
            **extra,
        },
    )


def test_the_form_offers_verified_authorities_with_search_friendly_labels(app, world):
    make_authority(name="Pendiente de verificar", verified=False)
    page = signed_in(app, world["coordinator"]).get("/brokerage/match").get_data(as_text=True)
    assert (
        f'<option value="{world["tacna"].id}">Gobierno Regional de Tacna — Peru · Latin America · '
        "Region, state or province · room for 3</option>"
    ) in page
    assert "Pendiente de verificar" not in page


def test_checking_a_pair_shows_the_engines_score_and_reasons_and_creates_nothing(app, world):
    client = signed_in(app, world["coordinator"])
    response = _by_hand(client, "/brokerage/match", world["tacna"], world["bologna"], note="Nota")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    explained = services.explain(world["tacna"], world["bologna"])
    assert f"fit for Gobierno Regional de Tacna: {explained.score_ab:.2f}" in text
    assert "Themes in common: Water management and sanitation." in text
    assert "Create the match" in text
    assert f'name="checked" type="hidden" value="{world["tacna"].id}-{world["bologna"].id}"' in page
    assert count(Match) == 0
    assert count(Notification) == 0


def test_a_match_by_hand_is_created_about_an_item_with_the_note(app, world):
    practice = make_submission(world["ana"], state="published")
    client = signed_in(app, world["coordinator"])
    tacna, bologna = world["tacna"], world["bologna"]

    response = _by_hand(
        client,
        "/brokerage/match/create",
        bologna,
        tacna,
        submission=str(practice.id),
        note="Hablen de riego.",
        checked=f"{bologna.id}-{tacna.id}",
    )

    assert response.status_code == 302
    (match,) = db.session.scalars(select(Match)).all()
    assert response.location == f"/matches/{match.id}"
    assert (match.authority_a_id, match.authority_b_id) == (tacna.id, bologna.id)
    assert match.submission_id == practice.id
    assert match.note == "Hablen de riego."
    assert match.created_by_id == world["coordinator"].id
    assert match.reasons  # the engine explained it
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.kind.like("matching.%"))
    )
    assert sorted(kinds) == ["matching.proposed", "matching.proposed"]


def test_a_pair_other_than_the_one_explained_is_explained_first(app, world):
    client = signed_in(app, world["coordinator"])
    response = _by_hand(
        client,
        "/brokerage/match/create",
        world["tacna"],
        world["bologna"],
        checked=f"{world['tacna'].id}-{world['murcia'].id}",
    )
    assert response.status_code == 200
    assert "Here is what the engine says of this pair" in text_of(response.get_data(as_text=True))
    assert count(Match) == 0


@pytest.mark.parametrize("path", ["/brokerage/match", "/brokerage/match/create"])
def test_refusals_by_hand_are_shown_on_the_fields_and_nothing_is_created(app, world, path):
    tacna, bologna, murcia, arica = (world[k] for k in ("tacna", "bologna", "murcia", "arica"))
    make_match(tacna, bologna, coordinator=world["coordinator"])
    murcia.match_capacity = 0
    pending = make_authority(
        name="Gobierno Provincial de Loja", country="EC", subdivision="EC-L", verified=False
    )
    db.session.commit()
    matches = count(Match)
    client = signed_in(app, world["coordinator"])
    cases = [
        (tacna, bologna, {}, "authority_b", "These two authorities have already been matched."),
        (
            tacna,
            murcia,
            {},
            "authority_b",
            "Región de Murcia has no room for another match (0 open of 0).",
        ),
        (pending, bologna, {}, "authority_a", "Gobierno Provincial de Loja is not verified."),
        (
            tacna,
            arica,
            {},
            "authority_b",
            "Both authorities are on the same side; tick “same side” to match them anyway.",
        ),
        (tacna, tacna, {}, "authority_b", "Choose two different authorities."),
    ]
    for first, second, extra, field, message in cases:
        checked = f"{first.id}-{second.id}"
        response = _by_hand(client, path, first, second, note="Se queda.", checked=checked, **extra)
        assert response.status_code == 422, message
        page = response.get_data(as_text=True)
        assert message in field_error(page, field), page[:300]
        assert "Se queda.</textarea>" in page
    response = _by_hand(client, path, tacna, murcia, authority_b="")
    assert field_error(response.get_data(as_text=True), "authority_b") == "Choose an authority."
    response = _by_hand(client, path, tacna, murcia, authority_b="999999")
    assert field_error(response.get_data(as_text=True), "authority_b") == "Choose from the list."
    assert count(Match) == matches


def test_same_side_is_matched_when_ticked(app, world):
    client = signed_in(app, world["coordinator"])
    tacna, arica = world["tacna"], world["arica"]
    response = _by_hand(
        client,
        "/brokerage/match/create",
        tacna,
        arica,
        same_side="y",
        checked=f"{tacna.id}-{arica.id}",
    )
    assert response.status_code == 302
    (match,) = db.session.scalars(select(Match)).all()
    assert match.same_side


# Previews ----------------------------------------------------------------------------------------

PREVIEW_SUBJECT = re.compile(r'<dd class="preview-subject" lang="(\w+)">(.*?)</dd>', re.S)
PREVIEW_TEXT = re.compile(r'<pre class="[^"]*preview-text" lang="\w+">(.*?)</pre>', re.S)


def previews(page: str) -> list[tuple[str, str, str]]:
    """(language, subject, text) of each previewed e-mail."""
    subjects = PREVIEW_SUBJECT.findall(page)
    texts = PREVIEW_TEXT.findall(page)
    return [
        (language, html.unescape(subject), html.unescape(text))
        for (language, subject), text in zip(subjects, texts, strict=True)
    ]


def test_the_preview_of_an_approval_shows_each_offer_and_saves_nothing(app, worker, mailbox, world):
    settled(mailbox)
    mailbox.reset()
    proposal = make_proposal(world["tacna"], world["bologna"])
    client = signed_in(app, world["coordinator"])
    form = {"note": "Nota personal para los dos.", "csrf_token": csrf_token(client)}

    response = client.post(f"/brokerage/proposals/{proposal.id}/preview", data=form)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = previews(page)
    assert sorted(language for language, _subject, _text in shown) == ["en", "es"]
    by_language = {language: (subject, text) for language, subject, text in shown}
    assert by_language["en"][0] == (
        "Action needed: a partner proposed for Comune di Bologna: Gobierno Regional de Tacna"
    )
    assert "Hello Marco," in by_language["en"][1]
    assert "Hola, Ana:" in by_language["es"][1]
    for _subject, text in by_language.values():
        assert "Nota personal para los dos." in text
    assert "Nota personal para los dos.</textarea>" in page  # kept to approve it
    index = [language for language, *_ in shown].index("en")
    html_part = client.post(f"/brokerage/proposals/{proposal.id}/preview/{index}", data=form)
    assert html_part.status_code == 200
    assert "Nota personal para los dos." in html_part.get_data(as_text=True)
    assert "script-src" not in html_part.headers["Content-Security-Policy"]
    assert client.post(f"/brokerage/proposals/{proposal.id}/preview/9", data=form).status_code == (
        404
    )

    assert reload(Proposal, proposal.id).status == ProposalStatus.PROPOSED
    assert count(Match) == 0
    assert count(Notification, Notification.kind.like("matching.%")) == 0
    assert settled(mailbox) == []


def test_the_preview_of_a_refused_approval_says_why(app, world):
    world["bologna"].match_capacity = 0
    db.session.commit()
    proposal = make_proposal(world["tacna"], world["bologna"])
    client = signed_in(app, world["coordinator"])
    response = client.post(
        f"/brokerage/proposals/{proposal.id}/preview",
        data={"note": "N", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    assert "has no room for another match" in text_of(response.get_data(as_text=True))
    assert previews(response.get_data(as_text=True)) == []


def test_the_preview_of_a_match_by_hand_shows_each_offer_and_saves_nothing(app, world):
    client = signed_in(app, world["coordinator"])
    tacna, bologna = world["tacna"], world["bologna"]
    response = _by_hand(
        client, "/brokerage/match/preview", tacna, bologna, note="Conózcanse, por favor."
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = previews(page)
    assert sorted(language for language, *_ in shown) == ["en", "es"]
    assert all("Conózcanse, por favor." in text for *_, text in shown)
    assert "Themes in common" in text_of(page)  # the explanation is shown too
    html_part = _by_hand(
        client, "/brokerage/match/preview/0", tacna, bologna, note="Conózcanse, por favor."
    )
    assert "Conózcanse, por favor." in html_part.get_data(as_text=True)
    assert count(Match) == 0
    assert count(Notification) == 0


# The pipeline and the funnel ---------------------------------------------------------------------


def _ago(days: float):
    return utcnow() - timedelta(days=days)


@pytest.fixture
def pipeline_world(world):
    """By hand: 2 proposals, 1 offer waiting for both sides, 1 for one side, 4 connected at
    stages introduced, contacted, met and agreement, 1 declined, 1 expired, 1 closed."""
    coordinator = world["coordinator"]
    eu = [
        make_authority(name=f"EU {i}", country="IT", subdivision="IT-BO", kind="municipality")
        for i in range(9)
    ]
    lac = [make_authority(name=f"LAC {i}") for i in range(9)]
    for authority in eu + lac:
        authority.match_capacity = 5
        make_member(authority)
    db.session.commit()
    proposals = [make_proposal(eu[0], lac[0]), make_proposal(eu[1], lac[1])]
    proposals[0].computed_at = _ago(4)
    waiting_both = make_match(eu[2], lac[2], coordinator=coordinator)
    one_side = make_match(eu[3], lac[3], coordinator=coordinator)
    member = lac[3].members[0]
    services.answer_match(member, one_side, accept=True)
    connected = [make_match(eu[4 + i], lac[4 + i], state="connected") for i in range(4)]
    declined = make_match(eu[8], lac[8], state="declined")
    expired = make_match(eu[0], lac[1], coordinator=coordinator)
    closed = make_match(eu[1], lac[0], coordinator=coordinator)
    db.session.commit()
    for match, stages in zip(
        connected,
        ([], [Stage.CONTACTED], [Stage.CONTACTED, Stage.MET], [Stage.MET, Stage.AGREEMENT]),
        strict=True,
    ):
        reporter = match.authority_a.members[0]
        for stage in stages:
            services.report_stage(reporter, match, stage)
    services.close_match(coordinator, closed, "Ya no hace falta.")
    db.session.commit()
    # Ages: the offers were made days ago, the introductions and endings too.
    waiting_both.created_at = _ago(10)
    one_side.created_at = _ago(3)
    for days, match in zip((2, 6, 1, 1), connected, strict=True):
        match.connected_at = _ago(days)
    declined.closed_at = _ago(8)
    expired.status = MatchStatus.EXPIRED
    expired.closed_at = _ago(12)
    closed.closed_at = _ago(5)
    db.session.commit()
    return {
        "proposals": proposals,
        "waiting_both": waiting_both,
        "one_side": one_side,
        "connected": connected,
        "declined": declined,
        "expired": expired,
        "closed": closed,
    }


def test_the_pipeline_counts_and_ages_each_column(app, world, pipeline_world):
    page = signed_in(app, world["coordinator"]).get("/brokerage/pipeline").get_data(as_text=True)

    board = {attrs["data-column"]: cells[1:4] for attrs, cells in rows(page, "pipeline-board")}
    assert board == {
        "proposed": ["2", "2.0", "4"],
        "approved": ["1", "10.0", "10"],
        "one_side": ["1", "3.0", "3"],
        "connected": ["4", "1.5", "6"],
        "declined": ["1", "8.0", "8"],
        "expired": ["1", "12.0", "12"],
        "closed": ["1", "5.0", "5"],
    }
    text = text_of(page)
    one_side = pipeline_world["one_side"]
    assert f'href="/matches/{one_side.id}"' in page
    assert f"waiting for {one_side.authority_a.name}" in text  # LAC 3 accepted, EU 3 waits
    assert f'href="/brokerage/proposals/{pipeline_world["proposals"][0].id}"' in page
    # The oldest first in each column.
    connected = pipeline_world["connected"]
    oldest = page.index(f'href="/matches/{connected[1].id}"')
    assert oldest < page.index(f'href="/matches/{connected[0].id}"')


def test_the_funnel_counts_the_stages_reached_and_the_conversion_rates(app, world, pipeline_world):
    page = signed_in(app, world["coordinator"]).get("/brokerage/pipeline").get_data(as_text=True)

    funnel = {attrs["data-stage"]: cells[1:] for attrs, cells in rows(page, "funnel")}
    assert funnel == {
        "introduced": ["4", "—", "100%"],
        "contacted": ["3", "75%", "75%"],
        "met": ["2", "67%", "50%"],
        "agreement": ["1", "50%", "25%"],
        "joint_project": ["0", "0%", "0%"],
    }


def test_an_empty_pipeline_says_so(app, coordinator):
    page = signed_in(app, coordinator).get("/brokerage/pipeline").get_data(as_text=True)
    board = {attrs["data-column"]: cells[1:4] for attrs, cells in rows(page, "pipeline-board")}
    assert len(board) == 7
    assert all(cells == ["0", "—", "—"] for cells in board.values())
    funnel = {attrs["data-stage"]: cells[1:] for attrs, cells in rows(page, "funnel")}
    assert funnel["introduced"] == ["0", "—", "—"]
    assert "Nothing in the pipeline yet." in text_of(page)


# The pairing round -------------------------------------------------------------------------------

ROUND = {
    "Comune di Bologna": (
        "IT", "IT-BO", "municipality", ["water-management", "agri-food"], "en",
        "Water management for agriculture and drip irrigation in dry summers.",
    ),
    "Región de Murcia": (
        "ES", "ES-MU", "region", ["water-management", "circular-economy"], "es",
        "Gestión del agua, riego por goteo y reutilización de aguas residuales.",
    ),
    "Métropole de Lyon": (
        "FR", "FR-69", "metropolitan_area", ["tourism", "cultural-heritage"], "en",
        "Cultural heritage and sustainable tourism routes in the city.",
    ),
    "Gobierno Regional de Tacna": (
        "PE", "PE-TAC", "region", ["water-management", "agri-food"], "es",
        "Gestión del agua y riego tecnificado para la agricultura.",
    ),
    "Municipalidad de Cusco": (
        "PE", "PE-CUS", "municipality", ["tourism", "cultural-heritage"], "es",
        "Turismo sostenible y patrimonio cultural en el centro histórico.",
    ),
    "Región de Arica": (
        "CL", "CL-AP", "region", ["circular-economy", "water-management"], "es",
        "Economía circular y reutilización del agua en el desierto.",
    ),
}  # fmt: skip


@pytest.fixture
def round_world(coordinator):
    """Six authorities of IURC (three on each side), and one outside it."""
    iurc = programme("IURC")
    found = {}
    for name, (country, subdivision, kind, themes, language, text) in ROUND.items():
        authority = make_authority(name=name, country=country, subdivision=subdivision, kind=kind)
        authority.themes = list(db.session.scalars(select(Theme).where(Theme.code.in_(themes))))
        authority.description = text
        authority.description_language = language
        authority.languages = [language]
        authority.programmes = [iurc]
        authority.match_capacity = 1
        found[name] = authority
    outsider = make_authority(name="Región de Ñuble", country="CL", subdivision="CL-NB")
    outsider.themes = [theme("water-management")]
    outsider.description = "Gestión del agua y riego para la agricultura."
    db.session.commit()
    found["outsider"] = outsider
    return found


def _round_page(client, programme_id):
    response = client.get(f"/brokerage/pairing?programme={programme_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_pairing_round_beats_or_equals_greedy_and_creates_exactly_its_pairs(
    app, world, round_world
):
    client = signed_in(app, world["coordinator"])
    iurc = programme("IURC")

    page = _round_page(client, iurc.id)

    shown = keys(page, "round-pairs")
    assert shown
    total = float(re.search(r'id="round-total">([\d.]+)<', page).group(1))
    greedy = float(re.search(r'id="greedy-total">([\d.]+)<', page).group(1))
    assert total >= greedy
    ids = {int(i) for key in shown for i in key.split("-")}
    assert round_world["outsider"].id not in ids
    names = {a.id: a.name for a in round_world.values()}
    assert "Themes in common" in text_of(page)
    assert all(names[int(k.split("-")[0])] in page for k in shown)

    # The first POST only shows what the round will create.
    token = csrf_token(client, "/brokerage/pairing")
    data = {"programme": str(iurc.id), "pairs": shown, "note": "Ronda IURC.", "csrf_token": token}
    confirm = client.post("/brokerage/pairing", data=data)
    assert confirm.status_code == 200
    assert keys(confirm.get_data(as_text=True), "round-allowed") == shown
    assert count(Match) == 0

    done = client.post("/brokerage/pairing", data={**data, "confirm": "yes"})
    assert done.status_code == 302
    made = {f"{m.authority_a_id}-{m.authority_b_id}": m for m in db.session.scalars(select(Match))}
    assert sorted(made) == sorted(shown)
    assert {m.note for m in made.values()} == {"Ronda IURC."}
    assert all(m.status == MatchStatus.AWAITING for m in made.values())

    # Everybody has used their capacity of 1: the next round has nothing to propose.
    assert keys(_round_page(client, iurc.id), "round-pairs") == []


def test_a_pending_proposal_of_a_round_pair_is_approved(app, world, round_world):
    tacna, bologna = round_world["Gobierno Regional de Tacna"], round_world["Comune di Bologna"]
    client = signed_in(app, world["coordinator"])
    shown = keys(_round_page(client, programme("IURC").id), "round-pairs")
    key = f"{min(tacna.id, bologna.id)}-{max(tacna.id, bologna.id)}"
    assert key in shown
    proposal = make_proposal(tacna, bologna)
    data = {
        "programme": str(programme("IURC").id),
        "pairs": [key],
        "confirm": "yes",
        "csrf_token": csrf_token(client, "/brokerage/pairing"),
    }
    assert client.post("/brokerage/pairing", data=data).status_code == 302
    (match,) = db.session.scalars(select(Match)).all()
    assert match.proposal_id == proposal.id
    assert reload(Proposal, proposal.id).status == ProposalStatus.APPROVED


def test_round_pairs_that_became_impossible_are_skipped(app, world, round_world):
    tacna, bologna = round_world["Gobierno Regional de Tacna"], round_world["Comune di Bologna"]
    murcia = round_world["Región de Murcia"]
    client = signed_in(app, world["coordinator"])
    key = f"{min(tacna.id, bologna.id)}-{max(tacna.id, bologna.id)}"
    other = f"{min(tacna.id, murcia.id)}-{max(tacna.id, murcia.id)}"
    data = {
        "programme": str(programme("IURC").id),
        "pairs": [key, other],
        "csrf_token": csrf_token(client, "/brokerage/pairing"),
    }
    page = client.post("/brokerage/pairing", data=data).get_data(as_text=True)
    assert keys(page, "round-allowed") == [key]
    (skipped,) = rows(page, "round-skipped")
    assert skipped[0]["data-key"] == other
    assert "Capacity reached: Gobierno Regional de Tacna" in skipped[1][1]
    assert count(Match) == 0


def test_a_round_of_a_programme_without_participants_proposes_nothing(app, round_world):
    client = signed_in(app, make_coordinator())
    page = _round_page(client, programme("EU-MX-DIALOGUE").id)
    assert keys(page, "round-pairs") == []
    assert "No pair to propose" in text_of(page)


def test_the_round_needs_a_programme_from_the_list(app, coordinator):
    client = signed_in(app, coordinator)
    response = client.get("/brokerage/pairing?programme=999")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "programme") == "Choose from the list."
    response = client.get("/brokerage/pairing?programme=")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "programme") == "Choose a programme."
    response = client.get("/brokerage/pairing")
    assert response.status_code == 200
    assert "round-pairs" not in response.get_data(as_text=True)
