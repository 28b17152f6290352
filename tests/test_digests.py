"""Digests of newly published practices and ideas, and the notice that an idea closes soon: the
right content, nothing when nothing is new, and exactly one per period or idea, however often
beat fires and however many beats run."""

import threading
from datetime import date, timedelta

import pytest
from celery.schedules import crontab
from sqlalchemy import func, select

from exchange.auth.models import DigestFrequency
from exchange.database import utcnow
from exchange.extensions import db
from exchange.notifications import digests
from exchange.notifications.models import DigestRun, Notification, NotificationStatus
from exchange.notifications.preferences import CLOSING_SOON_KIND, DIGEST_KIND
from exchange.notifications.services import render_notification
from exchange.reference.models import Theme
from exchange.submissions import services as submissions
from exchange.submissions.models import CoOwner, CoOwnerStatus
from exchange.workflow import State
from tests.conftest import wait_for
from tests.factories import make_authority, make_coordinator, make_member, make_submission

pytestmark = pytest.mark.usefixtures("reference")

WATER, TOURISM, ENERGY = "water-management", "tourism", "energy-efficiency"


def theme_ids(*codes: str) -> list[int]:
    return [db.session.scalar(select(Theme.id).where(Theme.code == code)) for code in codes]


def publish_practice(author, *, title="Riego tecnificado en Tacna", themes=(WATER,), **fields):
    return make_submission(
        author, state="published", title=title, theme_ids=theme_ids(*themes), **fields
    )


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def digests_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == DIGEST_KIND)
            .order_by(Notification.id)
        )
    )


@pytest.fixture
def reader():
    """A member of Tacna's regional government, which works on water (its profile) and on
    tourism (one of its own ideas), reading in Spanish and asking for a weekly digest."""
    authority = make_authority(name="Gobierno Regional de Tacna")
    authority.themes = [db.session.get(Theme, theme_ids(WATER)[0])]
    db.session.commit()
    member = make_member(authority, name="Lucía Torres", language="es")
    make_submission(member, kind="idea", theme_ids=theme_ids(TOURISM))  # a draft: its themes count
    return member


@pytest.fixture
def others():
    return make_member(make_authority(name="Comune di Bologna", country="IT", subdivision="IT-BO"))


# What a digest holds -----------------------------------------------------------------------------


def test_the_themes_of_an_authority_are_its_profiles_and_its_items(reader):
    assert digests.authority_theme_ids(reader.authority_id) == set(theme_ids(WATER, TOURISM))


def test_the_digest_lists_new_items_in_the_themes_not_the_own_authoritys(reader, others):
    now = utcnow()
    water = publish_practice(others, title="Depuración natural de aguas en Bolonia")
    tourism_idea = make_submission(
        others, kind="idea", state="published", title="Ruta del vino Emilia–Mendoza"
    )
    publish_practice(others, title="Eficiencia energética en escuelas", themes=(ENERGY,))
    publish_practice(reader, title="Nuestra propia práctica de agua")
    old = publish_practice(others, title="Una práctica antigua de agua")
    old.first_published_at = now - timedelta(days=10)  # before the week the digest covers
    archived = publish_practice(others, title="Archivada después de publicada")
    submissions.archive(make_coordinator(), archived)
    db.session.commit()

    outcome = digests.send_digests(DigestFrequency.WEEKLY, now + timedelta(minutes=1))
    assert outcome.sent == 2
    (digest,) = digests_of(reader)
    # Bologna works on water too (its own practices): it hears of Tacna's, not of its own.
    (theirs,) = digests_of(others)
    assert [db.session.get(type(water), i).title for i in theirs.payload["submission_ids"]] == [
        "Nuestra propia práctica de agua"
    ]
    assert digest.payload["submission_ids"] == [tourism_idea.id, water.id]
    assert digest.payload["total"] == 2

    rendered = render_notification(digest)
    text = rendered.text
    assert "Depuración natural de aguas en Bolonia" in text
    assert "Ruta del vino Emilia–Mendoza" in text
    for absent in ("Eficiencia energética", "Nuestra propia", "antigua", "Archivada"):
        assert absent not in text
    # In the reader's language: her themes and the languages named in Spanish, the HTML tagged.
    assert "Gestión del agua y saneamiento" in text
    assert "Water management and sanitation" not in text
    assert "(Español)" in text
    assert '<html lang="es">' in rendered.html
    assert f"http://exchange.test/practices/{water.id}" in text
    assert f"http://exchange.test/ideas/{tourism_idea.id}" in text
    assert rendered.subject == "Su resumen semanal: 2 nuevas prácticas e ideas en sus temas"


def test_nothing_is_sent_when_nothing_is_new(reader, others):
    publish_practice(others, themes=(ENERGY,))  # not in her themes
    outcome = digests.send_digests(DigestFrequency.WEEKLY, utcnow() + timedelta(minutes=1))
    assert outcome.sent == 0
    assert digests_of(reader) == []
    # The period is recorded all the same: the next digest starts from here.
    assert count(DigestRun, DigestRun.user_id == reader.id) == 1
    assert count(Notification, Notification.kind == DIGEST_KIND) == 0


def test_the_next_digest_starts_where_the_last_one_ended(reader, others):
    first = publish_practice(others, title="Primera")
    monday = utcnow() + timedelta(minutes=1)
    digests.send_digests(DigestFrequency.WEEKLY, monday)
    second = publish_practice(others, title="Segunda")
    second.first_published_at = monday + timedelta(days=2)
    db.session.commit()
    digests.send_digests(DigestFrequency.WEEKLY, monday + timedelta(days=7))
    assert [d.payload["submission_ids"] for d in digests_of(reader)] == [[first.id], [second.id]]


def test_only_people_who_chose_that_frequency_get_it(reader, others):
    publish_practice(others)
    reader.digest_frequency = DigestFrequency.DAILY
    db.session.commit()
    now = utcnow() + timedelta(minutes=1)
    assert digests.send_digests(DigestFrequency.WEEKLY, now).sent == 0
    assert digests.send_digests(DigestFrequency.DAILY, now).sent == 1
    reader.digest_frequency = DigestFrequency.NONE
    db.session.commit()
    assert digests.send_digests(DigestFrequency.DAILY, now + timedelta(days=1)).sent == 0
    assert len(digests_of(reader)) == 1


def test_a_co_owned_idea_counts_as_the_authoritys_own(reader, others):
    idea = make_submission(others, kind="idea", theme_ids=theme_ids(TOURISM))
    co_owner = submissions.invite_co_owner(others, idea, reader.authority_id)
    submissions.answer_co_owner_invitation(reader, co_owner, accept=True)
    db.session.commit()
    assert db.session.get(CoOwner, co_owner.id).status == CoOwnerStatus.ACCEPTED
    submissions.submit(others, idea)
    submissions.publish(make_coordinator(), idea)
    db.session.commit()
    digests.send_digests(DigestFrequency.WEEKLY, utcnow() + timedelta(minutes=1))
    assert digests_of(reader) == []


def test_a_long_digest_lists_the_newest_and_counts_the_rest(app, reader, others):
    app.config["DIGEST_MAX_ITEMS"] = 2
    try:
        items = [publish_practice(others, title=f"Práctica {n}") for n in range(3)]
        digests.send_digests(DigestFrequency.WEEKLY, utcnow() + timedelta(minutes=1))
    finally:
        app.config["DIGEST_MAX_ITEMS"] = 20
    (digest,) = digests_of(reader)
    assert digest.payload["submission_ids"] == [items[2].id, items[1].id]
    text = render_notification(digest).text
    assert "Práctica 0" not in text
    assert "Y 1 más en el catálogo:" in text


# Exactly one per period --------------------------------------------------------------------------


def test_the_same_period_run_twice_sends_one(reader, others, worker, mailbox):
    publish_practice(others)
    monday = utcnow() + timedelta(minutes=1)
    first = digests.send_digests(DigestFrequency.WEEKLY, monday)
    # Beat fires again later the same week (or a second beat runs): every row is taken.
    again = digests.send_digests(DigestFrequency.WEEKLY, monday + timedelta(hours=3))
    assert (first.sent, again.sent, again.taken) == (1, 0, 2)
    assert len(digests_of(reader)) == 1
    assert count(DigestRun, DigestRun.user_id == reader.id) == 1
    (message,) = wait_for(lambda: mailbox.to(reader.email))
    assert message.subject == "Su resumen semanal: 1 nueva práctica o idea en sus temas"
    assert message.message["List-Unsubscribe"] is not None
    wait_for(lambda: digests_of(reader)[0].status == NotificationStatus.SENT)
    assert mailbox.to(reader.email) == [message]


def test_two_beats_at_once_send_one_digest(app, reader, others, worker, mailbox):
    """Two sessions (as two beat processes would have) write the same period concurrently: the
    unique key lets one of them in."""
    publish_practice(others)
    monday = utcnow() + timedelta(minutes=1)
    start = threading.Barrier(2)
    outcomes, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait(timeout=10)
                outcomes.append(digests.send_digests(DigestFrequency.WEEKLY, monday))
            except Exception as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(outcome.sent for outcome in outcomes) == [0, 1]
    assert len(digests_of(reader)) == 1
    assert count(DigestRun, DigestRun.user_id == reader.id) == 1
    wait_for(lambda: mailbox.to(reader.email))
    wait_for(lambda: digests_of(reader)[0].status == NotificationStatus.SENT)
    assert len(mailbox.to(reader.email)) == 1


def test_periods_are_days_or_weeks_starting_on_monday():
    wednesday = utcnow().replace(year=2026, month=12, day=2, hour=6)
    assert digests.period_start(DigestFrequency.DAILY, wednesday) == date(2026, 12, 2)
    assert digests.period_start(DigestFrequency.WEEKLY, wednesday) == date(2026, 11, 30)


def test_beat_sends_digests_daily_and_weekly_on_mondays_and_closing_notices(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    daily = schedule["send-daily-digests"]
    weekly = schedule["send-weekly-digests"]
    closing = schedule["notify-ideas-closing-soon"]
    assert daily["task"] == "exchange.notifications.tasks.send_daily_digests"
    assert weekly["task"] == "exchange.notifications.tasks.send_weekly_digests"
    assert closing["task"] == "exchange.notifications.tasks.notify_ideas_closing_soon"
    assert daily["schedule"] == crontab(hour=6, minute=0)
    assert weekly["schedule"].day_of_week == {1}
    tasks = app.extensions["celery"].tasks
    for entry in (daily, weekly, closing):
        assert entry["task"] in tasks


def test_the_daily_task_runs_through_a_worker(app, reader, others, worker, mailbox):
    reader.digest_frequency = DigestFrequency.DAILY
    db.session.commit()
    publish_practice(others)
    task = app.extensions["celery"].tasks["exchange.notifications.tasks.send_daily_digests"]
    assert task.apply_async(ignore_result=False).get(timeout=15) == 1
    assert task.apply_async(ignore_result=False).get(timeout=15) == 0
    (message,) = wait_for(lambda: mailbox.to(reader.email))
    assert message.subject == "Su resumen diario: 1 nueva práctica o idea en sus temas"


# An idea closing soon ----------------------------------------------------------------------------


def publish_idea(author, open_until: date):
    return make_submission(author, kind="idea", state="published", open_until=open_until)


def closing_notices() -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.kind == CLOSING_SOON_KIND)
            .order_by(Notification.id)
        )
    )


def test_owners_are_told_once_that_an_idea_closes_soon(app, others):
    colleague = make_member(others.authority)
    today = date.today()
    soon = publish_idea(others, today + timedelta(days=5))
    publish_idea(others, today + timedelta(days=30))  # not yet
    assert digests.notify_ideas_closing_soon(today) == 1
    db.session.commit()
    assert {(n.user_id, n.payload["submission_id"]) for n in closing_notices()} == {
        (others.id, soon.id),
        (colleague.id, soon.id),
    }
    # Beat again, the next day, and again: nothing more.
    assert digests.notify_ideas_closing_soon(today) == 0
    assert digests.notify_ideas_closing_soon(today + timedelta(days=1)) == 0
    db.session.commit()
    assert len(closing_notices()) == 2

    rendered = render_notification(closing_notices()[0])
    assert rendered.subject.startswith("Reminder: “Ruta andina de turismo de aventura")
    assert "closes to new partners on" in rendered.subject
    assert f"http://exchange.test/ideas/{soon.id}" in rendered.text


def test_a_later_date_is_told_again_when_it_comes_near(others):
    today = date.today()
    idea = publish_idea(others, today + timedelta(days=3))
    digests.notify_ideas_closing_soon(today)
    db.session.commit()
    idea.open_until = today + timedelta(days=20)  # as a published new revision would set it
    db.session.commit()
    assert digests.notify_ideas_closing_soon(today) == 0
    assert digests.notify_ideas_closing_soon(today + timedelta(days=15)) == 1
    db.session.commit()
    assert len(closing_notices()) == 2


def test_closed_ideas_and_practices_are_not_told(others):
    today = date.today()
    idea = publish_idea(others, today + timedelta(days=2))
    submissions.close(others, idea)
    db.session.commit()
    assert idea.state == State.CLOSED
    publish_practice(others)
    assert digests.notify_ideas_closing_soon(today) == 0


def test_the_closing_task_runs_through_a_worker_once(app, others, worker, mailbox):
    publish_idea(others, date.today() + timedelta(days=7))
    task = app.extensions["celery"].tasks["exchange.notifications.tasks.notify_ideas_closing_soon"]
    assert task.apply_async(ignore_result=False).get(timeout=15) == 1
    assert task.apply_async(ignore_result=False).get(timeout=15) == 0
    notices = wait_for(lambda: [m for m in mailbox.messages if m.subject.startswith("Reminder:")])
    assert [m.to for m in notices] == [others.email]
    assert len(closing_notices()) == 1
