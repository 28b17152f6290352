"""A local SMTP server that keeps every message in a Maildir (development and tests)."""

import mailbox
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def caught_mail_dir(app) -> Path:
    """Where caught e-mails are kept: MAIL_CATCHER_DIR, or `mail/` in the instance folder."""
    configured = app.config.get("MAIL_CATCHER_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "mail"


def run_catcher(host: str, port: int, maildir: Path) -> None:
    """Serve until interrupted, writing each message into `maildir`."""
    for part in ("tmp", "new", "cur"):  # the layout of a Maildir
        (maildir / part).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(str(maildir)), hostname=host, port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def read_maildir(maildir: Path) -> list[tuple[str, object]]:
    """(key, parsed message) pairs, newest first."""
    if not maildir.exists():
        return []
    box = mailbox.Maildir(str(maildir), factory=None, create=False)
    parser = BytesParser(policy=policy.default)
    messages = []
    for key in box.iterkeys():
        with box.get_file(key) as handle:
            messages.append((key, parser.parse(handle)))
    messages.sort(key=lambda item: item[1]["Date"].datetime if item[1]["Date"] else 0, reverse=True)
    return messages
