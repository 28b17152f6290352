"""Matching in the workers: full runs split into chunks, the debounced recomputation after
changes, reminders and expiry. Each task takes ids, commits what it changed before anything is
sent (notifications are rows dispatched after the commit), and is safe to run twice."""

from celery import shared_task

from exchange.database import utcnow
from exchange.extensions import db
from exchange.matching import services


@shared_task(name="exchange.matching.tasks.remind_and_expire")
def remind_and_expire() -> dict:
    """Hourly: expire unanswered matches past their date, remind once those waiting for
    MATCH_REMINDER_DAYS. A second run finds nothing left to do."""
    sweep = services.remind_and_expire()
    db.session.commit()
    return {"reminded": sweep.reminded, "expired": sweep.expired}


@shared_task(name="exchange.matching.tasks.remind_stage_updates")
def remind_stage_updates() -> int:
    """Hourly: ask connected partners whose stage has not moved for STAGE_REMINDER_DAYS to
    update it (at most once per period)."""
    reminded = services.remind_stage_updates()
    db.session.commit()
    return reminded


@shared_task(name="exchange.matching.tasks.run_full_matching")
def run_full_matching(started_by_id: int | None = None, chunks: int | None = None) -> int:
    """Nightly (and on demand): start a full run and hand its chunks to the workers. Each chunk
    is a task of its own (`score_chunk`); the last to finish chooses the proposals. `chunks`:
    how many (default: verified authorities / MATCHING_CHUNK_SIZE)."""
    from exchange.auth.models import User

    actor = db.session.get(User, started_by_id) if started_by_id else None
    run = services.start_run(actor, scope="full", chunks=chunks)
    db.session.commit()
    for index in range(run.chunks_total):
        score_chunk.delay(run.id, index)
    return run.id


@shared_task(name="exchange.matching.tasks.score_chunk")
def score_chunk(run_id: int, index: int) -> bool:
    """Score one chunk of a run and write its candidates; the chunk that completes the run
    chooses the proposals. Running it twice writes the same candidates again, and choosing
    again is harmless; a run already finished is left alone."""
    from exchange.matching.models import MatchingRun

    run = db.session.get(MatchingRun, run_id)
    if run is None or run.finished_at is not None:
        return False
    last = services.score_chunk(run, index)
    db.session.commit()
    if last:
        services.finish_run(run)
        db.session.commit()
    return last


@shared_task(name="exchange.matching.tasks.recompute_changed")
def recompute_changed() -> int:
    """Every minute: if authorities changed at least MATCHING_DEBOUNCE_SECONDS ago (and nothing
    since), recompute the proposals, then forget those changes — not the ones that arrived
    meanwhile, which wait for their own turn. Skipped while another run is in progress."""
    ids, cutoff = services.settled_changes()
    if not ids or services.run_in_progress() is not None:
        db.session.rollback()
        return 0
    run = services.start_run(scope="authority")
    db.session.commit()  # other workers see a run in progress
    try:
        services.compute_run(run)
        services.forget_changes(ids, cutoff)
        db.session.commit()
    except Exception:
        # Recorded as finished with chunks_done < chunks_total (it failed), so that it does not
        # hold up the next recomputation; the changes stay pending.
        db.session.rollback()
        run.finished_at = utcnow()
        db.session.commit()
        raise
    return len(ids)
