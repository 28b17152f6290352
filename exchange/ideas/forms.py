from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from exchange.authorities.models import KIND_LABELS, SIDE_LABELS
from exchange.forms import CheckboxListField, choices, strip
from exchange.reference.services import all_border_areas
from exchange.submissions.forms import (
    ItemForm,
    date_field,
    not_in_the_past,
    reference_checkboxes,
    text_area,
    theme_choices,
    too_long,
)
from exchange.submissions.models import BUDGET_LABELS

CHOOSE = _l("Choose from the list.")


class IdeaForm(ItemForm):
    """A cross-border project idea. Everything but the title may wait until it is submitted."""

    description = text_area(_l("Description"), _l("What the project would do, where, and how."))
    border_area = SelectField(
        _l("Border area"), choices=[], validators=[Optional()], invalid_choice_message=CHOOSE
    )
    value_chain = StringField(
        _l("Cluster or value chain"),
        filters=[strip],
        validators=[Optional(), too_long(200)],
        description=_l("Pick one of the border area's value chains, or write your own."),
    )
    expected_results = text_area(_l("Expected results"))
    budget_range = SelectField(
        _l("Budget range"), choices=[], validators=[Optional()], invalid_choice_message=CHOOSE
    )
    open_until = date_field(
        _l("Open to partners until"),
        _l("After this date the idea closes by itself."),
        validators=[not_in_the_past],
    )
    partner_kinds = CheckboxListField(
        _l("Kinds of authority sought"),
        coerce=str,
        choices=[],
        invalid_value_message=CHOOSE,
    )
    partner_sides = CheckboxListField(
        _l("From which side"),
        coerce=str,
        choices=[],
        invalid_value_message=CHOOSE,
    )
    partner_themes = reference_checkboxes(
        _l("Themes the partners work on"), _l("What the partners sought should know about.")
    )

    def fill_choices(self) -> None:
        super().fill_choices()
        self.border_area.choices = choices(
            [("", _("Not chosen yet")), *((str(a.id), a.name) for a in all_border_areas())]
        )
        self.budget_range.choices = choices(
            [("", _("Not decided yet")), *((b.value, label) for b, label in BUDGET_LABELS.items())]
        )
        self.partner_kinds.choices = choices((k.value, label) for k, label in KIND_LABELS.items())
        self.partner_sides.choices = choices((s.value, label) for s, label in SIDE_LABELS.items())
        self.partner_themes.choices = theme_choices()

    def load(self, revision) -> None:
        super().load(revision)
        self.description.data = revision.description
        self.border_area.data = str(revision.border_area_id or "")
        self.value_chain.data = revision.value_chain
        self.expected_results.data = revision.expected_results
        self.budget_range.data = revision.budget_range.value if revision.budget_range else ""
        self.open_until.data = revision.open_until
        self.partner_kinds.data = list(revision.partner_kinds or [])
        self.partner_sides.data = list(revision.partner_sides or [])
        self.partner_themes.data = [theme.id for theme in revision.partner_themes]

    def content(self):
        content = super().content()
        content.description = self.description.data or ""
        content.border_area_id = int(self.border_area.data) if self.border_area.data else None
        content.value_chain = self.value_chain.data or ""
        content.expected_results = self.expected_results.data or ""
        content.budget_range = self.budget_range.data or None
        content.open_until = self.open_until.data
        content.partner_kinds = list(self.partner_kinds.data or [])
        content.partner_sides = list(self.partner_sides.data or [])
        content.partner_theme_ids = list(self.partner_themes.data or [])
        return content


class InviteCoOwnerForm(FlaskForm):
    """Another verified authority to own the idea too (the choices: see the view)."""

    authority = SelectField(
        _l("Authority"),
        choices=[],
        validators=[DataRequired(_l("Choose the authority to invite."))],
        invalid_choice_message=_l("Choose another verified authority."),
    )
    message = TextAreaField(
        _l("Message to its members (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=2000, message=_l("Keep it under %(max)d characters."))],
    )
