"""SMTP delivery, with errors sorted into those worth retrying and those that are final."""

import smtplib
import ssl
from email.message import EmailMessage


class TemporaryMailError(Exception):
    """The server or the network failed for now (4xx, refused connection, timeout): retry."""


class PermanentMailError(Exception):
    """The server refused the message for good (5xx): retrying would not help."""


def _classify(code: int, text: str) -> Exception:
    error_class = TemporaryMailError if 400 <= code < 500 else PermanentMailError
    return error_class(f"{code} {text}".strip())


def _decode(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def open_connection(config) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    if config["SMTP_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if config["SMTP_USERNAME"]:
        smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
    return smtp


def send_message(config, message: EmailMessage) -> None:
    """Hand `message` to the SMTP server, raising TemporaryMailError or PermanentMailError."""
    try:
        with open_connection(config) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise _classify(code, _decode(text)) from exc
    except smtplib.SMTPResponseException as exc:
        raise _classify(exc.smtp_code, _decode(exc.smtp_error)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryMailError(f"{type(exc).__name__}: {exc}") from exc
