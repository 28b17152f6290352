"""Helpers shared by every feature's forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice

from exchange.errors import ActionError
from exchange.inputs import MAX_ID


def show_error(form, error: ActionError) -> None:
    """Put a service's refusal beside the field it concerns, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class CheckboxListField(SelectMultipleField):
    """A list of checkboxes that posts ids (ints)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("invalid_choice_message", _l("Choose from the list."))
        super().__init__(*args, **kwargs)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the choices of a select, radio or checkbox list."""
    return [SelectChoice(value, label) for value, label in pairs]


def as_id(value) -> int:
    """A posted value as the id of a row (a `coerce` for selects): a whole number an INTEGER
    column can hold, else ValueError (the field's error), never an overflow in the database."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def strip(value):
    """A filter for text fields: no surrounding blanks."""
    return value.strip() if isinstance(value, str) else value


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that change something."""
