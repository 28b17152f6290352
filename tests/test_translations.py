"""Every text of the interface and the e-mails exists in Spanish and Portuguese."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
METHODS = [
    ("exchange/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]


def _source_messages() -> set:
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, METHODS, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.fixture(scope="module")
def source_messages():
    messages = _source_messages()
    assert len(messages) > 250  # the extraction really read the code and the templates
    return messages


@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_text_is_translated(language, source_messages):
    path = ROOT / "exchange" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    problems = []
    for message in sorted(source_messages, key=str):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalogue.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(translations):
            problems.append(f"untranslated: {msgid!r}")
            continue
        expected = set(PLACEHOLDER.findall(msgid))
        for translation in translations:
            if set(PLACEHOLDER.findall(translation)) != expected:
                problems.append(f"placeholders differ: {msgid!r} -> {translation!r}")
    assert problems == [], "\n".join(problems)


def test_pages_in_spanish_and_portuguese_have_no_english_left(client):
    english = {"Log in", "Register", "Authorities", "Programmes", "Skip to main content"}
    for language, expected in (("es", "Iniciar sesión"), ("pt", "Entrar")):
        page = client.get("/", headers={"Accept-Language": language}).get_data(as_text=True)
        assert expected in page
        visible = re.sub(r"<[^>]+>", "\n", page)
        lines = {line.strip() for line in visible.splitlines()}
        assert not (english & lines), english & lines
