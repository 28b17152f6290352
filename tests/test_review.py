"""The coordinators' review: the queue and its filters, the review page and what changed, the
decisions and their e-mails, bulk decisions behind a confirmation, and the dashboard."""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from markupsafe import Markup
from sqlalchemy import func, select

from exchange.activity.models import ActivityEntry
from exchange.database import utcnow
from exchange.extensions import db
from exchange.notifications.models import Notification
from exchange.notifications.services import queue_notification
from exchange.reference.models import Objective, Theme
from exchange.review.diff import word_diff
from exchange.submissions import services
from exchange.submissions.models import Decision, Review, Submission
from exchange.workflow import State
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    make_user,
    practice_content,
)

pytestmark = pytest.mark.usefixtures("reference")


# Helpers ---------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """The rows of every table with an id, as lists of cell texts (th and td)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._cell is not None:
            self._cell.append(" ")  # elements inside a cell read as separate words
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table is not None and not self._in_head:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(page: str, table_id: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(page)
    assert table_id in parser.tables, f"no table {table_id}"
    return parser.tables[table_id]


def queue_titles(page: str) -> list[str]:
    return [row[1] for row in table(page, "review-queue")] if "review-queue" in page else []


def marks(page: str) -> str:
    """The diff without its classes and screen-reader prefixes: "<ins>x</ins>", "<del>y</del>"."""
    page = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", page)
    return re.sub(r"<(ins|del) [^>]*>", r"<\1>", page)


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def reload(submission_id: int) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission_id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def settle(mailbox, expected: int):
    """Wait for `expected` messages and one sentinel queued after them (see test_authorities)."""
    sentinel = make_user(email="sentinel@example.org")
    queue_notification(sentinel, "auth.confirm_email")
    db.session.commit()
    messages = mailbox.wait_for(expected + 1)
    others = [m for m in messages if m.to != "sentinel@example.org"]
    assert len(others) == expected, [(m.to, m.subject) for m in messages]
    return others


def waiting_since(submission: Submission, days: float) -> None:
    """Put the item `days` back in the queue, as if it had been submitted then."""
    submission.submitted_at = utcnow() - timedelta(days=days)
    db.session.commit()


def objective_id(code: str) -> int:
    return db.session.scalar(select(Objective.id).where(Objective.code == code))


def theme_id(code: str) -> int:
    return db.session.scalar(select(Theme.id).where(Theme.code == code))


@pytest.fixture
def coordinator():
    return make_coordinator(name="Carla Coordinadora")


@pytest.fixture
def author():
    return make_member(make_authority(name="Gobierno Regional de Tacna"), name="Ana Autora")


# Access ----------------------------------------------------------------------------------------


def _routes(submission_id: int) -> list[tuple[str, str]]:
    return [
        ("get", "/review/"),
        ("get", "/review/dashboard"),
        ("get", f"/review/{submission_id}"),
        ("post", f"/review/{submission_id}/start_review"),
        ("post", f"/review/{submission_id}/publish"),
        ("post", f"/review/{submission_id}/request_changes"),
        ("post", f"/review/{submission_id}/reject"),
        ("post", "/review/bulk"),
    ]


def test_visitors_are_sent_to_log_in(app, author):
    submission = make_submission(author, state="submitted")
    client = app.test_client()
    for method, path in _routes(submission.id):
        data = {"csrf_token": csrf_token(client, "/login")} if method == "post" else None
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 302, path
        assert response.location.startswith("/login"), path
    assert reload(submission.id).state == State.SUBMITTED


def test_members_are_refused(app, author):
    submission = make_submission(author, state="submitted")
    for member in (author, make_member(make_authority(name="Other"))):
        client = signed_in(app, member)
        token = csrf_token(client)
        for method, path in _routes(submission.id):
            data = {
                "csrf_token": token,
                "comment": "Aprobado",
                "action": "publish",
                "submission_ids": [str(submission.id)],
                "confirm": "yes",
            }
            response = getattr(client, method)(path, data=data if method == "post" else None)
            assert response.status_code == 403, (member, path)
    assert reload(submission.id).state == State.SUBMITTED
    assert count(Review) == 0


def test_coordinators_and_admins_open_every_page(app, author):
    submission = make_submission(author, state="submitted")
    for person in (make_coordinator(), make_admin()):
        client = signed_in(app, person)
        for path in ("/review/", "/review/dashboard", f"/review/{submission.id}"):
            assert client.get(path).status_code == 200, path


def test_an_unknown_item_is_not_found(app, coordinator):
    client = signed_in(app, coordinator)
    assert client.get("/review/999").status_code == 404
    response = client.post("/review/999/publish", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404


# The queue -------------------------------------------------------------------------------------


def test_the_queue_lists_only_awaiting_items_oldest_first(app, author, coordinator):
    for state in ("draft", "changes_requested", "published", "rejected", "archived"):
        make_submission(author, state=state, title=f"Not waiting: {state}")
    newest = make_submission(author, state="submitted", title="Newest")
    oldest = make_submission(author, state="in_review", title="Oldest", reviewer=coordinator)
    middle = make_submission(author, kind="idea", state="submitted", title="Middle")
    waiting_since(newest, 1)
    waiting_since(oldest, 20)
    waiting_since(middle, 8)

    page = signed_in(app, coordinator).get("/review/").get_data(as_text=True)
    assert queue_titles(page) == ["Oldest", "Middle", "Newest"]
    assert "Not waiting" not in page
    assert "3 items are waiting, oldest first." in page
    rows = {row[1]: row for row in table(page, "review-queue")}
    # Type, authority, country, days waiting, state and reviewer, revision.
    assert rows["Middle"][2:5] == ["Project idea", "Gobierno Regional de Tacna", "Peru"]
    assert rows["Middle"][6] == "8"
    assert rows["Oldest"][6] == "20"
    assert rows["Oldest"][7] == "In review by Carla Coordinadora"
    assert rows["Newest"][7] == "Submitted"
    assert rows["Newest"][8] == "Revision 1"


def test_a_new_revision_of_a_published_item_is_flagged(app, author, coordinator):
    submission = make_submission(author, state="published", title="Primera versión")
    services.save_content(author, submission, practice_content(title="Segunda versión"))
    services.submit(author, submission)
    make_submission(author, state="submitted", title="Nueva")
    rows = {
        row[1]: row
        for row in table(signed_in(app, coordinator).get("/review/").text, "review-queue")
    }
    assert rows["Segunda versión"][8] == "Revision 2 New version of a published item"
    assert rows["Nueva"][8] == "Revision 1"


def test_each_filter_narrows_the_queue_and_keeps_its_value(app, coordinator):
    peru = make_member(make_authority(name="Tacna", country="PE", subdivision="PE-TAC"))
    spain = make_member(make_authority(name="Andalucía", country="ES", subdivision="ES-AN"))
    innovact = make_submission(
        peru,
        state="submitted",
        title="Innovact practice",
        objective_ids=[objective_id("INNOVACT-1")],
    )
    iurc = make_submission(
        spain, state="in_review", title="Iurc practice", objective_ids=[objective_id("IURC-1")]
    )
    idea = make_submission(spain, kind="idea", state="submitted", title="Spanish idea")
    waiting_since(innovact, 31)
    waiting_since(iurc, 15)
    waiting_since(idea, 2)
    client = signed_in(app, coordinator)
    programmes = dict(
        db.session.execute(
            select(Objective.code, Objective.programme_id).where(
                Objective.code.in_(["INNOVACT-1", "IURC-1"])
            )
        ).all()
    )
    assert programmes["INNOVACT-1"] != programmes["IURC-1"]

    cases = [
        ({"programme": programmes["INNOVACT-1"]}, ["Innovact practice"]),
        ({"programme": programmes["IURC-1"]}, ["Iurc practice"]),
        ({"kind": "idea"}, ["Spanish idea"]),
        ({"kind": "practice"}, ["Innovact practice", "Iurc practice"]),
        ({"age": "7"}, ["Innovact practice", "Iurc practice"]),
        ({"age": "14"}, ["Innovact practice", "Iurc practice"]),
        ({"age": "30"}, ["Innovact practice"]),
        ({"country": "ES"}, ["Iurc practice", "Spanish idea"]),
        ({"country": "PE"}, ["Innovact practice"]),
        ({"state": "in_review"}, ["Iurc practice"]),
        ({"state": "submitted"}, ["Innovact practice", "Spanish idea"]),
        ({"country": "ES", "kind": "practice", "age": "7"}, ["Iurc practice"]),
        ({"country": "PE", "kind": "idea"}, []),
    ]
    for args, expected in cases:
        response = client.get("/review/", query_string=args)
        assert response.status_code == 200, args
        page = response.get_data(as_text=True)
        assert queue_titles(page) == expected, args
        for name, value in args.items():
            assert re.search(
                rf'<select[^>]*name="{name}"[^>]*>.*?<option selected value="{value}">',
                page,
                re.DOTALL,
            ), (name, value)
    assert "Nothing waiting matches these filters." in client.get(
        "/review/", query_string={"country": "PE", "kind": "idea"}
    ).get_data(as_text=True)


def test_a_made_up_filter_value_is_refused_on_its_field(app, author, coordinator):
    make_submission(author, state="submitted", title="Waiting")
    response = signed_in(app, coordinator).get("/review/?country=XX&age=3")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "country") == "Choose from the list."
    assert field_error(page, "age") == "Choose from the list."
    assert queue_titles(page) == ["Waiting"]  # the filters that make no sense are not applied


def test_the_queue_is_paginated_and_pages_keep_the_filters(app, author, coordinator):
    from exchange.review.services import PAGE_SIZE

    items = [
        make_submission(author, state="submitted", title=f"Item {n:02d}")
        for n in range(PAGE_SIZE + 2)
    ]
    for n, item in enumerate(items):
        waiting_since(item, 100 - n)
    client = signed_in(app, coordinator)
    first = client.get("/review/?kind=practice").get_data(as_text=True)
    assert queue_titles(first) == [f"Item {n:02d}" for n in range(PAGE_SIZE)]
    assert 'href="/review/?page=2&amp;kind=practice"' in first
    second = client.get("/review/?page=2&kind=practice").get_data(as_text=True)
    assert queue_titles(second) == [f"Item {n:02d}" for n in range(PAGE_SIZE, PAGE_SIZE + 2)]


# The review page -------------------------------------------------------------------------------


def test_a_first_submission_is_shown_in_full_and_said_to_be_new(app, author, coordinator):
    submission = make_submission(author, state="submitted")
    page = signed_in(app, coordinator).get(f"/review/{submission.id}").get_data(as_text=True)
    assert "This is new: it has not been reviewed before." in page
    revision = submission.working_revision
    for text in (revision.title, revision.summary, revision.problem, revision.lessons):
        assert text in page
    assert "Water management and sanitation" in page  # its theme
    assert "INNOVACT-1" in page  # its objective
    assert re.search(r"<dt>Language</dt>\s*<dd>Spanish</dd>", page)  # the language it is in
    assert "Start the review" in page
    assert "<ins" not in page.split('id="changes-heading"')[1].split("</section>")[0]


def test_the_review_page_shows_the_words_changed_since_the_last_review(app, author, coordinator):
    submission = make_submission(
        author,
        state="published",
        summary="Gestión del agua para la agricultura en el desierto.",
        reviewer=coordinator,
    )
    services.save_content(
        author,
        submission,
        practice_content(
            summary="Gestión comunitaria del agua para la agricultura en la costa.",
            theme_ids=[theme_id("tourism")],
        ),
    )
    services.submit(author, submission)
    db.session.commit()

    page = signed_in(app, coordinator).get(f"/review/{submission.id}").get_data(as_text=True)
    changes = page.split('id="changes-heading"')[1].split("</section>")[0]
    assert "Compared with revision 1, the last one reviewed." in changes
    assert "Gestión<ins> comunitaria</ins> del agua" in marks(changes)
    assert "en <del>el</del><ins>la</ins> <del>desierto</del><ins>costa</ins>." in marks(changes)
    # Unchanged fields are not listed; the lists say what was added and removed.
    assert "What was done" not in changes
    assert "Added: Tourism" in changes
    assert "Removed: Water management and sanitation" in changes


def test_after_changes_are_requested_the_page_compares_with_the_reviewed_text(
    app, author, coordinator
):
    submission = make_submission(author, state="changes_requested", results="Ahorro de agua.")
    services.save_content(
        author, submission, practice_content(results="Ahorro del 40 % de agua, medido.")
    )
    services.submit(author, submission)
    db.session.commit()
    assert submission.working_revision.number == 2  # the reviewed text is kept as revision 1

    client = signed_in(app, coordinator)
    page = client.get(f"/review/{submission.id}").get_data(as_text=True)
    changes = page.split('id="changes-heading"')[1].split("</section>")[0]
    assert "Compared with revision 1" in changes
    assert "Results and evidence" in changes
    assert "Ahorro<ins> del 40 %</ins> de agua<ins>, medido</ins>." in marks(changes)
    assert "Añadan cifras." in page  # the earlier review's comment


def test_a_resubmission_without_edits_says_nothing_changed(app, author, coordinator):
    submission = make_submission(author, state="changes_requested")
    services.submit(author, submission)
    db.session.commit()
    page = signed_in(app, coordinator).get(f"/review/{submission.id}").get_data(as_text=True)
    assert "Nothing changed since the last review, of revision 1." in page


def test_user_text_is_escaped_on_the_review_page_and_in_the_diff(app, author, coordinator):
    submission = make_submission(
        author, state="published", title="<b>Bold</b> title", summary="Texto <i>inicial</i>."
    )
    services.save_content(
        author,
        submission,
        practice_content(title="<b>Bold</b> title", summary='Texto <script>alert("x")</script>.'),
    )
    services.submit(author, submission)
    db.session.commit()
    page = signed_in(app, coordinator).get(f"/review/{submission.id}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "<b>Bold</b>" not in page
    assert "<i>inicial</i>" not in page
    assert "&lt;b&gt;Bold&lt;/b&gt; title" in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<del>inicial&lt;/i</del><ins>alert(&#34;x&#34;)&lt;/script</ins>" in marks(page)


def test_word_diff_marks_words_and_escapes_them():
    diff = word_diff("uno dos <tres>", "uno cuatro <tres> & cinco")
    assert isinstance(diff, Markup)
    text = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", str(diff))
    text = re.sub(r' class="[^"]*"', "", text)
    assert text == "uno <del>dos</del><ins>cuatro</ins> &lt;tres&gt;<ins> &amp; cinco</ins>"
    assert word_diff("igual", "igual") == Markup("igual")


# Decisions -------------------------------------------------------------------------------------

DECISIONS = [
    # decision, comment, state after, recorded decision, English subject
    ("publish", "", State.PUBLISHED, Decision.PUBLISHED, "“{title}” is published"),
    (
        "request_changes",
        "Añadan cifras de impacto.",
        State.CHANGES_REQUESTED,
        Decision.CHANGES_REQUESTED,
        "Action needed: changes requested on “{title}”",
    ),
    (
        "reject",
        "Fuera del alcance.",
        State.REJECTED,
        Decision.REJECTED,
        "“{title}” was not accepted",
    ),
]


@pytest.mark.parametrize(("decision", "comment", "state", "recorded", "subject"), DECISIONS)
def test_a_decision_through_the_page_is_recorded_and_mailed_to_the_authors(
    app, worker, mailbox, coordinator, decision, comment, state, recorded, subject
):
    authority = make_authority(name="Gobierno Regional de Tacna")
    english = make_member(authority, name="Ann", language="en")
    spanish = make_member(authority, name="Ana", language="es")
    make_member(make_authority(name="Elsewhere"))  # not an author: gets nothing
    submission = make_submission(english, state="in_review", reviewer=coordinator)
    title = submission.title
    client = signed_in(app, coordinator)

    response = client.post(
        f"/review/{submission.id}/{decision}",
        data={"comment": comment, "csrf_token": csrf_token(client, f"/review/{submission.id}")},
    )
    assert response.status_code == 302
    assert response.location == "/review/"

    saved = reload(submission.id)
    assert saved.state == state
    (review,) = saved.reviews
    assert (review.decision, review.comment, review.reviewer_id) == (
        recorded,
        comment,
        coordinator.id,
    )
    assert review.revision_id == saved.working_revision_id
    if decision == "publish":
        assert saved.published_revision_id == saved.working_revision_id

    # Two "received" e-mails from the submission, then one decision e-mail per author.
    messages = settle(mailbox, 4)
    decided = [m for m in messages if "received" not in m.subject and "recibido" not in m.subject]
    assert sorted(m.to for m in decided) == sorted([english.email, spanish.email])
    to_english = next(m for m in decided if m.to == english.email)
    to_spanish = next(m for m in decided if m.to == spanish.email)
    assert to_english.subject == subject.format(title=title)
    assert "Hello Ann," in to_english.text
    assert "Hola, Ana:" in to_spanish.text
    assert to_spanish.message["Content-Language"] == "es"
    if comment:
        assert comment in to_english.text
        assert comment in to_spanish.text


def test_taking_an_item_shows_who_reviews_it(app, author, coordinator):
    submission = make_submission(author, state="submitted")
    client = signed_in(app, coordinator)
    response = client.post(
        f"/review/{submission.id}/start_review", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert response.location == f"/review/{submission.id}"
    saved = reload(submission.id)
    assert (saved.state, saved.reviewer_id) == (State.IN_REVIEW, coordinator.id)
    page = client.get(response.location).get_data(as_text=True)
    assert "Reviewed by Carla Coordinadora" in page
    assert "Start the review" not in page
    queue = client.get("/review/").get_data(as_text=True)
    assert table(queue, "review-queue")[0][7] == "In review by Carla Coordinadora"


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_a_decision_without_comment_is_refused_on_the_field(app, author, coordinator, decision):
    submission = make_submission(author, state="in_review", reviewer=coordinator)
    notifications = count(Notification)
    client = signed_in(app, coordinator)
    response = client.post(
        f"/review/{submission.id}/{decision}",
        data={"comment": "   ", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "comment") == (
        "Write a comment for the authors."
    )
    saved = reload(submission.id)
    assert saved.state == State.IN_REVIEW
    assert saved.reviews == []
    assert count(Notification) == notifications


def test_a_comment_too_long_is_refused_and_kept(app, author, coordinator):
    submission = make_submission(author, state="in_review", reviewer=coordinator)
    client = signed_in(app, coordinator)
    comment = "Demasiado largo. " * 400
    response = client.post(
        f"/review/{submission.id}/reject",
        data={"comment": comment, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "comment-error" in page
    assert comment.strip() in page  # what was typed is still in the box
    assert reload(submission.id).state == State.IN_REVIEW


@pytest.mark.parametrize(
    ("state", "decision"),
    [
        ("published", "publish"),
        ("published", "reject"),
        ("draft", "request_changes"),
        ("rejected", "publish"),
        ("in_review", "start_review"),
        ("changes_requested", "publish"),
    ],
)
def test_a_decision_from_a_wrong_state_is_refused_and_changes_nothing(
    app, author, coordinator, state, decision
):
    submission = make_submission(author, state=state, reviewer=coordinator)
    before = (submission.state, submission.published_revision_id, submission.reviewer_id)
    reviews, notifications, entries = count(Review), count(Notification), count(ActivityEntry)
    client = signed_in(app, coordinator)
    response = client.post(
        f"/review/{submission.id}/{decision}",
        data={"comment": "Un comentario escrito.", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    label = {
        "published": "Published",
        "draft": "Draft",
        "rejected": "Rejected",
        "in_review": "In review",
        "changes_requested": "Changes requested",
    }[state]
    assert f"This is not possible in its current state: {label}." in page
    assert "Un comentario escrito." in page  # not lost
    saved = reload(submission.id)
    assert (saved.state, saved.published_revision_id, saved.reviewer_id) == before
    assert (count(Review), count(Notification), count(ActivityEntry)) == (
        reviews,
        notifications,
        entries,
    )


# Bulk decisions --------------------------------------------------------------------------------


def _hidden_inputs(page: str) -> dict[str, list[str]]:
    """The hidden fields of the confirmation form, as a browser would send them."""
    form = page.split('action="/review/bulk"')[1].split("</form>")[0]
    values: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        values.setdefault(name, []).append(html.unescape(value))
    return values


def test_bulk_confirmation_lists_exactly_the_chosen_items_and_changes_nothing(
    app, author, coordinator
):
    one = make_submission(author, state="submitted", title="Uno")
    two = make_submission(author, state="submitted", title="Dos")
    taken = make_submission(author, state="in_review", title="Tomado", reviewer=coordinator)
    published = make_submission(author, state="published", title="Publicado")
    untouched = make_submission(author, state="submitted", title="No elegido")
    states = {s.id: s.state for s in (one, two, taken, published, untouched)}
    entries = count(ActivityEntry)
    client = signed_in(app, coordinator)

    response = client.post(
        "/review/bulk",
        data={
            "submission_ids": [str(one.id), str(taken.id), str(two.id), str(published.id)],
            "action": "start_review",
            "comment": "",
            "filters": "kind=practice",
            "csrf_token": csrf_token(client, "/review/"),
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing has changed yet." in page
    assert [row[0] for row in table(page, "bulk-allowed")] == ["Uno", "Dos"]
    assert table(page, "bulk-skipped") == [
        ["Tomado", "This is not possible in its current state: In review."],
        ["Publicado", "This is not possible in its current state: Published."],
    ]
    assert "No elegido" not in page
    # The first POST changed nothing.
    db.session.expire_all()
    assert {s.id: s.state for s in db.session.scalars(select(Submission))} == states
    assert count(ActivityEntry) == entries

    hidden = _hidden_inputs(page)
    assert hidden["submission_ids"] == [str(one.id), str(two.id)]
    assert hidden["confirm"] == ["yes"]
    response = client.post("/review/bulk", data=hidden)
    assert response.status_code == 302
    assert response.location == "/review/?kind=practice"
    db.session.expire_all()
    after = {s.id: s.state for s in db.session.scalars(select(Submission))}
    assert after == {**states, one.id: State.IN_REVIEW, two.id: State.IN_REVIEW}
    assert {reload(one.id).reviewer_id, reload(two.id).reviewer_id} == {coordinator.id}
    assert "You took 2 items for review." in client.get("/review/").get_data(as_text=True)


def test_bulk_reject_sends_the_shared_comment_to_each_item(app, worker, mailbox, coordinator):
    authority = make_authority()
    spanish = make_member(authority, name="Ana", language="es")
    first = make_submission(spanish, state="submitted", title="Primera")
    second = make_submission(spanish, kind="idea", state="in_review", title="Segunda")
    client = signed_in(app, coordinator)
    page = client.post(
        "/review/bulk",
        data={
            "submission_ids": [str(first.id), str(second.id)],
            "action": "reject",
            "comment": "No encaja en los programas.",
            "csrf_token": csrf_token(client, "/review/"),
        },
    ).get_data(as_text=True)
    assert [row[0] for row in table(page, "bulk-allowed")] == ["Primera", "Segunda"]
    assert "No encaja en los programas." in page
    assert reload(first.id).state == State.SUBMITTED

    response = client.post("/review/bulk", data=_hidden_inputs(page))
    assert response.status_code == 302
    for item in (first, second):
        saved = reload(item.id)
        assert saved.state == State.REJECTED
        (review,) = saved.reviews
        assert (review.decision, review.comment) == (
            Decision.REJECTED,
            "No encaja en los programas.",
        )
    messages = settle(mailbox, 4)  # two "received", two decisions
    rejected = [m for m in messages if "No encaja en los programas." in m.text]
    assert len(rejected) == 2
    assert all("Hola, Ana:" in m.text for m in rejected)
    assert "2 items are not accepted; their authors are told why." in client.get(
        "/review/"
    ).get_data(as_text=True)


def test_bulk_needs_a_comment_to_reject_and_keeps_the_choice(app, author, coordinator):
    one = make_submission(author, state="submitted", title="Uno")
    two = make_submission(author, state="submitted", title="Dos")
    client = signed_in(app, coordinator)
    response = client.post(
        "/review/bulk",
        data={
            "submission_ids": [str(two.id)],
            "action": "request_changes",
            "comment": "",
            "csrf_token": csrf_token(client, "/review/"),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "comment") == "Write a comment for the authors."
    assert re.search(rf'value="{two.id}" id="choose-{two.id}" checked', page)
    assert not re.search(rf'value="{one.id}" id="choose-{one.id}" checked', page)
    assert re.search(r'<option selected value="request_changes">', page)
    assert "Nothing has changed yet." not in page
    assert reload(two.id).state == State.SUBMITTED


def test_bulk_needs_an_action_and_an_item(app, author, coordinator):
    make_submission(author, state="submitted")
    client = signed_in(app, coordinator)
    token = csrf_token(client, "/review/")
    response = client.post("/review/bulk", data={"action": "", "csrf_token": token})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "action") == (
        "Choose what to do with the chosen items."
    )
    response = client.post("/review/bulk", data={"action": "publish", "csrf_token": token})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "submission_ids") == (
        "Choose at least one item."
    )


def test_an_item_that_changed_after_the_confirmation_page_is_skipped(app, author, coordinator):
    one = make_submission(author, state="submitted", title="Uno")
    two = make_submission(author, state="submitted", title="Dos")
    client = signed_in(app, coordinator)
    page = client.post(
        "/review/bulk",
        data={
            "submission_ids": [str(one.id), str(two.id)],
            "action": "publish",
            "csrf_token": csrf_token(client, "/review/"),
        },
    ).get_data(as_text=True)
    # Meanwhile another coordinator sends one back to its authors.
    services.request_changes(make_coordinator(), reload(two.id), "Falta el presupuesto.")
    db.session.commit()

    client.post("/review/bulk", data=_hidden_inputs(page))
    assert reload(one.id).state == State.PUBLISHED
    assert reload(two.id).state == State.CHANGES_REQUESTED
    assert [r.decision for r in reload(two.id).reviews] == [Decision.CHANGES_REQUESTED]
    flashed = client.get("/review/").get_data(as_text=True)
    assert "1 item is published; its authors are told." in flashed
    assert "1 item was skipped: its state no longer allows it." in flashed


# Dashboard -------------------------------------------------------------------------------------


def test_the_dashboard_counts_states_ages_and_reviewers(app, author, coordinator):
    other = make_coordinator(name="Otro Coordinador")
    make_submission(author, state="draft")
    make_submission(author, state="published")
    make_submission(author, kind="idea", state="published")
    make_submission(author, kind="idea", state="closed")
    fresh = make_submission(author, state="submitted", title="Fresca")
    week = make_submission(author, kind="idea", state="submitted", title="Semana")
    month = make_submission(author, state="in_review", title="Mes", reviewer=coordinator)
    old = make_submission(author, state="in_review", title="Vieja", reviewer=coordinator)
    mine = make_submission(author, kind="idea", state="in_review", title="Otra", reviewer=other)
    for item, days in ((fresh, 1), (week, 9), (month, 20), (old, 45), (mine, 3)):
        waiting_since(item, days)

    page = signed_in(app, coordinator).get("/review/dashboard").get_data(as_text=True)
    states = {row[0]: row[1:] for row in table(page, "dashboard-states")}
    assert states["Draft"] == ["1", "0", "1"]
    assert states["Submitted"] == ["1", "1", "2"]
    assert states["In review"] == ["2", "1", "3"]
    assert states["Published"] == ["1", "1", "2"]
    assert states["Closed"] == ["0", "1", "1"]
    assert states["Rejected"] == ["0", "0", "0"]
    assert states["Total"] == ["5", "4", "9"]
    assert table(page, "dashboard-ages") == [
        ["Less than 7 days", "2"],
        ["7 to 14 days", "1"],
        ["14 to 30 days", "1"],
        ["30 days or more", "1"],
    ]
    assert "5 items are waiting for review." in page
    oldest = table(page, "dashboard-oldest")
    assert [row[0] for row in oldest] == ["Vieja", "Mes", "Semana", "Otra", "Fresca"]
    assert oldest[0][4] == "45"
    assert table(page, "dashboard-reviewers") == [
        ["Carla Coordinadora", "2"],
        ["Otro Coordinador", "1"],
    ]
