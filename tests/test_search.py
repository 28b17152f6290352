"""Full-text search in the three languages: what `exchange.text` makes of words, and what the
catalogue finds with it on the database under test (PostgreSQL's tsvector or SQLite's FTS5)."""

import pytest
from sqlalchemy import select, text

from exchange.catalogue.services import Filters, forget_filter_options, search_catalogue
from exchange.extensions import db
from exchange.reference.models import Theme
from exchange.submissions import search, services
from exchange.text import document_terms, fold, query_terms
from tests.factories import make_authority, make_coordinator, make_member, make_submission

pytestmark = pytest.mark.usefixtures("reference")


@pytest.fixture(autouse=True)
def _fresh_filter_options():
    """Each test has its own authorities: no filter choices kept from another test."""
    forget_filter_options()


def theme_ids(*codes):
    return [db.session.scalar(select(Theme.id).where(Theme.code == code)) for code in codes]


def publish(author, **fields):
    """A published practice; by default on a theme whose names share no word with the texts
    of these tests (ICT), so that only the words written match."""
    fields.setdefault("theme_ids", theme_ids("ict"))
    fields.setdefault("objective_ids", [])
    for name in ("summary", "problem", "actions", "results", "transferability", "lessons"):
        fields.setdefault(name, "Texto.")
    fields.setdefault("resources", "")
    return make_submission(author, state="published", **fields)


def found(query, **filters):
    return [line.title for line in search_catalogue(Filters(query=query, **filters)).results]


@pytest.fixture
def author():
    return make_member(make_authority())


# What the words become ---------------------------------------------------------------------------


def test_documents_lose_accents_case_and_stop_words():
    assert fold("Gestión INOVAÇÃO") == "gestion inovacao"
    assert document_terms("La gestión del agua", "es") == ["gestion", "agu"]
    assert document_terms("The management of cities", "en") == ["manag", "citi"]


def test_accented_words_are_also_indexed_without_their_accents():
    # Snowball stems "inovação" and "inovacao" differently: both stems are kept.
    assert document_terms("inovação", "pt") == ["inov", "inovaca"]


def test_a_query_word_brings_its_stems_in_every_language():
    (variants,) = query_terms("ciudades")
    assert {"ciudad", "ciud"} <= variants  # the plural's stem, and that stem's own stem
    assert query_terms("the of de la") == []
    assert query_terms("agua agua") == [query_terms("agua")[0]]


def test_underscores_separate_words():
    assert document_terms("agua_potable", "es") == document_terms("agua potable", "es")


# What the catalogue finds -----------------------------------------------------------------------


def test_spanish_words_across_inflections_and_accents(author):
    publish(author, language="es", title="Gestiones hídricas del agua en Tacna")
    publish(author, language="es", title="Ferias de artesanía", summary="Mercados locales.")
    for query in (
        "gestión del agua",
        "agua",
        "gestion",
        "GESTIÓN",
        "hídrica",
        "hidricos",
        "gestion agua tacna",
    ):
        assert found(query) == ["Gestiones hídricas del agua en Tacna"], query
    assert found("gestión artesanía") == []  # every word must match


def test_plurals_find_singulars_and_back(author):
    publish(author, language="es", title="Una ciudad compacta")
    publish(author, language="es", title="Ciudades intermedias")
    publish(author, language="en", title="A greener city")
    publish(author, language="en", title="Cities for people")
    assert sorted(found("ciudad")) == ["Ciudades intermedias", "Una ciudad compacta"]
    assert sorted(found("ciudades")) == ["Ciudades intermedias", "Una ciudad compacta"]
    assert sorted(found("city")) == ["A greener city", "Cities for people"]
    assert sorted(found("cities")) == ["A greener city", "Cities for people"]


def test_portuguese_with_and_without_accents(author):
    publish(author, language="pt", title="Inovação aberta na região")
    publish(author, language="pt", title="Inovações no transporte")
    both = ["Inovação aberta na região", "Inovações no transporte"]
    assert sorted(found("inovação")) == both
    assert sorted(found("inovacao")) == both
    assert sorted(found("inovacoes")) == both
    assert found("regiao") == ["Inovação aberta na região"]
    assert found("região") == ["Inovação aberta na região"]


def test_theme_names_find_items_in_another_language(author):
    publish(
        author,
        language="es",
        title="Riego tecnificado en Tacna",
        summary="Goteo para la agricultura familiar.",
        theme_ids=theme_ids("water-management"),
    )
    publish(author, language="es", title="Otra práctica", summary="Nada que ver.")
    # English and Portuguese names of the theme, none of whose words the Spanish text has.
    assert found("water management") == ["Riego tecnificado en Tacna"]
    assert found("saneamento") == ["Riego tecnificado en Tacna"]
    assert found("sanitation") == ["Riego tecnificado en Tacna"]


def test_relevance_puts_title_matches_first(author):
    publish(author, language="en", title="Bus rapid transit", summary="Mobility for all.")
    publish(author, language="en", title="Mobility hubs", summary="Stations beside each bus line.")
    assert found("mobility") == ["Mobility hubs", "Bus rapid transit"]
    assert found("bus") == ["Bus rapid transit", "Mobility hubs"]


def test_a_query_of_stop_words_only_searches_nothing(author):
    publish(author, title="Una práctica")
    page = search_catalogue(Filters(query="de la the"))
    assert not page.searched
    assert [line.title for line in page.results] == ["Una práctica"]


def test_symbols_and_quotes_in_queries_are_harmless(author):
    publish(author, language="en", title="Water tariffs")
    for query in ("'water'", 'water"', "water & | ! :*", "(water)", "water) OR (1=1", "NEAR(x"):
        assert found(query) == ["Water tariffs"], query
    assert found("' ; DROP TABLE submission; --") == []


def test_only_the_published_text_is_searched(author):
    coordinator = make_coordinator()
    item = publish(author, language="es", title="Texto publicado sobre huertos")
    services.save_content(
        author, item, item_content(item, title="Borrador nuevo sobre bibliotecas")
    )
    services.submit(author, item)
    db.session.commit()
    assert found("huertos") == ["Texto publicado sobre huertos"]
    assert found("bibliotecas") == []
    services.publish(coordinator, item)
    db.session.commit()
    assert found("bibliotecas") == ["Borrador nuevo sobre bibliotecas"]
    assert found("huertos") == []


def test_unpublished_archived_and_closed_items_are_not_found(author):
    for state in ("draft", "submitted", "in_review", "changes_requested", "rejected"):
        make_submission(author, state=state, title=f"Faro {state}", theme_ids=theme_ids("ict"))
    make_submission(author, state="archived", title="Faro archivado", theme_ids=theme_ids("ict"))
    make_submission(author, kind="idea", state="closed", title="Faro cerrado")
    publish(author, title="Faro publicado")
    assert found("faro") == ["Faro publicado"]


def test_the_index_holds_exactly_the_public_items(author):
    """Whatever the database, an item is in the index while it is public, and only then."""
    item = publish(author, title="Indexado")
    draft = make_submission(author, title="Borrador")
    assert _indexed() == {item.id}
    services.archive(author, item)
    db.session.commit()
    assert _indexed() == set()
    assert draft.id not in _indexed()


def _indexed() -> set[int]:
    if db.engine.dialect.name == "postgresql":
        query = "SELECT id FROM submission WHERE search_vector IS NOT NULL"
    else:
        query = "SELECT rowid FROM submission_fts"
    return set(db.session.scalars(text(query)))


def item_content(item, **changes):
    from tests.factories import practice_content

    revision = item.published_revision
    values = {
        name: getattr(revision, name)
        for name in ("language", "title", "summary", "problem", "actions", "results")
    }
    values.update(
        transferability=revision.transferability,
        lessons=revision.lessons,
        theme_ids=[t.id for t in revision.themes],
        objective_ids=[o.id for o in revision.objectives],
    )
    values.update(changes)
    return practice_content(**values)


def test_reindexing_everything_gives_the_same_answers(author):
    publish(author, language="pt", title="Inovação aberta")
    make_submission(author, state="archived", title="Inovação arquivada", language="pt")
    make_submission(author, title="Inovação em rascunho", language="pt")
    before = found("inovacao")
    _clear_index()
    assert found("inovacao") == []
    assert search.reindex_all(batch_size=1) == 1
    db.session.commit()
    assert found("inovacao") == before == ["Inovação aberta"]
    assert found("inovacao", theme_ids=tuple(theme_ids("ict"))) == ["Inovação aberta"]


def _clear_index() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("UPDATE submission SET search_vector = NULL"))
    else:
        db.session.execute(text("DELETE FROM submission_fts"))
    db.session.commit()


def test_the_index_terms_of_facets_cannot_be_searched_for(author):
    (ict,) = theme_ids("ict")
    publish(author, language="en", title="Open data portal", theme_ids=[ict])
    assert found("open") == ["Open data portal"]
    for query in (f"theme={ict}", f"theme {ict}", f"'theme={ict}'", f"theme_{ict}"):
        assert found(query) == [], query
    assert found("", theme_ids=(ict,)) == ["Open data portal"]
