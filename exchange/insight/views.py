"""The coordinators' dashboard (/insight/): charts with their tables and CSV, filtered by
programme, side and period; and the exports of practices, ideas, authorities, matches and the
activity log as CSV (streamed) and XLSX.

Each chart's SVG is a document of its own (an image on the page), so that the page keeps the
site's strict content policy; the SVG's own policy allows its inline styles and nothing else.
"""

import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user

from exchange.access import is_coordinator, require
from exchange.authorities.models import SIDE_LABELS
from exchange.database import utcnow
from exchange.errors import NotAllowed
from exchange.extensions import talisman
from exchange.insight import exports, services
from exchange.insight.charts import CHARTS
from exchange.insight.forms import ExportFilterForm, InsightFilterForm
from exchange.insight.services import Period

bp = Blueprint("insight", __name__)

CHART_KEYS = ",".join(CHARTS)
DATASET_NAMES = ",".join(exports.DATASETS)
FORMAT_NAMES = ",".join(exports.FORMATS)
# A chart as a document of its own: its inline styles, nothing else (no script, no request).
SVG_CSP = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "frame-ancestors": "'self'",
}


@bp.context_processor
def _helpers():
    return {"side_labels": SIDE_LABELS, "format_percent": format_percent}


def _filter_form(args) -> tuple[InsightFilterForm, bool]:
    form = InsightFilterForm(args)
    return form, form.validate()


def _chart_urls(key: str, args: dict) -> dict:
    return {
        "svg": url_for("insight.chart_svg", chart=key, **args),
        "csv": url_for("insight.chart_csv", chart=key, **args),
    }


@bp.get("/")
@require(is_coordinator)
def dashboard():
    """Every chart for the filters, each with its data as a table and as CSV; the exports."""
    form, valid = _filter_form(request.args)
    now = utcnow()
    filters = form.filters(now.date())
    args = form.url_args()
    panels = []
    for chart in CHARTS.values():
        rows = chart.data(filters, now)
        panels.append({"chart": chart, "rows": rows, "urls": _chart_urls(chart.key, args)})
    delivery = next(panel["rows"] for panel in panels if panel["chart"].key == "email")
    return (
        render_template(
            "insight/dashboard.html",
            form=form,
            filters=filters,
            programme=_programme_name(form),
            panels=panels,
            delivery=services.delivery_totals(delivery, now),
            datasets=exports.DATASETS.values(),
            formats=exports.FORMATS,
            filter_args=args,
            period_labels=services.PERIOD_LABELS,
        ),
        200 if valid else 422,
    )


def _programme_name(form: InsightFilterForm) -> str | None:
    if not form.programme.data or form.programme.errors:
        return None
    return next((c.label for c in form.programme.choices if c.value == form.programme.data), None)


@bp.get(f"/charts/<any({CHART_KEYS}):chart>.svg")
@require(is_coordinator)
@talisman(content_security_policy=SVG_CSP)
def chart_svg(chart: str):
    """One chart as SVG, in the reader's language, for the filters in the address."""
    form, valid = _filter_form(request.args)
    if not valid:
        abort(400)
    now = utcnow()
    found = CHARTS[chart]
    filters = form.filters(now.date())
    response = make_response(found.svg(found.data(filters, now), filters, now.date()))
    response.mimetype = "image/svg+xml"
    response.headers["Content-Disposition"] = f'inline; filename="exchange-{chart}.svg"'
    return response


@bp.get(f"/charts/<any({CHART_KEYS}):chart>.csv")
@require(is_coordinator)
def chart_csv(chart: str):
    """Exactly one chart's rows as CSV, for the filters in the address."""
    form, valid = _filter_form(request.args)
    if not valid:
        flash(_("Nothing was downloaded: correct the filters first."), "danger")
        return redirect(url_for("insight.dashboard", **request.args))
    now = utcnow()
    found = CHARTS[chart]
    rows = found.data(form.filters(now.date()), now)
    body = "".join(
        exports.csv_chunks(found.columns, ([c.value(row) for c in found.columns] for row in rows))
    )
    response = make_response(body)
    response.mimetype = "text/csv"
    response.charset = "utf-8"
    name = exports.file_name(f"chart-{chart}", "csv", now.date())
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get(f"/exports/<any({DATASET_NAMES}):dataset>.<any({FORMAT_NAMES}):fmt>")
@require(is_coordinator)
def export(dataset: str, fmt: str):
    """A dataset, filtered as on the dashboard (all time when no period is given), as a CSV
    streamed while it is read, or as an XLSX written row by row into a temporary file."""
    form = ExportFilterForm(request.args, default_period=Period.ALL).for_dataset(dataset)
    if not form.validate():
        problems = "; ".join(
            f"{field.label.text}: {' '.join(str(e) for e in field.errors)}"
            for field in form
            if field.errors
        )
        flash(_("Nothing was exported. %(problems)s", problems=problems), "danger")
        return redirect(url_for("insight.dashboard", **form.url_args()))
    today = utcnow().date()
    try:
        found, rows = exports.export_rows(current_user, dataset, form.filters(today), form.extra())
    except NotAllowed:
        abort(403)
    name = exports.file_name(dataset, fmt, today)
    if fmt == "csv":
        response = Response(
            stream_with_context(exports.csv_chunks(found.columns, rows)),
            mimetype="text/csv",
        )
        response.charset = "utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    # Deleted as soon as it is closed, once it has been sent (see TemporaryDownload).
    target = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        exports.write_xlsx(str(found.title), found.columns, rows, target)
        size = target.tell()
        target.seek(0)
    except BaseException:
        target.close()
        raise
    response = Response(exports.TemporaryDownload(target), mimetype=exports.XLSX_MIME)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
