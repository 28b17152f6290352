"""Structured logs: one JSON object per line, with the request's id; no personal data."""

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

# A request id taken from the X-Request-Id header (a proxy's), if it looks like one.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _loggable_path() -> str:
    """The request's path, except that a secret in it (the token of a link sent by e-mail:
    confirming, resetting a password, unsubscribing) is not written down: its route instead."""
    rule = request.url_rule
    if rule is not None and "token" in rule.arguments:
        return rule.rule
    return request.path


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger("exchange")
    root.handlers[:] = [handler]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    root.propagate = False

    access = logging.getLogger("exchange.access")

    @app.before_request
    def _start_timer():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        if started is not None and not request.path.startswith("/static/"):
            access.info(
                "request",
                extra={
                    "method": request.method,
                    "path": _loggable_path(),
                    "endpoint": request.endpoint,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response
