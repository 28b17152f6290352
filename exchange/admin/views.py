from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from exchange.access import get_or_404, is_admin, require
from exchange.admin.forms import (
    BorderAreaForm,
    ObjectiveForm,
    ProgrammeForm,
    RoleForm,
    ThemeForm,
    keyword_list,
)
from exchange.auth import services as auth_services
from exchange.auth.models import Role, User
from exchange.errors import ActionError
from exchange.extensions import db
from exchange.forms import EmptyForm, choices, show_error
from exchange.reference.countries import country_choices
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.reference.services import (
    all_border_areas,
    all_programmes,
    all_theme_groups,
    save_reference_item,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERS_PAGE_SIZE = 50


@bp.get("/")
@require(is_admin)
def index():
    return redirect(url_for("admin.users"))


# People ----------------------------------------------------------------------------------------


@bp.get("/users")
@require(is_admin)
def users():
    page = max(request.args.get("page", 1, type=int), 1)
    search = (request.args.get("q") or "").strip()
    query = select(User)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(User.email.like(pattern), func.lower(User.name).like(pattern)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    people = db.session.scalars(
        query.order_by(User.email).limit(USERS_PAGE_SIZE).offset((page - 1) * USERS_PAGE_SIZE)
    ).all()
    return render_template(
        "admin/users.html",
        people=people,
        total=total,
        page=page,
        pages=max((total + USERS_PAGE_SIZE - 1) // USERS_PAGE_SIZE, 1),
        search=search,
        role_form=RoleForm(formdata=None),
    )


@bp.post("/users/<int:user_id>/role")
@require(is_admin)
def set_role(user_id: int):
    person = get_or_404(User, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            auth_services.set_role(current_user, person, Role(form.role.data))
        except ActionError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("The role of %(email)s is saved.", email=person.email), "success")
    else:
        flash(_("Choose a role from the list."), "danger")
    return redirect(url_for("admin.users", q=request.args.get("q") or None))


@bp.post("/users/<int:user_id>/<any(suspend, restore):action>")
@require(is_admin)
def set_active(user_id: int, action: str):
    person = get_or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        try:
            auth_services.set_active(current_user, person, active=action == "restore")
        except ActionError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(
                _("%(email)s is suspended.", email=person.email)
                if action == "suspend"
                else _("%(email)s can log in again.", email=person.email),
                "success",
            )
    return redirect(url_for("admin.users"))


# Reference data --------------------------------------------------------------------------------


@bp.get("/reference")
@require(is_admin)
def reference():
    return render_template(
        "admin/reference.html",
        programmes=all_programmes(),
        theme_groups=all_theme_groups(),
        border_areas=all_border_areas(),
    )


def _save(valid: bool, form, item, values: dict, title: str, back: str):
    """The shared end of every reference edit: save through the service or show the errors."""
    if valid:
        try:
            save_reference_item(current_user, item, values)
        except ActionError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(back)
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("admin/edit_reference.html", form=form, title=title, back=back), status


def _columns(form, names: list[str]) -> dict:
    return {name: getattr(form, name).data for name in names}


PROGRAMME_FIELDS = [
    "code",
    "name_en",
    "name_es",
    "name_pt",
    "description_en",
    "description_es",
    "description_pt",
    "website",
    "position",
]


@bp.route("/programmes/new", methods=["GET", "POST"], defaults={"programme_id": None})
@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@require(is_admin)
def edit_programme(programme_id: int | None):
    programme = get_or_404(Programme, programme_id) if programme_id else Programme()
    form = ProgrammeForm(obj=programme)
    valid = form.validate_on_submit()
    values = _columns(form, PROGRAMME_FIELDS)
    values["description_en"] = values["description_en"] or ""
    values["description_es"] = values["description_es"] or ""
    values["description_pt"] = values["description_pt"] or ""
    values["website"] = values["website"] or None
    title = programme.name_en if programme_id else _("New programme")
    return _save(valid, form, programme, values, title, url_for("admin.reference"))


OBJECTIVE_FIELDS = ["code", "text_en", "text_es", "text_pt", "position"]


@bp.route("/programmes/<int:programme_id>/objectives/new", methods=["GET", "POST"])
@require(is_admin)
def new_objective(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    objective = Objective(programme_id=programme.id)
    form = ObjectiveForm(obj=objective)
    valid = form.validate_on_submit()
    values = _columns(form, OBJECTIVE_FIELDS)
    return _save(valid, form, objective, values, _("New objective"), url_for("admin.reference"))


@bp.route("/objectives/<int:objective_id>", methods=["GET", "POST"])
@require(is_admin)
def edit_objective(objective_id: int):
    objective = get_or_404(Objective, objective_id)
    form = ObjectiveForm(obj=objective)
    valid = form.validate_on_submit()
    values = _columns(form, OBJECTIVE_FIELDS)
    return _save(valid, form, objective, values, objective.code, url_for("admin.reference"))


@bp.route("/themes/new", methods=["GET", "POST"], defaults={"theme_id": None})
@bp.route("/themes/<int:theme_id>", methods=["GET", "POST"])
@require(is_admin)
def edit_theme(theme_id: int | None):
    theme = get_or_404(Theme, theme_id) if theme_id else Theme(keywords={})
    form = ThemeForm(obj=theme)
    form.group_id.choices = choices((group.id, group.label) for group in all_theme_groups())
    if request.method == "GET":
        for language in ("en", "es", "pt"):
            getattr(form, f"keywords_{language}").data = "\n".join(
                (theme.keywords or {}).get(language, [])
            )
    valid = form.validate_on_submit()
    values = _columns(form, ["code", "group_id", "label_en", "label_es", "label_pt", "position"])
    values["keywords"] = {
        language: keyword_list(getattr(form, f"keywords_{language}").data)
        for language in ("en", "es", "pt")
    }
    title = theme.label_en if theme_id else _("New theme")
    return _save(valid, form, theme, values, title, url_for("admin.reference"))


@bp.route("/border-areas/new", methods=["GET", "POST"], defaults={"border_area_id": None})
@bp.route("/border-areas/<int:border_area_id>", methods=["GET", "POST"])
@require(is_admin)
def edit_border_area(border_area_id: int | None):
    area = (
        get_or_404(BorderArea, border_area_id)
        if border_area_id
        else BorderArea(countries=[], subdivisions=[], value_chains=[])
    )
    form = BorderAreaForm(obj=area)
    form.countries.choices = choices(country_choices())
    if request.method == "GET":
        form.subdivisions.data = " ".join(area.subdivisions or [])
        form.value_chains.data = "\n".join(
            " | ".join(chain.get(language, "") for language in ("en", "es", "pt"))
            for chain in area.value_chains or []
        )
    valid = form.validate_on_submit()
    values = _columns(
        form, ["code", "name_en", "name_es", "name_pt", "countries", "source_url", "position"]
    )
    values["subdivisions"] = form.subdivision_codes()
    values["value_chains"] = form.value_chain_list()
    title = area.name_en if border_area_id else _("New border area")
    return _save(valid, form, area, values, title, url_for("admin.reference"))
