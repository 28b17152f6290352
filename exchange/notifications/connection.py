"""SMTP connections that a worker process keeps open from one message to the next.

Opening a connection (TCP, greeting, EHLO, maybe TLS and AUTH) costs more than sending a short
message over it, so each worker process keeps one (each thread, with the threads pool) and
reuses it:
- before reuse, a connection the server has closed or is closing (it sent EOF or a 421 while we
  were idle) is noticed without a round trip, and one idle for a while is checked with NOOP;
- after an error reply the connection is kept (smtplib has sent RSET); after any other error
  (disconnection, timeout, 421) it is dropped and the next message opens a new one;
- it is never used by another process: a forked child starts without one;
- it is closed with QUIT when the worker process ends (see the Celery signals in tasks.py).
"""

import os
import select
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Held:
    smtp: smtplib.SMTP
    settings: tuple
    pid: int = field(default_factory=os.getpid)
    last_used: float = field(default_factory=time.monotonic)
    messages: int = 0


_local = threading.local()
# Every connection this process holds, whichever thread uses it: closed together at shutdown.
_held: set[_Held] = set()
_held_lock = threading.Lock()


def _settings(config) -> tuple:
    return (
        config["SMTP_HOST"],
        int(config["SMTP_PORT"]),
        bool(config["SMTP_SSL"]),
        bool(config["SMTP_STARTTLS"]),
        config["SMTP_USERNAME"],
        config["SMTP_PASSWORD"],
        float(config["SMTP_TIMEOUT"]),
    )


def open_connection(config) -> smtplib.SMTP:
    """A new connection to the configured SMTP server, greeted, secured and logged in."""
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    if config["SMTP_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.ehlo_or_helo_if_needed()
    except BaseException:
        smtp.close()
        raise
    return smtp


def _spoke_unasked(smtp: smtplib.SMTP) -> bool:
    """True if the server sent something while idle: EOF, a 421 before closing (or, with TLS,
    a session ticket): NOOP tells which."""
    sock = smtp.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _alive(held: _Held, noop_after: float) -> bool:
    if held.smtp.sock is None:
        return False
    if time.monotonic() - held.last_used < noop_after and not _spoke_unasked(held.smtp):
        return True
    try:
        code, _ = held.smtp.noop()
    except (smtplib.SMTPException, OSError):
        return False
    return code == 250


def _forget(held: _Held) -> None:
    with _held_lock:
        _held.discard(held)
    if getattr(_local, "held", None) is held:
        _local.held = None


def _close(held: _Held, *, polite: bool) -> None:
    _forget(held)
    try:
        if polite:
            held.smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        held.smtp.close()


def _take(config) -> _Held:
    held = getattr(_local, "held", None)
    if held is not None and held.pid != os.getpid():
        # Inherited through a fork: the socket belongs to the parent; leave it alone.
        _local.held = None
        held = None
    settings = _settings(config)
    if held is not None and (
        held.settings != settings or not _alive(held, float(config["SMTP_NOOP_AFTER_SECONDS"]))
    ):
        _close(held, polite=held.settings != settings)
        held = None
    if held is None:
        held = _Held(open_connection(config), settings)
        with _held_lock:
            _held.add(held)
        _local.held = held
    return held


def _keeps_connection(exc: BaseException) -> bool:
    """After an error reply the server is still talking to us and smtplib has sent RSET."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code != 421


@contextmanager
def smtp_connection(config) -> Iterator[smtplib.SMTP]:
    """This process's open SMTP connection for one message transaction."""
    held = _take(config)
    try:
        yield held.smtp
    except BaseException as exc:
        if _keeps_connection(exc):
            held.last_used = time.monotonic()
        else:
            _close(held, polite=False)
        raise
    held.last_used = time.monotonic()
    held.messages += 1


def close_connections() -> int:
    """QUIT every connection this process opened; returns how many there were."""
    with _held_lock:
        mine = [held for held in _held if held.pid == os.getpid()]
    for held in mine:
        _close(held, polite=True)
    return len(mine)


def _after_fork_in_child() -> None:
    # The parent's connections are not ours to use or to close (and its lock may be held).
    global _local, _held, _held_lock
    _local = threading.local()
    _held = set()
    _held_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
