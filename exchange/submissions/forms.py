"""The fields good practices and project ideas share, the choices they offer from the reference
data, and the turning of a filled form into the services' `Content`."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from exchange.forms import CheckboxListField, choices, strip
from exchange.reference.services import all_programmes, all_theme_groups
from exchange.submissions.services import LANGUAGES, Content

# Enough for a page or two of prose per field; the title and the value chain fit their columns.
TEXT_MAX = 10_000
SUMMARY_MAX = 1_000
TITLE_MAX = 200

LANGUAGE_LABELS = {"en": "English", "es": "Español", "pt": "Português"}


def too_long(limit: int):
    return Length(max=limit, message=_l("Keep it under %(max)d characters."))


def text_area(label, description=None, limit: int = TEXT_MAX) -> TextAreaField:
    return TextAreaField(
        label, filters=[strip], validators=[Optional(), too_long(limit)], description=description
    )


def reference_checkboxes(label, description=None) -> CheckboxListField:
    """Checkboxes of reference rows (by id); the choices are filled per request."""
    return CheckboxListField(
        label,
        choices=[],
        description=description,
        invalid_value_message=_l("Choose from the list."),
    )


class ItemForm(FlaskForm):
    """What a practice and an idea both have. A draft needs only a title and its language."""

    language = SelectField(
        _l("Language it is written in"),
        choices=choices((code, LANGUAGE_LABELS[code]) for code in LANGUAGES),
        validators=[InputRequired(_l("Choose the language it is written in."))],
        invalid_choice_message=_l("Choose the language it is written in."),
    )
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give it a title, even a provisional one.")),
            too_long(TITLE_MAX),
        ],
    )
    summary = text_area(
        _l("Summary"), _l("Two or three sentences shown in the catalogue."), SUMMARY_MAX
    )
    themes = reference_checkboxes(_l("Themes"))
    objectives = reference_checkboxes(
        _l("Programme objectives"),
        _l("The objectives of the cooperation programmes it contributes to."),
    )

    def fill_choices(self) -> None:
        """Offer the themes (by group) and the objectives (by programme) of the reference data."""
        self.themes.choices = theme_choices()
        self.objectives.choices = [
            SelectChoice(objective.id, objective.text, optgroup=programme.name)
            for programme in all_programmes()
            for objective in programme.objectives
        ]

    def load(self, revision) -> None:
        """Show a saved revision in the form."""
        self.language.data = revision.language
        self.title.data = revision.title
        self.summary.data = revision.summary
        self.themes.data = [theme.id for theme in revision.themes]
        self.objectives.data = [objective.id for objective in revision.objectives]

    def content(self) -> Content:
        return Content(
            language=self.language.data,
            title=self.title.data or "",
            summary=self.summary.data or "",
            theme_ids=list(self.themes.data or []),
            objective_ids=list(self.objectives.data or []),
        )


def theme_choices() -> list[SelectChoice]:
    return [
        SelectChoice(theme.id, theme.label, optgroup=group.label)
        for group in all_theme_groups()
        for theme in group.themes
    ]


def not_in_the_past(form, field) -> None:
    if field.data is not None and field.data <= date.today():
        raise ValidationError(_l("Choose a date in the future."))


def date_field(label, description=None, validators=()) -> DateField:
    return DateField(
        label,
        validators=[Optional(), *validators],
        description=description,
        invalid_value_message=_l("Enter a date as year-month-day, e.g. 2026-03-31."),
    )
