"""Theme suggestions from free text: the endpoint (signed-in people, three languages, labels in
the reader's language, refusals, the rate limit) and the profile, practice and idea forms that
offer them (a hidden box that the script fills; the forms are the same without it)."""

import re

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.reference.models import Theme
from tests.factories import log_in, make_authority, make_coordinator, make_member, make_submission

pytestmark = pytest.mark.usefixtures("reference")

URL = "/brokerage/theme-suggestions"


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def suggest(client, text, language=None):
    query = {"text": text}
    if language is not None:
        query["language"] = language
    return client.get(URL, query_string=query)


def codes(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["code"] for item in response.get_json()]


def theme(code: str) -> Theme:
    return db.session.scalar(select(Theme).where(Theme.code == code))


@pytest.fixture
def member():
    return make_member(make_authority(name="Gobierno Regional de Tacna"), language="en")


def test_visitors_are_sent_to_log_in(app):
    response = app.test_client().get(URL, query_string={"text": "water management"})
    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "gestión del agua y economía circular"),
        ("en", "water management and circular economy"),
        ("pt", "gestão da água e economia circular"),
    ],
)
def test_the_same_themes_are_found_in_each_language(app, member, language, text):
    found = codes(suggest(signed_in(app, member), text, language))
    assert set(found[:2]) == {"water-management", "circular-economy"}


def test_without_a_language_all_three_are_tried(app, member):
    found = codes(suggest(signed_in(app, member), "gestión del agua"))
    assert found[0] == "water-management"


def test_each_suggestion_has_its_label_in_the_readers_language_its_id_and_a_score(app):
    spanish = make_member(make_authority(), language="es")
    response = suggest(signed_in(app, spanish), "water management", "en")
    (first, *_rest) = response.get_json()
    water = theme("water-management")
    assert first == {
        "code": "water-management",
        "id": water.id,
        "label": water.label_es,
        "score": first["score"],
    }
    assert 0 < first["score"] <= 1
    english = signed_in(app, make_coordinator(language="en"))
    assert suggest(english, "water management", "en").get_json()[0]["label"] == water.label_en


def test_at_most_five_best_first(app, member):
    text = (
        "Water management, circular economy, sustainable tourism, cultural heritage, public "
        "transport, renewable energy, innovation clusters and value chains, agri-food."
    )
    found = suggest(signed_in(app, member), text, "en").get_json()
    assert 1 <= len(found) <= 5
    scores = [item["score"] for item in found]
    assert scores == sorted(scores, reverse=True)


def test_an_empty_text_suggests_nothing(app, member):
    client = signed_in(app, member)
    assert suggest(client, "", "es").get_json() == []
    assert suggest(client, "   ", "en").get_json() == []
    assert client.get(URL).get_json() == []


def test_bad_input_is_refused_with_a_reason(app, member):
    client = signed_in(app, member)
    response = suggest(client, "water", "fr")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Choose English, Spanish or Portuguese."}
    response = suggest(client, "agua " * 5000, "es")
    assert response.status_code == 400
    assert "too long" in response.get_json()["error"]


def test_the_endpoint_is_rate_limited(app, member):
    client = signed_in(app, member)
    for _ in range(60):
        assert suggest(client, "agua", "es").status_code == 200
    assert suggest(client, "agua", "es").status_code == 429


# The forms -------------------------------------------------------------------------------------

BOX = re.compile(r"<div class=\"theme-suggestions[^\"]*\" hidden[^>]*>", re.S)


def suggestion_box(page: str) -> str:
    match = BOX.search(page)
    assert match, "no suggestion box"
    return match.group(0)


def test_the_profile_form_offers_suggestions_from_the_description(app, member):
    page = signed_in(app, member).get(f"/authorities/{member.authority_id}/edit")
    assert page.status_code == 200
    box = suggestion_box(page.get_data(as_text=True))
    assert f'data-theme-suggestions="{URL}"' in box
    assert 'data-sources="description"' in box
    assert 'data-language-field="description_language"' in box
    assert 'data-theme-field="themes"' in box


@pytest.mark.parametrize(
    ("path", "sources"),
    [("/practices/new", "title summary problem"), ("/ideas/new", "title summary description")],
)
def test_the_practice_and_idea_forms_offer_suggestions(app, member, path, sources):
    page = signed_in(app, member).get(path).get_data(as_text=True)
    box = suggestion_box(page)
    assert f'data-sources="{sources}"' in box
    assert 'data-language-field="language"' in box
    # Every field the box reads exists, and a suggested id is the value of a theme checkbox.
    for name in sources.split():
        assert f'id="{name}"' in page
    water = theme("water-management")
    assert f'name="themes" type="checkbox" value="{water.id}"' in page


def test_the_edit_form_of_a_practice_offers_them_too(app, member):
    practice = make_submission(member)
    page = signed_in(app, member).get(f"/practices/{practice.id}/edit").get_data(as_text=True)
    assert suggestion_box(page)  # it has a theme: nothing to hint
    assert "Suggested themes:" in page


HINT = re.compile(r"<div class=\"theme-suggestions[^\"]*\" aria-live[^>]*>(.*?)</div>", re.S)


def hint(page: str) -> str:
    """The box the server fills (not hidden) when the text speaks of themes none is ticked."""
    match = HINT.search(page)
    assert match, "no hint"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_a_form_saved_without_themes_hints_at_those_its_text_speaks_of(app, member):
    practice = make_submission(
        member, theme_ids=[], summary="Gestión del agua y economía circular en el desierto."
    )
    page = signed_in(app, member).get(f"/practices/{practice.id}/edit").get_data(as_text=True)
    shown = hint(page)
    assert shown.startswith("Suggested themes:")
    assert "Water management and sanitation" in shown
    assert "Circular economy" in shown


def test_a_profile_without_themes_hints_at_those_of_its_description(app, member):
    authority = member.authority
    authority.description = "We work on water management and circular economy."
    authority.description_language = "en"
    authority.themes = []
    db.session.commit()
    page = signed_in(app, member).get(f"/authorities/{authority.id}/edit").get_data(as_text=True)
    assert "Water management and sanitation" in hint(page)
    authority.themes = [theme("tourism")]
    db.session.commit()
    page = signed_in(app, member).get(f"/authorities/{authority.id}/edit").get_data(as_text=True)
    assert suggestion_box(page)  # hidden again: a theme is ticked
