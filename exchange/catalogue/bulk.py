"""A large catalogue for benchmarks and load tests: `seed_catalogue(100_000)` writes published good
practices straight into the tables, thousands of rows per statement, with their search index.

The services publish one item at a time (review, activity log, e-mails); here nobody reviews and
nobody is told, so the rows are written as the services would leave them after publishing:
an authority, a revision with themes and objectives, the item in state `published` pointing at
that revision, and the index terms made by `exchange.text` (the same as `search.index_submission`
makes). The text is generated from a large vocabulary per language whose word frequencies follow
Zipf's law, as in real prose: a few words are everywhere, most are rare.
"""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pycountry
from sqlalchemy import func, insert, select, text, update

from exchange.authorities.models import Authority, AuthorityKind, AuthorityStatus
from exchange.authorities.models import authority_border_area as authority_border_area_table
from exchange.extensions import db
from exchange.reference.countries import EU_MEMBER_STATES, LATIN_AMERICA_AND_CARIBBEAN, side_of
from exchange.reference.models import BorderArea, Objective, Theme
from exchange.submissions.models import (
    Revision,
    Submission,
    revision_objective,
    revision_theme,
)
from exchange.submissions.search import documents, facets, vector_expression
from exchange.workflow import Kind, State

VOCABULARY_SIZE = 20_000  # content words per language
# Zipf–Mandelbrot: the frequency of the word of rank r goes as 1 / (r + 10) ** 1.07. The offset
# keeps the most common content word at about 1.5 % of the words (in most practices), as in real
# prose once the stop words are set aside; a word of rank 1,000 is in about 1.5 % of them.
ZIPF_EXPONENT = 1.07
ZIPF_OFFSET = 10
BATCH_SIZE = 2_000

# Real words first (the most frequent ranks), then generated ones.
_DOMAIN_WORDS = {
    "es": (
        "agua gestión ciudad región municipio proyecto desarrollo sostenible innovación "
        "transporte vivienda empleo comunidad frontera turismo energía residuos ciudades "
        "regional gobierno programa cooperación local territorio población recursos servicios "
        "infraestructura social economía empresas producción calidad plan estrategia públicos "
        "participación mujeres jóvenes capacitación red centros salud educación cultura "
        "patrimonio movilidad espacio público barrios zonas rurales agricultura riego clima "
        "cambio emisiones inversión financiamiento datos digital tecnología universidades "
        "cadenas valor clúster exportación mercado pequeñas productores turísticos "
        "transfronteriza binacional acuerdo municipal metropolitana planificación"
    ),
    "pt": (
        "água gestão cidade região município projeto desenvolvimento sustentável inovação "
        "transporte habitação emprego comunidade fronteira turismo energia resíduos cidades "
        "regional governo programa cooperação local território população recursos serviços "
        "infraestrutura social economia empresas produção qualidade plano estratégia públicos "
        "participação mulheres jovens capacitação rede centros saúde educação cultura "
        "patrimônio mobilidade espaço público bairros zonas rurais agricultura irrigação clima "
        "mudança emissões investimento financiamento dados digital tecnologia universidades "
        "cadeias valor cluster exportação mercado pequenos produtores turísticos "
        "transfronteiriça binacional acordo municipal metropolitana planejamento"
    ),
    "en": (
        "water management city region municipality project development sustainable innovation "
        "transport housing employment community border tourism energy waste cities regional "
        "government programme cooperation local territory population resources services "
        "infrastructure social economy companies production quality plan strategy public "
        "participation women young training network centres health education culture heritage "
        "mobility space public neighbourhoods areas rural agriculture irrigation climate change "
        "emissions investment funding data digital technology universities chains value cluster "
        "export market small producers tourist cross-border binational agreement municipal "
        "metropolitan planning"
    ),
}
# The short words that make up almost half of real prose (stop words: not indexed).
_FUNCTION_WORDS = {
    "es": "de la que el en y a los del se las por un para con una su al lo como más sus o "
    "entre sobre también desde todo durante este esta",
    "pt": "de a o que e do da em um para com não uma os no se na por mais as dos como ao das "
    "à seu sua ou quando também pelo pela entre",
    "en": "the of and to in a is that for it as with was on by be this are from at or an which "
    "have has been their more its into also",
}
_ONSETS = {
    "es": "b c d f g l m n p r s t v ch br pr tr gr cl pl".split(),
    "pt": "b c d f g l m n p r s t v ch lh nh br pr tr gr".split(),
    "en": "b c d f g h l m n p r s t w th sh st br pr tr gr".split(),
}
_VOWELS = {
    "es": "a e i o u a e o ia ue io".split(),
    "pt": "a e i o u a e o ei ou ia".split(),
    "en": "a e i o u ea ee oo ai ou".split(),
}
_ENDINGS = {
    "es": "ción ciones idad miento mientos ismo ario aria al ales ero era ivo iva ante encia ado "
    "ada ura os as".split(),
    "pt": "ção ções dade mento mentos ismo ário ária al ais eiro eira ivo iva ante ência ado ada "
    "ura agem os as".split(),
    "en": "tion tions ity ment ments ism ary al er ers ive ant ence ed ure ing ness s".split(),
}
_TITLE_PATTERNS = {
    "es": "{} para {} en {}",
    "pt": "{} para {} em {}",
    "en": "{} for {} in {}",
}
# Who writes in which language: the authority's own, English now and then for EU partners.
_COUNTRY_LANGUAGE = {"BR": "pt", "PT": "pt", "ES": "es"}
_AUTHORITY_NAMES = {
    "es": "Gobierno de {}",
    "pt": "Governo de {}",
    "en": "Region of {}",
}


@dataclass
class _Language:
    code: str
    function_words: list[str]
    words: list[str]
    cum_weights: list[float]


def _zipf_cum_weights(size: int) -> list[float]:
    total, cumulative = 0.0, []
    for rank in range(1, size + 1):
        total += 1.0 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT
        cumulative.append(total)
    return cumulative


def vocabulary(language: str, rng: random.Random, size: int = VOCABULARY_SIZE) -> list[str]:
    """The content words of a language, most frequent first: real domain words, then made-up
    words built from the language's syllables and endings."""
    seen: set[str] = set()
    ordered: list[str] = []
    for word in _DOMAIN_WORDS[language].split():
        if word not in seen:
            seen.add(word)
            ordered.append(word)
    onsets, vowels, endings = _ONSETS[language], _VOWELS[language], _ENDINGS[language]
    while len(ordered) < size:
        syllables = rng.choice((1, 2, 2, 3, 3, 4))
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
        if rng.random() < 0.6:
            word += rng.choice(endings)
        if len(word) > 3 and word not in seen:
            seen.add(word)
            ordered.append(word)
    return ordered


def _languages(rng: random.Random) -> dict[str, _Language]:
    weights = _zipf_cum_weights(VOCABULARY_SIZE)
    return {
        code: _Language(code, _FUNCTION_WORDS[code].split(), vocabulary(code, rng), weights)
        for code in ("es", "pt", "en")
    }


def _sentence(language: _Language, rng: random.Random, length: int) -> str:
    content = rng.choices(language.words, cum_weights=language.cum_weights, k=length)
    # Before almost every other word, a short one ("de la", "of the").
    short = rng.choices(language.function_words, k=length)
    before = rng.choices((True, False), weights=(45, 55), k=length)
    out = []
    for word, little, put in zip(content, short, before, strict=True):
        if put:
            out.append(little)
        out.append(word)
    sentence = " ".join(out)
    return sentence[0].upper() + sentence[1:] + "."


def _paragraph(language: _Language, rng: random.Random, low: int, high: int) -> str:
    remaining = rng.randint(low, high)
    sentences = []
    while remaining > 0:
        length = min(remaining, rng.randint(6, 14))
        sentences.append(_sentence(language, rng, length))
        remaining -= length
    return " ".join(sentences)


def _title(language: _Language, rng: random.Random) -> str:
    parts = [
        " ".join(rng.choices(language.words, cum_weights=language.cum_weights, k=rng.randint(1, 3)))
        for _ in range(3)
    ]
    title = _TITLE_PATTERNS[language.code].format(*parts)
    return (title[0].upper() + title[1:])[:200]


@dataclass
class _Authority:
    id: int
    language: str
    weight: float


def _create_authorities(count: int, rng: random.Random) -> list[_Authority]:
    """Verified regional authorities from both sides, named after real ISO 3166-2 regions."""
    border_areas = db.session.scalars(select(BorderArea)).all()
    area_of = {code: area.id for area in border_areas for code in area.subdivisions}
    lac = sorted(LATIN_AMERICA_AND_CARIBBEAN - {"AG", "BB", "DM", "GD", "KN", "LC", "VC"})
    eu = sorted(EU_MEMBER_STATES)
    now = datetime.now(UTC)
    next_id = (db.session.scalar(select(func.max(Authority.id))) or 0) + 1
    rows, links, made = [], [], []
    used: set[str] = set()
    # Places in border areas come first, so that every area has authorities.
    candidates = [code for code in area_of if pycountry.subdivisions.get(code=code)]
    while len(rows) < count:
        if candidates:
            code = candidates.pop()
            subdivision = pycountry.subdivisions.get(code=code)
        else:
            country = rng.choice(lac if rng.random() < 0.55 else eu)
            subdivisions = list(pycountry.subdivisions.get(country_code=country) or [])
            if not subdivisions:
                continue
            subdivision = rng.choice(subdivisions)
        if subdivision.code in used:
            if len(used) > count * 3:
                break
            continue
        used.add(subdivision.code)
        country = subdivision.country_code
        language = _COUNTRY_LANGUAGE.get(
            country, "es" if country in LATIN_AMERICA_AND_CARIBBEAN else "en"
        )
        authority_id = next_id + len(rows)
        rows.append(
            {
                "id": authority_id,
                "name": _AUTHORITY_NAMES[language].format(subdivision.name)[:200],
                "kind": AuthorityKind.REGION,
                "country_code": country,
                "subdivision_code": subdivision.code,
                "side": side_of(country),
                "languages": [language],
                "description": "",
                "match_capacity": 3,
                "status": AuthorityStatus.VERIFIED,
                "verified_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        if subdivision.code in area_of:
            area = area_of[subdivision.code]
            links.append({"authority_id": authority_id, "border_area_id": area})
        # Some authorities publish a lot, most a little.
        made.append(_Authority(authority_id, language, 1.0 / (len(made) + 1) ** 0.6))
    db.session.execute(insert(Authority), rows)
    if links:
        db.session.execute(insert(authority_border_area_table), links)
    _fix_sequence(Authority)
    return made


def _fix_sequence(model) -> None:
    """Explicit ids leave PostgreSQL's sequence behind: move it past them."""
    if db.session.get_bind().dialect.name == "postgresql":
        highest = db.session.scalar(select(func.max(model.id))) or 1
        db.session.execute(
            select(func.setval(func.pg_get_serial_sequence(model.__tablename__, "id"), highest))
        )


def _weighted(rng: random.Random, items: list, k: int) -> list:
    """k distinct items, the first ones of the list more likely (a skewed popularity)."""
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(items))]
    chosen: list = []
    while len(chosen) < min(k, len(items)):
        item = rng.choices(items, weights=weights)[0]
        if item not in chosen:
            chosen.append(item)
    return chosen


def seed_catalogue(
    count: int,
    seed: int = 2026,
    *,
    authorities: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add `count` published good practices (and the verified authorities that own them),
    indexed for search, in batches of `batch_size` rows per statement. The reference data must
    be loaded. The same `seed` gives the same catalogue. Commits after every batch (a large
    catalogue does not fit one transaction comfortably); `progress(n)` is called after each.
    Returns the number of practices added."""
    if count <= 0:
        return 0
    rng = random.Random(seed)  # noqa: S311  # nosec B311  # made-up data, repeatable
    themes = db.session.scalars(select(Theme).order_by(Theme.position, Theme.id)).all()
    objectives = db.session.scalars(select(Objective).order_by(Objective.id)).all()
    if not themes or not objectives:
        raise RuntimeError("Load the reference data first (flask exchange load-reference).")
    languages = _languages(rng)
    owners = _create_authorities(authorities or max(10, min(600, count // 150)), rng)
    db.session.commit()
    owner_weights = [owner.weight for owner in owners]
    theme_order = themes[:]
    rng.shuffle(theme_order)  # which themes are popular
    now = datetime.now(UTC)
    done = 0
    while done < count:
        size = min(batch_size, count - done)
        _seed_batch(size, rng, languages, owners, owner_weights, theme_order, objectives, now)
        db.session.commit()
        done += size
        if progress is not None:
            progress(size)
    for model in (Submission, Revision):
        _fix_sequence(model)
    db.session.commit()
    return done


def _seed_batch(size, rng, languages, owners, owner_weights, themes, objectives, now) -> None:
    postgres = db.session.get_bind().dialect.name == "postgresql"
    first_submission = (db.session.scalar(select(func.max(Submission.id))) or 0) + 1
    first_revision = (db.session.scalar(select(func.max(Revision.id))) or 0) + 1
    submissions, revisions, theme_links, objective_links, index_rows = [], [], [], [], []
    for offset in range(size):
        submission_id, revision_id = first_submission + offset, first_revision + offset
        owner = rng.choices(owners, weights=owner_weights)[0]
        code = owner.language if rng.random() < 0.85 else "en"
        language = languages[code]
        published = now - timedelta(days=rng.random() * 6 * 365)
        start = date(rng.randint(2012, 2023), rng.randint(1, 12), 1)
        fields = {
            "title": _title(language, rng),
            "summary": _paragraph(language, rng, 20, 40),
            "problem": _paragraph(language, rng, 20, 45),
            "actions": _paragraph(language, rng, 30, 60),
            "results": _paragraph(language, rng, 20, 45),
            "resources": _paragraph(language, rng, 8, 20),
            "transferability": _paragraph(language, rng, 15, 30),
            "lessons": _paragraph(language, rng, 15, 30),
        }
        chosen_themes = _weighted(rng, themes, rng.choice((1, 1, 2, 2, 2, 3)))
        chosen_objectives = _weighted(rng, objectives, rng.choice((1, 1, 2)))
        title, topics, body = documents(
            code, fields["title"], (fields[name] for name in Revision.PRACTICE_FIELDS[1:]),
            chosen_themes,
        )  # fmt: skip
        submissions.append(
            {
                "id": submission_id,
                "kind": Kind.PRACTICE,
                "authority_id": owner.id,
                "state": State.DRAFT,
                "submitted_at": published - timedelta(days=14),
                "first_published_at": published,
                "published_at": published,
                "state_changed_at": published,
                "created_at": published - timedelta(days=30),
                "updated_at": published,
                "language": code,
                "title": title,
                "topics": topics,
                "body": body,
                "facets": facets((t.id for t in chosen_themes), (o.id for o in chosen_objectives)),
            }
        )
        revisions.append(
            {
                "id": revision_id,
                "submission_id": submission_id,
                "number": 1,
                "created_at": published - timedelta(days=30),
                "updated_at": published,
                "submitted_at": published - timedelta(days=14),
                "language": code,
                **fields,
                "period_start": start,
                "period_end": start + timedelta(days=rng.randint(180, 1500)),
                "value_chain": "",
                "description": "",
                "expected_results": "",
                "partner_kinds": [],
                "partner_sides": [],
            }
        )
        theme_links += [{"revision_id": revision_id, "theme_id": t.id} for t in chosen_themes]
        objective_links += [
            {"revision_id": revision_id, "objective_id": o.id} for o in chosen_objectives
        ]
        index_rows.append({"id": submission_id, "t": title, "p": topics, "b": body})

    # A draft first (submission and revision refer to each other), published once the revision
    # exists, in one statement for the batch.
    submission_table = Submission.__table__
    columns = [c for c in submissions[0] if c not in ("title", "topics", "body", "facets")]
    values = {name: db.bindparam(name) for name in columns}
    if postgres:
        values["search_vector"] = vector_expression(
            db.bindparam("title"),
            db.bindparam("topics"),
            db.bindparam("body"),
            db.bindparam("facets"),
        )
    db.session.execute(insert(submission_table).values(values), submissions)
    db.session.execute(insert(Revision.__table__), revisions)
    db.session.execute(insert(revision_theme), theme_links)
    db.session.execute(insert(revision_objective), objective_links)
    delta = first_revision - first_submission
    last = first_submission + size - 1
    db.session.execute(
        update(submission_table)
        .where(submission_table.c.id.between(first_submission, last))
        .values(
            state=State.PUBLISHED,
            working_revision_id=submission_table.c.id + delta,
            published_revision_id=submission_table.c.id + delta,
        )
    )
    if not postgres:
        db.session.execute(
            text(
                "INSERT INTO submission_fts (rowid, title, topics, body) VALUES (:id, :t, :p, :b)"
            ),
            index_rows,
        )


def query_words(count: int, seed: int = 2026) -> list[str]:
    """Words of the generated vocabulary for benchmark queries, spread evenly over the orders of
    magnitude of their frequency (as many very common words as rare ones)."""
    # seed_catalogue draws its vocabulary first from the same seed: these are its words.
    languages = _languages(random.Random(seed))  # noqa: S311  # nosec B311  # made-up data
    rng = random.Random(seed + 1)  # noqa: S311  # nosec B311  # made-up data
    out = []
    for _ in range(count):
        language = languages[rng.choice(("es", "es", "pt", "en"))]
        rank = int(math.exp(rng.uniform(0, math.log(len(language.words)))))
        out.append(language.words[min(rank, len(language.words)) - 1])
    return out
