"""SMTP delivery, with errors sorted into those worth retrying and those that are final."""

import functools
import smtplib
from email.message import Message
from email.utils import parseaddr

from exchange.notifications.connection import open_connection, smtp_connection

__all__ = [
    "PermanentMailError",
    "TemporaryMailError",
    "open_connection",
    "send_message",
]


class TemporaryMailError(Exception):
    """The server or the network failed for now (4xx, refused connection, timeout): retry."""


class PermanentMailError(Exception):
    """The server refused the message for good (5xx): retrying would not help."""


def _classify(code: int, text: str) -> Exception:
    # Only a 5xx is final; anything else (4xx, or a reply smtplib could not make sense of) may
    # mend itself.
    error_class = PermanentMailError if 500 <= code < 600 else TemporaryMailError
    return error_class(f"{code} {text}".strip())


@functools.lru_cache(maxsize=8)
def _envelope_sender(mail_from: str) -> str:
    return parseaddr(mail_from)[1]


def _decode(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def send_message(config, message: Message, recipients: list[str] | None = None) -> None:
    """Hand `message` to the SMTP server, raising TemporaryMailError or PermanentMailError.

    The envelope's recipients are `recipients`, or else those of the To, Cc and Bcc headers; its
    sender is the address of MAIL_FROM. Uses this process's kept-open connection
    (exchange.notifications.connection).
    """
    sender = _envelope_sender(config["MAIL_FROM"])
    try:
        with smtp_connection(config) as smtp:
            smtp.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise _classify(code, _decode(text)) from exc
    except smtplib.SMTPAuthenticationError as exc:
        # Our credentials, not the message: every message would fail until someone fixes them.
        raise TemporaryMailError(f"{exc.smtp_code} {_decode(exc.smtp_error)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise _classify(exc.smtp_code, _decode(exc.smtp_error)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryMailError(f"{type(exc).__name__}: {exc}") from exc
