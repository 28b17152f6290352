"""The programmes' public pages: /programmes/ and /programmes/<code>."""

from flask import Blueprint, abort, render_template

from exchange.programmes import services

bp = Blueprint("programmes", __name__)


@bp.get("/")
def index():
    """Every programme with its objectives and live figures."""
    return render_template(
        "programmes/index.html",
        programmes=services.all_programmes(),
        figures=services.programme_figures(),
    )


@bp.get("/<programme_code>")
def show(programme_code: str):
    """One programme: what it is, its objectives (each a link to the catalogue), its figures and
    its latest published items."""
    programme = services.programme_by_code(programme_code)
    if programme is None:
        abort(404)
    return render_template(
        "programmes/show.html",
        programme=programme,
        figures=services.programme_figures(),
        latest=services.latest_items(programme),
    )
