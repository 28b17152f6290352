"""The reference data as loaded from the cooperation's own texts: programmes and objectives,
themes, border areas, and how they read in each language."""

import csv
import re
from pathlib import Path

import pycountry
import pytest
from sqlalchemy import select

from exchange.authorities.services import ProfileChanges, update_profile
from exchange.extensions import db
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup
from exchange.reference.services import (
    all_border_areas,
    all_programmes,
    all_theme_groups,
    all_themes,
    load_reference,
)
from tests.factories import make_authority, make_coordinator

SHARED_REFERENCE = Path("/work/shared/reference")
LANGUAGES = ("en", "es", "pt")
KEBAB_CASE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def border_areas_csv() -> dict[str, dict]:
    path = SHARED_REFERENCE / "border-areas.csv"
    if not path.exists():
        pytest.skip("the shared reference folder is not on this machine")
    with path.open(encoding="utf-8") as source:
        return {row["code"]: row for row in csv.DictReader(source)}


def ids(model, *codes) -> list[int]:
    return list(db.session.scalars(select(model.id).where(model.code.in_(codes))))


def texts(row, field: str) -> dict[str, str]:
    return {language: getattr(row, f"{field}_{language}") for language in LANGUAGES}


def assert_translated(row, field: str, sentence: bool) -> None:
    values = texts(row, field)
    for language, value in values.items():
        assert value.strip(), f"{row!r} has no {field} in {language}"
    if sentence:
        # A sentence copied into the other languages was never translated.
        assert len(set(values.values())) > 1, f"{row!r}: {field} is the same in every language"
        assert values["es"] != values["en"], f"{row!r}: {field} in Spanish is the English text"
        assert values["pt"] != values["en"], f"{row!r}: {field} in Portuguese is the English text"


# Programmes and objectives ---------------------------------------------------------------------


def test_the_four_programmes_and_their_objectives(reference):
    programmes = all_programmes()
    assert [p.code for p in programmes] == ["EU-MX-DIALOGUE", "IURC", "INNOV-AL", "INNOVACT"]
    objectives = {p.code: [o.code for o in p.objectives] for p in programmes}
    assert objectives == {
        "EU-MX-DIALOGUE": ["EU-MX-DIALOGUE-1", "EU-MX-DIALOGUE-2", "EU-MX-DIALOGUE-3"],
        "IURC": ["IURC-1", "IURC-2"],
        "INNOV-AL": ["INNOV-AL-1", "INNOV-AL-2"],
        "INNOVACT": ["INNOVACT-1", "INNOVACT-2", "INNOVACT-3"],
    }


def test_every_programme_and_objective_reads_in_three_languages(reference):
    for programme in all_programmes():
        assert_translated(programme, "name", sentence=False)
        assert_translated(programme, "description", sentence=True)
        assert programme.website is None or programme.website.startswith(("http://", "https://"))
        for objective in programme.objectives:
            assert_translated(objective, "text", sentence=True)


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        ("EU-MX-DIALOGUE-1", "geographically targeted"),
        ("EU-MX-DIALOGUE-2", "disadvantaged regions"),
        ("EU-MX-DIALOGUE-3", "multi-level forms of governance"),
        ("IURC-1", "city-to-city cooperation on sustainable urban development"),
        ("IURC-2", "region-to-region cooperation on regional innovation"),
        ("INNOV-AL-1", "innovation policies"),
        ("INNOV-AL-2", "between the national and regional authorities"),
        ("INNOVACT-1", "innovation systems, clusters and competitiveness"),
        ("INNOVACT-2", "cross-border value chains"),
        ("INNOVACT-3", "concrete examples and best practices"),
    ],
)
def test_objectives_say_what_the_cooperation_page_says(reference, code, phrase):
    path = SHARED_REFERENCE / "cooperation-page.txt"
    if not path.exists():
        pytest.skip("the shared reference folder is not on this machine")
    source = " ".join(path.read_text(encoding="utf-8").split()).casefold()
    objective = db.session.scalar(select(Objective).where(Objective.code == code))
    assert phrase in source
    assert phrase in " ".join(objective.text_en.split()).casefold()


# Themes ----------------------------------------------------------------------------------------


def test_theme_codes_are_unique_kebab_case(reference):
    codes = [theme.code for theme in all_themes()]
    assert len(codes) == len(set(codes)) > 20
    for code in codes:
        assert KEBAB_CASE.match(code), code
    for group in all_theme_groups():
        assert KEBAB_CASE.match(group.code), group.code


def test_every_theme_and_group_has_labels_and_keywords_in_three_languages(reference):
    for group in all_theme_groups():
        assert_translated(group, "label", sentence=False)
        assert group.themes, f"{group.code} has no theme"
    for theme in all_themes():
        assert_translated(theme, "label", sentence=False)
        assert set(theme.keywords) == set(LANGUAGES)
        for language in LANGUAGES:
            assert theme.keywords[language], f"{theme.code} has no keywords in {language}"
            assert all(k == k.strip() and k for k in theme.keywords[language]), theme.code


def test_the_themes_the_programmes_use_are_there(reference):
    codes = {theme.code for theme in all_themes()}
    # IUC city-to-city key areas, IURC clusters, INNOVACT's cross-border work.
    for code in (
        "low-carbon-urban-planning",
        "sustainable-construction",
        "sustainable-mobility",
        "water-management",
        "waste-management",
        "circular-economy",
        "energy-transition",
        "smart-specialisation",
        "agri-food",
        "blue-economy",
        "tourism",
        "cross-border-cooperation",
    ):
        assert code in codes, code


# Border areas ----------------------------------------------------------------------------------


def test_the_seven_innovact_border_areas(reference, border_areas_csv):
    areas = all_border_areas()
    assert len(areas) == 7
    assert [area.code for area in areas] == list(border_areas_csv)
    for area in areas:
        row = border_areas_csv[area.code]
        assert area.countries == row["countries"].split(";")
        assert area.source_url == row["source_url"]
        chains = [chain.strip().casefold() for chain in row["value_chains"].split(";")]
        assert [chain["en"].casefold() for chain in area.value_chains] == chains
        # The sub-regions named in the file are the ones coded.
        named = sorted(name.strip() for name in row["sub_regions"].split(";") if name.strip())
        coded = sorted(pycountry.subdivisions.get(code=code).name for code in area.subdivisions)
        assert coded == named, area.code


def test_peru_chile_covers_tacna_and_arica_y_parinacota(reference):
    area = db.session.scalar(select(BorderArea).where(BorderArea.code == "PE-CL"))
    assert area.countries == ["PE", "CL"]
    assert set(area.subdivisions) == {"PE-TAC", "CL-AP"}


def test_every_sub_region_is_an_iso_code_of_one_of_the_areas_countries(reference):
    for area in all_border_areas():
        assert len(area.countries) >= 2
        for country in area.countries:
            assert pycountry.countries.get(alpha_2=country) is not None, country
        for code in area.subdivisions:
            subdivision = pycountry.subdivisions.get(code=code)
            assert subdivision is not None, code
            assert subdivision.country_code in area.countries, (area.code, code)


def test_border_areas_and_value_chains_read_in_three_languages(reference):
    for area in all_border_areas():
        assert_translated(area, "name", sentence=False)
        assert area.value_chains
        for chain in area.value_chains:
            assert all(chain.get(language) for language in LANGUAGES), chain
        assert area.value_chain_labels("es") == [chain["es"] for chain in area.value_chains]


# Loading ---------------------------------------------------------------------------------------


def test_loading_again_creates_nothing_and_keeps_edits(reference):
    theme = db.session.scalar(select(Theme).where(Theme.code == "tourism"))
    theme.label_en = "Tourism (edited)"
    db.session.commit()
    report = load_reference()
    db.session.commit()
    assert report.created == {}
    assert report.updated == {}
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).label_en == "Tourism (edited)"
    assert len(all_programmes()) == 4
    assert len(all_theme_groups()) == len(db.session.scalars(select(ThemeGroup)).all())


def test_a_missing_row_is_created_on_the_next_load(reference):
    area = db.session.scalar(select(BorderArea).where(BorderArea.code == "BO-PE"))
    db.session.delete(area)
    db.session.commit()
    report = load_reference()
    db.session.commit()
    assert report.created == {"border areas": 1}
    assert db.session.scalar(select(BorderArea).where(BorderArea.code == "BO-PE")) is not None


# On the pages ----------------------------------------------------------------------------------


def test_the_spanish_texts_show_on_pages_in_spanish(client, reference):
    home = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in home
    assert "Diálogo UE–México sobre política regional y urbana" in home
    assert "Cooperación Urbana y Regional Internacional (IURC)" in home
    assert "EU–Mexico dialogue on regional and urban policy" not in home
    iurc_1 = db.session.scalar(select(Objective).where(Objective.code == "IURC-1"))
    assert iurc_1.text_es in home
    assert iurc_1.text_en not in home

    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "EU–Mexico dialogue on regional and urban policy" in english


def test_a_profile_shows_themes_and_areas_in_the_readers_language(client, reference):
    authority = make_authority(name="Gobierno Regional de Tacna")
    update_profile(
        make_coordinator(),
        authority,
        ProfileChanges(
            name=authority.name,
            kind="region",
            country_code="PE",
            subdivision_code="PE-TAC",
            website=None,
            description="",
            description_language=None,
            languages=["es"],
            programme_ids=ids(Programme, "IURC"),
            theme_ids=ids(Theme, "water-management"),
            border_area_ids=ids(BorderArea, "PE-CL"),
            match_capacity=3,
        ),
    )
    db.session.commit()

    for language, expected, absent in (
        ("es", ["Gestión del agua y saneamiento", "Perú–Chile", "Temas"], "Water management"),
        ("pt", ["Gestão da água e saneamento", "Cooperação Urbana e Regional"], "Perú–Chile"),
        ("en", ["Water management and sanitation", "Peru–Chile", "Themes"], "Gestión"),
    ):
        page = client.get(
            f"/authorities/{authority.id}", headers={"Accept-Language": language}
        ).get_data(as_text=True)
        for text in expected:
            assert text in page, (language, text)
        assert absent not in page, (language, absent)
