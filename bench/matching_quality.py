"""The matching engine's quality benchmark (issue 4, "Quality"): planted true partners among
noise, written in different languages, found or not.

    .venv/bin/python bench/matching_quality.py
    .venv/bin/python bench/matching_quality.py --pairs 150 --noise 1700 --seeds 1 2 3

For each seed it generates `--pairs` true partnerships (one EU and one LAC authority on a
common topic) among `--noise` other authorities (bench/matching.py's generator: the same
theme popularity, kinds, programmes, border areas and wanted partners, so that noise shares
themes with the true partners all the time). A true pair is written the way real ones are:
- in two languages: the EU side in English (Spanish or Portuguese for Spain and Portugal), the
  LAC side in Spanish or Portuguese; each text its own random wording, keywords and topic words;
- with partial theme overlap: the two share two or three core themes, each may drop one and
  add one of its own; each declares its themes only 70 % of the time (otherwise only its texts
  say what it does);
- 60 % of the pairs name the same one or two places, rivers or projects (proper names, the
  same in every language) in some of their texts;
- with the other signals only somewhat more likely than for noise: a programme in common 60 %
  of the time, compatible kinds 70 %, one side's idea asking for the other's kind and themes
  30 %, both in border areas 15 %.

It then asks `engine.rank(top_k=10)` for everyone and reports, over both members of every true
pair, recall@5, recall@10 (the partner in the top 5 / 10) and the mean reciprocal rank (0 when
not in the top 10), plus the share of true pairs that `propose` (the b-matching) picks. Rows:
all signals; each signal removed (its weight set to 0); every pair scored instead of the
generated candidates (what candidate generation loses); the text signal without its
language-neutral half (words only); no themes found in texts (declared themes only); neither
(no bridge across languages but declared themes); and the plain TF-IDF baseline of
bench/matching.py (texts only). Figures are means over the seeds.

A generator can only test what it was written to contain: this measures whether each signal
does its job on data shaped like that, not how the engine fares on real pairings.
"""

import argparse
import contextlib
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.matching import (  # noqa: E402
    EU_AREAS,
    EU_COUNTRIES,
    LAC_COUNTRIES,
    TextMaker,
    _lac_areas,
    _objectives,
    baseline,
    generate,
    load_vocabulary,
    make_profile,
    theme_popularity,
)
from exchange.matching import engine, features  # noqa: E402
from exchange.matching.types import Profile, WantedPartner  # noqa: E402

TOP_K = 10
COMPATIBLE_KINDS = {
    "municipality": ("municipality", "metropolitan_area"),
    "metropolitan_area": ("metropolitan_area", "municipality"),
    "region": ("region",),
    "agency": ("agency", "region"),
    "national_body": ("national_body",),
    "cross_border_body": ("cross_border_body", "region"),
}


def planted(pairs: int, noise: int, seed: int) -> tuple[list[Profile], list[tuple[int, int]]]:
    """Noise authorities (ids 1..noise) and `pairs` true partnerships after them."""
    vocabulary = load_vocabulary()
    maker = TextMaker(vocabulary, seed)
    profiles = generate(noise, seed=seed, maker=maker)
    rng = np.random.default_rng(seed + 100)
    themes = maker.themes
    popularity = theme_popularity(themes)
    objectives = _objectives()
    programmes = sorted(objectives)
    lac_areas = _lac_areas()
    kinds = sorted(COMPATIBLE_KINDS)
    truth = []
    next_id = noise + 1
    for _ in range(pairs):
        core = list(rng.choice(themes, size=int(rng.integers(2, 4)), replace=False, p=popularity))
        topics = []
        for _side in range(2):
            own = [t for t in core if rng.random() < 0.85] or [core[0]]
            extra = [str(t) for t in rng.choice(themes, size=int(rng.integers(0, 2)))]
            topics.append(sorted(set(own) | set(extra)))
        eu_country = str(rng.choice(EU_COUNTRIES.split()))
        lac_country = str(rng.choice(LAC_COUNTRIES.split()))
        eu_language = {"ES": "es", "PT": "pt"}.get(eu_country, "en")
        lac_language = "pt" if lac_country == "BR" else "es"
        eu_kind = str(rng.choice(kinds))
        lac_kind = (
            str(rng.choice(COMPATIBLE_KINDS[eu_kind]))
            if rng.random() < 0.7
            else str(rng.choice(kinds))
        )
        a = make_profile(
            next_id, "EU", eu_kind, eu_country, eu_language, topics[0], maker, rng,
            programmes, objectives, EU_AREAS, declare=rng.random() < 0.7,
        )  # fmt: skip
        b = make_profile(
            next_id + 1, "LAC", lac_kind, lac_country, lac_language, topics[1], maker, rng,
            programmes, objectives, lac_areas, declare=rng.random() < 0.7,
        )  # fmt: skip
        if rng.random() < 0.6:  # a programme (and one of its objectives) in common
            programme = str(rng.choice(programmes))
            objective = str(rng.choice(objectives[programme]))
            a = replace(
                a, programmes=a.programmes | {programme}, objectives=a.objectives | {objective}
            )
            b = replace(
                b, programmes=b.programmes | {programme}, objectives=b.objectives | {objective}
            )
        if rng.random() < 0.3:  # one side's idea asks for a partner like the other
            seeker, sought = (a, b) if rng.random() < 0.5 else (b, a)
            wanted = WantedPartner(
                kinds=frozenset({sought.kind}),
                sides=frozenset({sought.side}),
                themes=frozenset(sorted(set(core))[:2]),
            )
            seeker = replace(seeker, wanted=(wanted,))
            a, b = (seeker, sought) if seeker.side == "EU" else (sought, seeker)
        if rng.random() < 0.15:  # two cross-border regions
            a = replace(a, border_areas=frozenset({str(rng.choice(EU_AREAS))}))
            b = replace(b, border_areas=frozenset({str(rng.choice(lac_areas))}))
        if rng.random() < 0.6:  # the same places, rivers or projects named on both sides
            names = [_name(rng) for _ in range(int(rng.integers(1, 3)))]
            a, b = _mention(a, names, rng), _mention(b, names, rng)
        profiles.extend((a, b))
        truth.append((a.id, b.id))
        next_id += 2
    return profiles, truth


def _name(rng) -> str:
    """A proper name (a place, a river, a project): the same in every language."""
    letters = "bcdfgklmnprstv"
    vowels = "aeiou"
    syllables = int(rng.integers(2, 4))
    word = "".join(
        str(rng.choice(list(letters))) + str(rng.choice(list(vowels))) for _ in range(syllables)
    )
    return word.capitalize() + str(rng.choice(list(letters)))


def _mention(profile: Profile, names: list[str], rng) -> Profile:
    """The names mentioned in some of the profile's texts."""
    documents = list(profile.documents)
    for k in sorted(set(rng.choice(len(documents), size=int(rng.integers(1, 4))).tolist())):
        text = documents[k].text + " " + " ".join(names) + "."
        documents[k] = replace(documents[k], text=text)
    return replace(profile, documents=tuple(documents))


def evaluate(ranking: dict[int, list[int]], truth, proposed: set[tuple[int, int]] | None):
    """recall@5, recall@10, MRR over both members of every true pair; share proposed."""
    hits5 = hits10 = 0
    reciprocal = 0.0
    for a, b in truth:
        for me, partner in ((a, b), (b, a)):
            found = ranking.get(me, [])[:TOP_K]
            if partner in found:
                position = found.index(partner) + 1
                hits10 += 1
                hits5 += position <= 5
                reciprocal += 1 / position
    count = 2 * len(truth)
    share = None if proposed is None else sum((a, b) in proposed for a, b in truth) / len(truth)
    return hits5 / count, hits10 / count, reciprocal / count, share


def run_engine(profiles, vocabulary, truth, weights=None, exhaustive=None):
    run = engine.match_all(
        profiles, vocabulary, top_k=TOP_K, weights=weights, exhaustive=exhaustive
    )
    ranking = {k: [s.counterpart_id for s in v] for k, v in run.ranking.items()}
    proposed = {
        (min(s.authority_id, s.counterpart_id), max(s.authority_id, s.counterpart_id))
        for s in run.proposals
    }
    return evaluate(ranking, truth, proposed)


def run_baseline(profiles, truth):
    ids = [p.id for p in profiles]
    best_eu = baseline(profiles, TOP_K)
    flipped = [replace(p, side="EU" if p.side == "LAC" else "LAC") for p in profiles]
    best_lac = baseline(flipped, TOP_K)
    ranking = {}
    for best in (best_eu, best_lac):
        for row, found in best.items():
            ranking[ids[row]] = [ids[k] for k in found.tolist()]
    return evaluate(ranking, truth, None)


@contextlib.contextmanager
def patched(module, name, value):
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=150)
    parser.add_argument("--noise", type=int, default=1700)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    vocabulary = load_vocabulary()
    rows: dict[str, list] = {}
    for seed in args.seeds:
        profiles, truth = planted(args.pairs, args.noise, seed)
        configs = [("all signals", None)] + [
            (f"without {name}", {name: 0.0}) for name in engine.SIGNALS
        ]
        for label, weights in configs:
            rows.setdefault(label, []).append(run_engine(profiles, vocabulary, truth, weights))
        rows.setdefault("all signals, every pair scored (no candidate generation)", []).append(
            run_engine(profiles, vocabulary, truth, exhaustive=True)
        )
        with patched(engine, "TEXT_CONCEPT_SHARE", 0.0):
            rows.setdefault("text: words only (themes found in texts still count)", []).append(
                run_engine(profiles, vocabulary, truth)
            )
        with patched(features, "DERIVED_THEME_WEIGHT", 0.0):
            rows.setdefault("themes: declared only (none from texts)", []).append(
                run_engine(profiles, vocabulary, truth)
            )
            with patched(engine, "TEXT_CONCEPT_SHARE", 0.0):
                rows.setdefault("no bridge across languages (both of the above)", []).append(
                    run_engine(profiles, vocabulary, truth)
                )
        rows.setdefault("baseline: TF-IDF of the texts", []).append(run_baseline(profiles, truth))
        print(f"seed {seed} done", file=sys.stderr)

    print(
        f"matching engine {engine.ENGINE_VERSION}: {args.pairs} planted EU–LAC pairs among "
        f"{args.noise} other authorities ({args.pairs * 2 + args.noise} in all), "
        f"seeds {', '.join(map(str, args.seeds))} (means)\n"
    )
    print("| configuration | recall@5 | recall@10 | MRR | true pairs proposed |")
    print("|---|---:|---:|---:|---:|")
    for label, results in rows.items():
        r5, r10, mrr = (float(np.mean([r[k] for r in results])) for k in range(3))
        shares = [r[3] for r in results if r[3] is not None]
        proposed = f"{np.mean(shares):.3f}" if shares else "–"
        print(f"| {label} | {r5:.3f} | {r10:.3f} | {mrr:.3f} | {proposed} |")


if __name__ == "__main__":
    main()
