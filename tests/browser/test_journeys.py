"""The product as its users meet it: two authorities register (in Spanish and in Portuguese),
confirm their addresses from the e-mails, complete their profiles and submit good practices with
a PDF; a coordinator verifies them, asks for changes on one practice and publishes both, runs
matching and approves the proposal between them; both partners accept from the match e-mail, get
the introduction, and one records a meeting; a visitor finds a practice in the catalogue.

The tests of this module are one story told in order (run the module whole): each builds on what
the ones before it left in the database (the package keeps the tables until it ends), and fails
at once when an earlier step failed. Every page is found by its accessible roles and labels, in
the language the person reads, screenshotted at desktop and phone widths, and checked by axe-core.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from exchange.extensions import db
from exchange.reference.services import load_reference
from tests.browser.conftest import Person
from tests.factories import PASSWORD, make_coordinator

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def small_pdf(text: str) -> bytes:
    """A real one-page PDF that says `text` (Helvetica), with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@dataclass
class Authority:
    """One side of the story: who registers, what they write, where it lands."""

    journey: str
    language: str
    locale: str
    person: str
    email: str
    authority: str
    kind: str
    country: str
    subdivision: str
    website: str
    description: str
    programme: str
    themes: list[str]
    practice: dict[str, str]
    pdf_name: str
    browser: Person | None = None
    practice_url: str = ""


LATIN_AMERICA = Authority(
    journey="1-latin-america-es",
    language="es",
    locale="en-US",
    person="Lucía Quispe Mamani",
    email="lucia.quispe@tacna.example.org",
    authority="Gobierno Regional de Tacna (prueba)",
    kind="region",
    country="PE",
    subdivision="PE-TAC",
    website="https://www.regiontacna.example.org",
    description=(
        "Región del sur del Perú, en la frontera con Chile. Trabajamos en la gestión del agua "
        "en zonas áridas, la economía circular y la cooperación transfronteriza con Arica."
    ),
    programme="IURC",
    themes=["Gestión del agua y saneamiento", "Economía circular"],
    practice={
        "Title": "Humedales artificiales para reutilizar las aguas residuales de Tacna",
        "Summary": (
            "Tacna trata las aguas residuales urbanas en humedales artificiales y las reutiliza "
            "para regar parques y cultivos en pleno desierto."
        ),
        "The problem it addresses": (
            "Tacna recibe menos de 20 mm de lluvia al año y el acuífero baja cada año."
        ),
        "What was done": (
            "Se construyeron humedales artificiales junto a la planta de tratamiento y una red "
            "de riego para 40 hectáreas de parques."
        ),
        "Results and evidence": (
            "Un 30 % menos de agua potable usada para riego; mediciones trimestrales de calidad."
        ),
        "What makes it transferable": (
            "Funciona en cualquier ciudad árida con una planta de tratamiento y terreno cercano."
        ),
    },
    pdf_name="humedales-tacna.pdf",
)

EUROPE = Authority(
    journey="2-europe-pt",
    language="pt",
    locale="pt-PT",
    person="João Ferreira",
    email="joao.ferreira@altominho.example.org",
    authority="Comunidade Intermunicipal do Alto Minho (teste)",
    kind="region",
    country="PT",
    subdivision="PT-16",
    website="https://www.cim-altominho.example.org",
    description=(
        "Comunidade intermunicipal no norte de Portugal, na fronteira com a Galiza. Trabalhamos "
        "na gestão da água, na economia circular e na cooperação transfronteiriça."
    ),
    programme="IURC",
    themes=["Gestão da água e saneamento", "Economia circular"],
    practice={
        "Title": "Reutilização de águas residuais tratadas na rega agrícola do Alto Minho",
        "Summary": (
            "O Alto Minho reutiliza águas residuais tratadas para regar campos agrícolas e "
            "jardins municipais durante o verão."
        ),
        "The problem it addresses": (
            "Os verões cada vez mais secos esgotam as captações de água dos municípios."
        ),
        "What was done": (
            "Uma estação de tratamento com afinação terciária e uma rede de rega partilhada "
            "entre dez municípios."
        ),
        "Results and evidence": (
            "Dois milhões de metros cúbicos de água reutilizados por ano; controlo mensal."
        ),
        "What makes it transferable": (
            "Serve qualquer região com estações de tratamento perto de zonas agrícolas."
        ),
    },
    pdf_name="reutilizacao-alto-minho.pdf",
)


@dataclass
class Story:
    """What the steps pass on to the next ones."""

    failed: str = ""
    coordinator: Person | None = None
    coordinator_email: str = ""


STORY = Story()


@pytest.fixture(autouse=True)
def _in_order(request):
    """A step after a failed one fails at once, naming the first failure."""
    if STORY.failed:
        pytest.fail(f"an earlier step failed: {STORY.failed}")
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        STORY.failed = request.node.name


@pytest.fixture(scope="module", autouse=True)
def _reference_data(app, live_server):
    """The programmes, objectives and themes the forms offer."""
    with app.app_context():
        load_reference()
        db.session.commit()
        db.session.remove()


# 1 and 2: authorities register, confirm, complete their profiles, draft a practice ----------------


def register_and_draft(side: Authority, people, inbox) -> None:
    person = people(side.journey, email=side.email, language=side.language, locale=side.locale)
    side.browser = person
    page, _ = person.page, person._

    page.goto("/")
    person.shoot("home")
    if side.language == "es":
        # An office computer set up in English: the person switches to Spanish in the header.
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("button", name="Español").click()
    # Portuguese comes from the browser's own language (pt-PT).
    expect(page.locator("html")).to_have_attribute("lang", side.language)
    person.nav.get_by_role("link", name=_("Register")).click()
    expect(page.get_by_role("heading", level=1, name=_("Register"))).to_be_visible()

    page.get_by_label(_("Your name")).fill(side.person)
    page.get_by_label(_("Work e-mail address")).fill(side.email)
    page.get_by_label(_("Password"), exact=True).fill("terraza azul del río seco 2026")
    expect(page.get_by_label(_("Language for e-mails and pages"))).to_have_value(side.language)
    page.get_by_label(_("Register my authority (a coordinator will verify it)")).check()
    page.get_by_label(_("Name of the authority")).fill(side.authority)
    page.get_by_label(_("Kind of authority")).select_option(side.kind)
    page.wait_for_load_state()  # the script that fetches the regions is listening
    page.get_by_label(_("Country")).select_option(side.country)
    region = page.get_by_label(_("Region, state or province"))
    # The regions of the chosen country arrive from the server.
    expect(region.locator(f'option[value="{side.subdivision}"]')).to_be_attached()
    region.select_option(side.subdivision)
    page.get_by_label(_("Website")).fill(side.website)
    person.shoot("registration form")
    page.get_by_role("button", name=_("Create my account"), exact=True).click()

    expect(page.get_by_role("heading", level=1, name=_("My account"))).to_be_visible()
    expect(page.get_by_role("region", name=_("Address confirmation"))).to_be_visible()
    person.shoot("account waiting for confirmation")

    # The e-mail arrives in the language chosen on the form.
    message = inbox.wait_for(side.email, _("Confirm your e-mail address for Exchange"))
    person.shoot_email("confirmation e-mail", message.html)
    page.goto(inbox.link(message, "/confirm/"))
    expect(page.get_by_role("region", name=_("Address confirmation"))).to_have_count(0)
    confirmed = _("Thank you: your address %(email)s is confirmed.") % {"email": side.email}
    expect(page.get_by_role("status").first).to_have_text(confirmed)
    person.shoot("address confirmed")

    # The profile, from the account menu.
    person.nav.get_by_role("button", name=re.compile(_("My account"))).click()
    page.get_by_role("link", name=_("My authority")).click()
    expect(page.get_by_role("heading", level=1, name=side.authority)).to_be_visible()
    person.shoot("authority page")
    page.get_by_role("link", name=_("Edit the profile")).click()
    page.get_by_label(_("Description"), exact=True).fill(side.description)
    page.get_by_label(_("Language of the description")).select_option(side.language)
    page.get_by_role("checkbox", name=re.compile(side.programme)).check()
    for theme in side.themes:
        page.get_by_role("checkbox", name=theme, exact=True).check()
    person.shoot("profile form")
    page.get_by_role("button", name=_("Save the profile"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=side.authority)).to_be_visible()
    for theme in side.themes:
        expect(page.get_by_text(theme, exact=True)).to_be_visible()
    person.shoot("profile saved")

    # A practice, drafted from the workspace, with a PDF.
    person.nav.get_by_role("link", name=_("Workspace")).click()
    expect(page.get_by_role("heading", level=1, name=_("Workspace"))).to_be_visible()
    person.shoot("workspace")
    page.get_by_role("link", name=_("New good practice")).click()
    page.get_by_label(_("Language it is written in")).select_option(side.language)
    for label, text in side.practice.items():
        page.get_by_label(_(label), exact=True).fill(text)
    for theme in side.themes:
        page.get_by_role("checkbox", name=theme, exact=True).check()
    person.shoot("practice form")
    page.get_by_role("button", name=_("Save the draft"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=side.practice["Title"])).to_be_visible()
    side.practice_url = page.url
    page.get_by_label(_("Add a file")).set_input_files(
        {"name": side.pdf_name, "mimeType": "application/pdf", "buffer": small_pdf(side.pdf_name)}
    )
    page.get_by_role("button", name=_("Upload the file"), exact=True).click()
    expect(page.get_by_role("link", name=side.pdf_name)).to_be_visible()
    # Not verified yet: the page says why it cannot be submitted, and offers no button.
    status = page.get_by_role("region", name=_("Status"))
    expect(status).to_contain_text(
        _("Your authority is not verified yet: you can prepare drafts, not submit them.")
    )
    expect(status.get_by_role("button", name=_("Submit for review"), exact=True)).to_have_count(0)
    person.shoot("draft with attachment")


def test_latin_american_authority_registers_in_spanish(people, inbox):
    register_and_draft(LATIN_AMERICA, people, inbox)


def test_eu_authority_registers_in_portuguese(people, inbox):
    register_and_draft(EUROPE, people, inbox)


# 3: a coordinator verifies both; the authorities submit; one practice goes back for changes ------


def log_in(person: Person, email: str, password: str) -> None:
    page, _ = person.page, person._
    page.goto("/")
    person.nav.get_by_role("link", name=_("Log in")).click()
    page.get_by_label(_("E-mail address")).fill(email)
    page.get_by_label(_("Password"), exact=True).fill(password)
    person.shoot("log in")
    page.get_by_role("button", name=_("Log in"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=_("My account"))).to_be_visible()


def open_coordination(person: Person, item: str) -> None:
    """A page of the coordinators' menu in the header."""
    person.nav.get_by_role("button", name=person._("Coordination")).click()
    person.page.get_by_role("link", name=person._(item)).click()


def submit_practice(side: Authority, inbox) -> None:
    person = side.browser
    page, _ = person.page, person._
    page.goto(side.practice_url)
    page.get_by_role("button", name=_("Submit for review"), exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(
        _("It is sent for review. You will receive an e-mail when the coordinators decide.")
    )
    person.shoot("submitted")
    title = side.practice["Title"]
    inbox.wait_for(side.email, _("We received “%(title)s” for review") % {"title": title})


def test_coordinator_verifies_both_authorities(people, inbox):
    coordinator = make_coordinator(
        email="ana.coordinadora@programmes.example.org", name="Ana Ruiz", language="es"
    )
    STORY.coordinator_email = coordinator.email
    person = people("3-coordinator", email=STORY.coordinator_email, language="es", locale="es-MX")
    STORY.coordinator = person
    page, _ = person.page, person._
    log_in(person, STORY.coordinator_email, PASSWORD)

    open_coordination(person, "Verification")
    expect(
        page.get_by_role("heading", level=1, name=_("Verification of authorities"))
    ).to_be_visible()
    person.shoot("verification queue")
    for side in (LATIN_AMERICA, EUROPE):
        entry = page.get_by_role("article", name=side.authority)
        expect(entry).to_contain_text(side.email)
        entry.get_by_role("button", name=_("Verify"), exact=True).click()
        expect(page.get_by_role("status").first).to_contain_text(side.authority)
    expect(page.get_by_text(_("Nothing is waiting."))).to_be_visible()
    person.shoot("everyone verified")

    for side in (LATIN_AMERICA, EUROPE):
        author = side.browser
        inbox.wait_for(
            side.email,
            author._("%(authority)s is verified on Exchange") % {"authority": side.authority},
        )
        submit_practice(side, inbox)


def test_coordinator_requests_changes_then_publishes(inbox):
    person = STORY.coordinator
    page, _ = person.page, person._
    open_coordination(person, "Review queue")
    queue = page.get_by_role("table")
    for side in (LATIN_AMERICA, EUROPE):
        expect(queue.get_by_role("link", name=side.practice["Title"])).to_be_visible()
    person.shoot("review queue")

    # The Latin-American practice goes back with a comment.
    queue.get_by_role("link", name=LATIN_AMERICA.practice["Title"]).click()
    expect(page.get_by_role("link", name=LATIN_AMERICA.pdf_name)).to_be_visible()
    page.get_by_label(_("Comment for the authors")).fill(
        "Añadan el costo de los humedales y quién los mantiene."
    )
    person.shoot("review with a comment")
    page.get_by_role("button", name=_("Request changes"), exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    person.shoot("changes requested")

    # The European one is published as it is.
    open_coordination(person, "Review queue")
    page.get_by_role("table").get_by_role("link", name=EUROPE.practice["Title"]).click()
    page.get_by_role("button", name=_("Approve and publish"), exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    europe = EUROPE.browser
    inbox.wait_for(
        EUROPE.email, europe._("“%(title)s” is published") % {"title": EUROPE.practice["Title"]}
    )


def test_author_revises_and_the_revision_is_published(inbox):
    side = LATIN_AMERICA
    person = side.browser
    page, _ = person.page, person._
    title = side.practice["Title"]
    message = inbox.wait_for(
        side.email, _("Action needed: changes requested on “%(title)s”") % {"title": title}
    )
    assert "costo de los humedales" in message.text
    person.shoot_email("changes requested e-mail", message.html)
    # The link opens the form, under the coordinators' comment.
    page.goto(inbox.link(message, "/practices/"))
    expect(page.get_by_role("heading", level=1, name=_("Edit the good practice"))).to_be_visible()
    expect(page.get_by_text("Añadan el costo de los humedales")).to_be_visible()
    person.shoot("form with the coordinators' comment")
    page.get_by_label(_("Resources and cost"), exact=True).fill(
        "180 000 soles de inversión; el mantenimiento lo hace la empresa de agua EPS Tacna."
    )
    page.get_by_role("button", name=_("Save the draft"), exact=True).click()
    page.get_by_role("button", name=_("Submit for review"), exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    person.shoot("revision submitted")

    coordinator = STORY.coordinator
    page, _ = coordinator.page, coordinator._
    open_coordination(coordinator, "Review queue")
    page.get_by_role("table").get_by_role("link", name=title).click()
    changes = page.get_by_role("region", name=_("What changed"))
    expect(changes).to_contain_text("EPS Tacna")
    coordinator.shoot("review of the revision")
    page.get_by_role("button", name=_("Approve and publish"), exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    inbox.wait_for(side.email, person._("“%(title)s” is published") % {"title": title})


# 4: matching, from the console to the meeting ----------------------------------------------------


def test_coordinator_runs_matching_and_approves_the_pair(inbox):
    person = STORY.coordinator
    page, _ = person.page, person._
    open_coordination(person, "Matching proposals")
    expect(page.get_by_role("heading", level=1, name=_("Matching: proposals"))).to_be_visible()
    page.get_by_role("button", name=_("Run matching now"), exact=True).click()
    proposals = page.locator("#proposals")
    # The workers compute the run; the page says to reload it.
    for _attempt in range(60):
        if proposals.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(proposals).to_contain_text(LATIN_AMERICA.authority)
    expect(proposals).to_contain_text(EUROPE.authority)
    person.shoot("brokerage console")
    row = proposals.get_by_role("row").filter(has_text=LATIN_AMERICA.authority)
    row.get_by_role("link", name=re.compile(_("Details"))).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(LATIN_AMERICA.authority)
    expect(heading).to_contain_text(EUROPE.authority)
    person.shoot("proposal")
    page.get_by_label(_("Personal note to both authorities (optional)")).fill(
        "Ambas reutilizan aguas residuales tratadas para riego: vale la pena hablar."
    )
    page.get_by_role("button", name=_("Preview the e-mails"), exact=True).click()
    expect(page.get_by_role("region", name=_("E-mail preview: the offer"))).to_be_visible()
    person.shoot("e-mail preview")
    page.get_by_role("button", name=_("Approve and offer the match"), exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    person.shoot("match approved")


def accept_match(side: Authority, other: Authority, inbox) -> None:
    person = side.browser
    page, _ = person.page, person._
    subject = _("Action needed: a partner proposed for %(authority)s: %(other)s") % {
        "authority": side.authority,
        "other": other.authority,
    }
    message = inbox.wait_for(side.email, subject)
    assert other.email not in message.text  # no contacts before both accept
    person.shoot_email("match e-mail", message.html)
    page.goto("/")
    person.nav.get_by_role("link", name=re.compile(_("Notifications"))).click()
    expect(page.get_by_role("link", name=subject)).to_be_visible()
    person.shoot("notification centre")
    page.goto(inbox.link(message, "/matches/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(other.authority)
    expect(
        page.get_by_role("note").filter(
            has_text=_("Contact details are exchanged only when both authorities have accepted.")
        )
    ).to_be_visible()
    person.shoot("match page")
    page.get_by_role("button", name=_("Accept the match"), exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    person.shoot("match accepted")


def test_partners_accept_are_introduced_and_meet(inbox):
    accept_match(LATIN_AMERICA, EUROPE, inbox)
    accept_match(EUROPE, LATIN_AMERICA, inbox)
    for side, other in ((LATIN_AMERICA, EUROPE), (EUROPE, LATIN_AMERICA)):
        person = side.browser
        subject = person._("You are connected with %(other)s: here are their contact details") % {
            "other": other.authority
        }
        message = inbox.wait_for(side.email, subject)
        assert other.email in message.text
        person.shoot_email("introduction e-mail", message.html)

    person = EUROPE.browser
    page, _ = person.page, person._
    page.reload()
    expect(page.get_by_text(LATIN_AMERICA.email)).to_be_visible()
    page.get_by_label(_("Stage reached")).select_option("met")
    page.get_by_label(_("Note (optional)")).fill("Videochamada a 3 de março com a equipa de Tacna.")
    page.get_by_role("button", name=_("Record the stage"), exact=True).click()
    stages = page.get_by_role("region", name=_("Stages"))
    expect(stages.get_by_role("listitem").filter(has_text=_("Met"))).to_contain_text(_("reached"))
    person.shoot("meeting recorded")


# 5: a visitor finds the practice ------------------------------------------------------------------


def test_visitor_finds_the_practice_in_the_catalogue(people):
    person = people("5-visitor", language="pt", locale="pt-BR")
    page, _ = person.page, person._
    page.goto("/")
    person.nav.get_by_role("link", name=_("Catalogue")).click()
    page.get_by_label(_("Search the catalogue")).fill("humedales")
    filters = page.get_by_role("region", name=_("Filters"))
    filters.locator("summary").get_by_text(_("Country"), exact=True).click()  # it folds open
    filters.get_by_role("checkbox", name="Peru").check()
    person.shoot("search and filter")
    page.get_by_role("button", name=_("Apply the filters"), exact=True).click()
    results = page.get_by_role("region", name=_("Results"))
    expect(results.locator(".catalogue-results > li")).to_have_count(1)
    expect(results.get_by_role("link", name=LATIN_AMERICA.practice["Title"])).to_be_visible()
    person.shoot("catalogue results")
    results.get_by_role("link", name=LATIN_AMERICA.practice["Title"]).click()
    expect(page.get_by_text("EPS Tacna")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=LATIN_AMERICA.pdf_name).click()
    assert download.value.suggested_filename == LATIN_AMERICA.pdf_name
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    person.shoot("practice page")


# 6: a project idea: drafted, published, found by the other side, which shows interest ------------

IDEA = {
    "Title": "Ruta binacional del agua Tacna–Arica",
    "Summary": (
        "Un circuito de humedales y riego con aguas tratadas a ambos lados de la frontera, con "
        "visitas técnicas para otras regiones áridas."
    ),
    "Description": (
        "Unir las experiencias de Tacna y Arica en el reúso de aguas residuales: obras piloto, "
        "intercambio de técnicos y una guía común."
    ),
    "Expected results": "Dos pilotos funcionando y una guía publicada en tres idiomas.",
}


def test_an_idea_is_published_and_a_partner_shows_interest(inbox):
    side, other = LATIN_AMERICA, EUROPE
    person = side.browser
    page, _ = person.page, person._
    page.goto("/")
    person.nav.get_by_role("link", name=_("Workspace")).click()
    page.get_by_role("link", name=_("New project idea")).click()
    page.get_by_label(_("Language it is written in")).select_option(side.language)
    for label, text in IDEA.items():
        page.get_by_label(_(label), exact=True).fill(text)
    page.get_by_label(_("Border area")).select_option(label="Perú–Chile")
    page.get_by_label(_("Open to partners until")).fill(
        (date.today() + timedelta(days=120)).isoformat()
    )
    themes = page.get_by_role("group", name=_("Themes"), exact=True)
    themes.get_by_role("checkbox", name=side.themes[0], exact=True).check()
    page.get_by_role("group", name=_("From which side")).get_by_role(
        "checkbox", name=_("European Union")
    ).check()
    person.shoot("idea form")
    page.get_by_role("button", name=_("Save the draft"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=IDEA["Title"])).to_be_visible()
    page.get_by_role("button", name=_("Submit for review"), exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(
        _("It is sent for review. You will receive an e-mail when the coordinators decide.")
    )
    person.shoot("idea submitted")

    coordinator = STORY.coordinator
    open_coordination(coordinator, "Review queue")
    coordinator.page.get_by_role("table").get_by_role("link", name=IDEA["Title"]).click()
    coordinator.page.get_by_role(
        "button", name=coordinator._("Approve and publish"), exact=True
    ).click()
    expect(coordinator.page.get_by_role("status").first).to_be_visible()
    coordinator.shoot("idea published")
    inbox.wait_for(side.email, _("“%(title)s” is published") % {"title": IDEA["Title"]})

    # The European authority finds it among the ideas, and writes to its owners.
    partner = other.browser
    page, _ = partner.page, partner._
    page.goto("/")
    partner.nav.get_by_role("link", name=_("Catalogue")).click()
    filters = page.get_by_role("region", name=_("Filters"))
    filters.locator("summary").get_by_text(_("Type"), exact=True).click()
    filters.get_by_role("checkbox", name=_("Project idea")).check()
    page.get_by_role("button", name=_("Apply the filters"), exact=True).click()
    results = page.get_by_role("region", name=_("Results"))
    results.get_by_role("link", name=IDEA["Title"]).click()
    expect(page.get_by_role("heading", level=1, name=IDEA["Title"])).to_be_visible()
    partner.shoot("idea page")
    page.get_by_label(_("Your message to the owners")).fill(
        "Temos dois pilotos de reutilização no Alto Minho: podemos partilhar os dados de rega."
    )
    page.get_by_role("button", name=_("Tell the owners"), exact=True).click()
    expect(page.get_by_text(_("Your authority has already shown interest."))).to_be_visible()
    partner.shoot("interest sent")

    # The owner hears of it by e-mail, in Spanish, and answers from the workspace.
    page, _ = person.page, person._
    subject = _("Action needed: %(authority)s is interested in “%(title)s”") % {
        "authority": other.authority,
        "title": IDEA["Title"],
    }
    message = inbox.wait_for(side.email, subject)
    person.shoot_email("interest e-mail", message.html)
    page.goto(inbox.link(message, "/workspace"))
    page.get_by_label(_("Your answer")).fill("¡Con gusto! Les escribimos esta semana.")
    person.shoot("answering the interest")
    page.get_by_role("button", name=_("Send the answer"), exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    person.shoot("interest answered")

    # And the partner gets the answer, in Portuguese.
    subject = partner._("%(authority)s answered about “%(title)s”") % {
        "authority": side.authority,
        "title": IDEA["Title"],
    }
    message = inbox.wait_for(other.email, subject)
    assert "¡Con gusto!" in message.text
    partner.shoot_email("answer e-mail", message.html)
