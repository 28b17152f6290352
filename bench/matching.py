"""The matching engine's speed benchmark (issue 4, "Speed").

    .venv/bin/python bench/matching.py                 # N = 1,000, 5,000, 10,000, 50,000
    .venv/bin/python bench/matching.py --sizes 1000 5000

For each N, in a child process of its own (so that each N's peak memory is its own):
1. generates N verified authorities with 5 practices each (plus the profile description):
   mixed-language texts (en, es, pt) drawn from a Zipf vocabulary per language, the theme
   keywords of the authority's topics and topic words, declared themes, objectives, border
   areas, wanted partners and capacities (`generate`, shared with bench/matching_quality.py);
2. times (a) the full proposal run: `engine.match_all` (features, candidates, all signals for
   the candidate pairs in both directions, the ranking top 10 for everyone, and the b-matching
   of the proposals with its greedy total);
3. times (b) the baseline: TF-IDF of the same texts (one document per authority, the same
   `exchange.text` stems; the sparse matrices built with scipy), the sparse product of the EU
   rows with the LAC rows (in row chunks: the full product does not fit in memory at 50,000),
   and the top 10 per row;
4. prints both times, (a)/(b), the peak resident memory of the child (ru_maxrss, which covers
   the generated data and both runs), and how each time grows with N (the exponent between
   successive sizes: 1 is linear, 2 quadratic).

The stemmer cache of exchange.text is emptied before each run so that neither profits from
the other. Targets: at N = 10,000, (a) <= 3 x (b) and (a) < 60 s; at N = 50,000 under 2 GB.
"""

import argparse
import gc
import itertools
import json
import math
import resource
import subprocess
import sys
import time
from array import array
from pathlib import Path

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchange import text as text_module  # noqa: E402
from exchange.matching import engine  # noqa: E402
from exchange.matching.types import (  # noqa: E402
    Document,
    Profile,
    ThemeVocabulary,
    WantedPartner,
)

THEMES_FILE = ROOT / "exchange" / "reference" / "data" / "themes.json"
PROGRAMMES_FILE = ROOT / "exchange" / "reference" / "data" / "programmes.json"
AREAS_FILE = ROOT / "exchange" / "reference" / "data" / "border_areas.json"
SIZES = (1_000, 5_000, 10_000, 50_000)
PRACTICES = 5
TOP_K = 10
TARGET_RATIO, TARGET_SECONDS, TARGET_MEMORY_MB = 3.0, 60.0, 2048

VOCABULARY_SIZE = 20_000
ZIPF_EXPONENT, ZIPF_OFFSET = 1.07, 10
TOPIC_WORDS = 150  # words of each theme's own jargon, per language
EU_COUNTRIES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
LAC_COUNTRIES = "AR BO BR CL CO CR CU DO EC GT HN MX NI PA PE PY SV UY VE"
# Cross-border areas on the EU side (made up for the benchmark; the reference data has LAC's).
EU_AREAS = ("ES-PT", "FR-ES", "DE-FR", "IT-SI", "PL-DE", "SE-FI", "IE-GB", "BE-NL")
KINDS = (
    ("municipality", 0.40),
    ("region", 0.30),
    ("metropolitan_area", 0.10),
    ("agency", 0.08),
    ("national_body", 0.07),
    ("cross_border_body", 0.05),
)
_FUNCTION_WORDS = {
    "es": "de la que el en y a los del se las por un para con una su al lo como más sus o "
    "entre sobre también desde todo durante este esta",
    "pt": "de a o que e do da em um para com não uma os no se na por mais as dos como ao das "
    "à seu sua ou quando também pelo pela entre",
    "en": "the of and to in a is that for it as with was on by be this are from at or an which "
    "have has been their more its into also",
}
_GENERAL_WORDS = {
    "es": "proyecto desarrollo ciudad región municipio programa gobierno local territorio "
    "población servicios comunidad plan estrategia participación empresas calidad red",
    "pt": "projeto desenvolvimento cidade região município programa governo local território "
    "população serviços comunidade plano estratégia participação empresas qualidade rede",
    "en": "project development city region municipality programme government local territory "
    "population services community plan strategy participation companies quality network",
}
# Onsets, vowels and endings of made-up words, per language.
_SYLLABLES = {
    "es": (
        "b c d f g l m n p r s t v ch br pr tr",
        "a e i o u ia ue io",
        "ción idad miento ismo ario al ero ivo ante encia ado ura",
    ),
    "pt": (
        "b c d f g l m n p r s t v ch lh nh br",
        "a e i o u ei ou ia",
        "ção dade mento ismo ário al eiro ivo ante ência ado agem",
    ),
    "en": (
        "b c d f g h l m n p r s t w th sh st",
        "a e i o u ea ee oo",
        "tion ity ment ism ary al er ive ant ence ed ure ing ness",
    ),
}


def load_vocabulary() -> ThemeVocabulary:
    """The reference themes as the services hand them to the engine."""
    data = json.loads(THEMES_FILE.read_text(encoding="utf-8"))
    return ThemeVocabulary(
        keywords={
            t["code"]: {lang: tuple(words) for lang, words in t["keywords"].items()}
            for t in data["themes"]
        },
        groups={t["code"]: t["group"] for t in data["themes"]},
    )


def _words(language: str, rng: np.random.Generator) -> list[str]:
    """A language's content words, most frequent first: a few real ones, then made-up words
    from its syllables and endings (stemmed like real words of that language)."""
    onsets, vowels, endings = (part.split() for part in _SYLLABLES[language])
    seen: set[str] = set()
    ordered = []
    for word in _GENERAL_WORDS[language].split():
        seen.add(word)
        ordered.append(word)
    while len(ordered) < VOCABULARY_SIZE:
        syllables = int(rng.choice((2, 2, 3, 3, 4)))
        word = "".join(str(rng.choice(onsets)) + str(rng.choice(vowels)) for _ in range(syllables))
        if rng.random() < 0.6:
            word += str(rng.choice(endings))
        if word not in seen:
            seen.add(word)
            ordered.append(word)
    return ordered


class TextMaker:
    """Texts in en/es/pt about a set of themes, with different wording each time."""

    def __init__(self, vocabulary: ThemeVocabulary, seed: int):
        rng = np.random.default_rng(seed)
        self.themes = sorted(vocabulary.keywords)
        self.keywords = vocabulary.keywords
        self.words = {lang: _words(lang, rng) for lang in ("en", "es", "pt")}
        ranks = np.arange(1, VOCABULARY_SIZE + 1)
        weights = 1.0 / (ranks + ZIPF_OFFSET) ** ZIPF_EXPONENT
        self.zipf = weights / weights.sum()
        # Each theme has its own words in each language (mid-frequency ones: the jargon).
        self.topic = {
            (theme, lang): rng.choice(np.arange(300, VOCABULARY_SIZE), TOPIC_WORDS, replace=False)
            for theme in self.themes
            for lang in ("en", "es", "pt")
        }
        self.function = {lang: _FUNCTION_WORDS[lang].split() for lang in _FUNCTION_WORDS}

    def text(self, themes, language: str, length: int, rng: np.random.Generator) -> str:
        """About `length` words: function words, general Zipf words, topic words and a few
        keyword phrases of the themes, in `language`; half the time a keyword of some other
        theme too."""
        words = self.words[language]
        general = rng.choice(VOCABULARY_SIZE, size=length, p=self.zipf)
        out = []
        topical = []
        for theme in themes:
            topic = self.topic[(theme, language)]
            topical.extend(words[i] for i in rng.choice(topic, size=max(2, length // 12)))
            keywords = self.keywords[theme][language]
            for _ in range(int(rng.integers(1, 3))):
                topical.append(keywords[int(rng.integers(len(keywords)))])
        if rng.random() < 0.5:
            # An incidental mention of another theme's keyword, as real texts have ("water"
            # in a text about tourism).
            keywords = self.keywords[self.themes[int(rng.integers(len(self.themes)))]][language]
            topical.append(keywords[int(rng.integers(len(keywords)))])
        content = [words[i] for i in general[: max(length - len(topical), 0)]] + topical
        order = rng.permutation(len(content))
        function = self.function[language]
        little = rng.integers(len(function), size=len(content))
        before = rng.random(len(content)) < 0.45
        for k, position in enumerate(order.tolist()):
            if before[k]:
                out.append(function[little[k]])
            out.append(content[position])
        return " ".join(out) + "."


def _objectives() -> dict[str, list[str]]:
    data = json.loads(PROGRAMMES_FILE.read_text(encoding="utf-8"))
    return {p["code"]: [o["code"] for o in p["objectives"]] for p in data}


def _lac_areas() -> list[str]:
    return [area["code"] for area in json.loads(AREAS_FILE.read_text(encoding="utf-8"))]


def theme_popularity(themes: list[str]) -> np.ndarray:
    """Some themes are far more common than others (Zipf over a fixed shuffled order)."""
    weights = 1.0 / np.arange(1, len(themes) + 1) ** 0.8
    order = np.random.default_rng(7).permutation(len(themes))
    popularity = np.empty(len(themes))
    popularity[order] = weights
    return popularity / popularity.sum()


def generate(count: int, seed: int = 1, maker: TextMaker | None = None) -> list[Profile]:
    """`count` authorities (ids 1..count) with a profile text and PRACTICES practices each."""
    vocabulary = load_vocabulary()
    maker = maker or TextMaker(vocabulary, seed)
    rng = np.random.default_rng(seed + 1)
    themes = maker.themes
    popularity = theme_popularity(themes)
    objectives = _objectives()
    programmes = sorted(objectives)
    lac_areas = _lac_areas()
    eu_countries, lac_countries = EU_COUNTRIES.split(), LAC_COUNTRIES.split()
    kinds = [k for k, _ in KINDS]
    kind_p = np.array([p for _, p in KINDS])
    profiles = []
    for authority_id in range(1, count + 1):
        eu = rng.random() < 0.45
        country = str(rng.choice(eu_countries if eu else lac_countries))
        if country in ("BR", "PT"):
            language = "pt"
        elif country == "ES" or not eu:
            language = "es"
        else:
            language = "en"
        kind = kinds[int(rng.choice(len(kinds), p=kind_p))]
        topic = sorted(
            rng.choice(themes, size=int(rng.integers(2, 6)), replace=False, p=popularity)
        )
        profiles.append(
            make_profile(
                authority_id, "EU" if eu else "LAC", kind, country, language, topic,
                maker, rng, programmes, objectives, EU_AREAS if eu else lac_areas,
            )
        )  # fmt: skip
    return profiles


def make_profile(
    authority_id, side, kind, country, language, topic, maker, rng, programmes, objectives, areas,
    *, declare=None, practices=PRACTICES, english_share=0.2,
) -> Profile:  # fmt: skip
    """One authority about `topic` (theme codes) writing mostly in `language`."""
    documents = [Document(maker.text(topic, language, 60, rng), language)]
    for _ in range(practices):
        # A practice is about some of the authority's themes; some are written in English.
        about = [t for t in topic if rng.random() < 0.7] or [topic[0]]
        written = "en" if rng.random() < english_share else language
        documents.append(Document(maker.text(about, written, 110, rng), written))
    chosen = sorted(rng.choice(programmes, size=int(rng.integers(1, 3)), replace=False))
    aims = sorted(
        {str(rng.choice(objectives[p])) for p in chosen for _ in range(int(rng.integers(1, 3)))}
    )
    declared = declare if declare is not None else rng.random() < 0.8
    wanted = ()
    if rng.random() < 0.3:
        wanted = (
            WantedPartner(
                kinds=frozenset({kind}) if rng.random() < 0.5 else frozenset(),
                sides=frozenset({"LAC" if side == "EU" else "EU"}),
                themes=frozenset(topic[: int(rng.integers(1, len(topic) + 1))]),
            ),
        )
    border = ()
    if kind in ("cross_border_body", "region", "municipality") and rng.random() < 0.12:
        border = (str(rng.choice(areas)),)
    return Profile(
        id=authority_id,
        side=side,
        kind=kind,
        country=country,
        languages=frozenset({language, "en"} if rng.random() < 0.3 else {language}),
        themes=frozenset(topic) if declared else frozenset(),
        objectives=frozenset(aims),
        programmes=frozenset(chosen),
        border_areas=frozenset(border),
        documents=tuple(documents),
        wanted=wanted,
        capacity=int(rng.integers(1, 6)),
    )


# The baseline -----------------------------------------------------------------------------


def baseline(profiles: list[Profile], top_k: int = TOP_K) -> dict[int, np.ndarray]:
    """TF-IDF (sublinear tf, smooth idf, unit rows) of each authority's texts, EU rows × LAC
    rows in chunks, the top_k LAC counterparts of each EU row (row numbers, best first)."""
    terms: dict[str, int] = {}
    # Compact buffers (not lists of Python ints) so that the baseline's memory is fair too.
    indptr, cols, counts = array("q", [0]), array("i"), array("i")
    for profile in profiles:
        row: dict[int, int] = {}
        for document in profile.documents:
            for term in text_module.document_terms(document.text, document.language):
                column = terms.setdefault(term, len(terms))
                row[column] = row.get(column, 0) + 1
        cols.extend(row)
        counts.extend(row.values())
        indptr.append(len(cols))
    n = len(profiles)
    matrix = sparse.csr_array(
        (
            np.frombuffer(counts, dtype=np.int32).astype(np.float32),
            np.frombuffer(cols, dtype=np.int32),
            np.frombuffer(indptr, dtype=np.int64),
        ),
        shape=(n, len(terms)),
    )
    df = np.bincount(matrix.indices, minlength=len(terms))
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    matrix.data = (1 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix = sparse.csr_array(sparse.diags_array(1 / np.where(norms > 0, norms, 1)) @ matrix)
    eu = np.array([i for i, p in enumerate(profiles) if p.side == "EU"])
    lac = np.array([i for i, p in enumerate(profiles) if p.side == "LAC"])
    lac_t = matrix[lac].T.tocsr()
    best = {}
    step = max(1, 4_000_000 // max(len(lac), 1))
    for start in range(0, len(eu), step):
        rows = eu[start : start + step]
        product = (matrix[rows] @ lac_t).toarray()
        keep = min(top_k, product.shape[1])
        top = np.argpartition(-product, keep - 1, axis=1)[:, :keep]
        order = np.argsort(-np.take_along_axis(product, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        for k, row in enumerate(rows.tolist()):
            best[row] = lac[top[k]]
    return best


# The run --------------------------------------------------------------------------------------


def measure(size: int) -> dict:
    """Generate, time (a) and (b), report (in a child process of its own)."""
    started = time.perf_counter()
    profiles = generate(size)
    vocabulary = load_vocabulary()
    generated = time.perf_counter() - started
    gc.collect()
    memory_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text_module._word_terms.cache_clear()
    started = time.perf_counter()
    run = engine.match_all(profiles, vocabulary, top_k=TOP_K)
    full = time.perf_counter() - started
    memory_full = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outcome = {
        "candidate_pairs": run.candidate_pairs,
        "proposals": len(run.proposals),
        "total": run.total,
        "greedy_total": run.greedy_total,
    }
    del run  # the baseline's memory is its own
    text_module._word_terms.cache_clear()
    gc.collect()
    started = time.perf_counter()
    baseline(profiles)
    base = time.perf_counter() - started
    memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n": size,
        "generated_s": generated,
        "full_s": full,
        "baseline_s": base,
        "ratio": full / base,
        "peak_after_data_mb": memory_data,
        "peak_after_full_mb": memory_full,
        "peak_mb": memory,
        **outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    results = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"N={size:,}: full {result['full_s']:.1f} s, baseline {result['baseline_s']:.1f} s, "
            f"peak {result['peak_mb']:.0f} MB",
            file=sys.stderr,
        )
    print(f"matching engine {engine.ENGINE_VERSION}; memory = peak resident set (ru_maxrss) of")
    print("the child process for that N: after generating the data, after (a) (which runs")
    print("first), and at the end (after (b)).\n")
    print(
        "| N | (a) full run s | (b) baseline s | (a)/(b) | data MB | peak after (a) MB "
        "| peak MB | candidate pairs | proposals | b-matching total | greedy total |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['n']:,} | {r['full_s']:.1f} | {r['baseline_s']:.1f} | {r['ratio']:.2f} "
            f"| {r['peak_after_data_mb']:.0f} | {r['peak_after_full_mb']:.0f} "
            f"| {r['peak_mb']:.0f} | {r['candidate_pairs']:,} "
            f"| {r['proposals']:,} | {r['total']:.1f} | {r['greedy_total']:.1f} |"
        )
    if len(results) > 1:
        print("\nGrowth (time ∝ N^k between successive sizes):\n")
        print("| from N | to N | k (a) | k (b) |")
        print("|---:|---:|---:|---:|")
        for a, b in itertools.pairwise(results):
            scale = math.log(b["n"] / a["n"])
            print(
                f"| {a['n']:,} | {b['n']:,} | {math.log(b['full_s'] / a['full_s']) / scale:.2f} "
                f"| {math.log(b['baseline_s'] / a['baseline_s']) / scale:.2f} |"
            )
    print()
    for r in results:
        if r["n"] == 10_000:
            ok = r["ratio"] <= TARGET_RATIO and r["full_s"] < TARGET_SECONDS
            print(
                f"N=10,000: (a)/(b) {r['ratio']:.2f} <= 3 and (a) < 60 s: {'yes' if ok else 'NO'}"
            )
        if r["n"] == 50_000:
            ok = r["peak_after_full_mb"] < TARGET_MEMORY_MB
            print(
                f"N=50,000: peak of the full run (data included) {r['peak_after_full_mb']:.0f} MB"
                f" < 2,048 MB: {'yes' if ok else 'NO'}"
            )


if __name__ == "__main__":
    main()
