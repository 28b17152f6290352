"""The partners' forms on a match's page (answer, record a stage, close) and the coordinators'
forms of the brokerage console (filters, approval with a note, bulk decisions, a match by hand,
a pairing round)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from exchange.forms import as_id, choices, strip
from exchange.matching.models import STAGE_LABELS

MAX_REASON = 2000
MAX_NOTE = 2000
ACCEPT, DECLINE = "accept", "decline"


class AnswerForm(FlaskForm):
    """Accept (the button alone) or decline (with a reason)."""

    answer = HiddenField(validators=[AnyOf([ACCEPT, DECLINE], message=_l("Choose an answer."))])
    reason = TextAreaField(
        _l("Why does your authority decline?"),
        filters=[strip],
        validators=[Length(max=MAX_REASON, message=_l("Keep it under %(max)d characters."))],
        description=_l(
            "The other authority and the coordinator read it; it helps them propose better "
            "partners."
        ),
    )

    def validate_reason(self, field):
        if self.answer.data == DECLINE and not field.data:
            raise ValidationError(_l("Say why you decline: the coordinators learn from it."))


class StageForm(FlaskForm):
    stage = SelectField(
        _l("Stage reached"),
        validators=[DataRequired(_l("Choose a stage from the list."))],
        validate_choice=True,
    )
    note = TextAreaField(
        _l("Note (optional)"),
        filters=[strip],
        validators=[Length(max=MAX_NOTE, message=_l("Keep it under %(max)d characters."))],
        description=_l(
            "What happened, in a sentence or two: both sides and the coordinators see it."
        ),
    )

    def set_stages(self, stages) -> None:
        """Only the stages further than the current one can be chosen."""
        self.stage.choices = choices(
            [("", _l("Choose…")), *((s.value, STAGE_LABELS[s]) for s in stages)]
        )


class CloseForm(FlaskForm):
    reason = TextAreaField(
        _l("Why does the match end?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Say why the match ends.")),
            Length(max=MAX_REASON, message=_l("Keep it under %(max)d characters.")),
        ],
    )


# The coordinators' brokerage console -----------------------------------------------------------

MIN_SCORE_MESSAGE = _l("Enter a score between 0 and 1, e.g. 0.5.")


def _listed(form, field):
    """A GET filter may come from a hand-made address: refuse a value that is not offered."""
    if field.data and str(field.data) not in {str(value) for value, *_ in field.iter_choices()}:
        raise ValidationError(_l("Choose from the list."))


def _optional_int(value):
    """A select's value as an id; "" (nothing chosen) as None."""
    if value in (None, ""):
        return None
    return as_id(value)


class ScoreField(DecimalField):
    """A score between 0 and 1; a decimal comma is read as a point (0,5 is 0.5)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        value = str(valuelist[0]).strip().replace(",", ".")
        try:
            super().process_formdata([value])
        except ValueError:
            raise ValueError(MIN_SCORE_MESSAGE) from None


def _score_range(form, field):
    if field.data is not None and not 0 <= field.data <= 1:
        raise ValidationError(MIN_SCORE_MESSAGE)


class ProposalFilterForm(FlaskForm):
    """The proposals' filters and order: GET parameters, so that a view can be bookmarked."""

    class Meta:
        csrf = False

    programme = SelectField(
        _l("Programme"),
        choices=[],
        validate_choice=False,
        validators=[_listed],
        description=_l("At least one of the two takes part in it."),
    )
    country = SelectField(
        _l("Country"),
        choices=[],
        validate_choice=False,
        validators=[_listed],
        description=_l("At least one of the two is in it."),
    )
    sides = SelectField(
        _l("Sides"),
        choices=choices(
            [
                ("", _l("Any pair")),
                ("across", _l("EU with Latin America")),
                ("EU", _l("EU with EU")),
                ("LAC", _l("Latin America with Latin America")),
            ]
        ),
        validate_choice=False,
        validators=[_listed],
    )
    min_score = ScoreField(
        _l("Minimum score"),
        places=None,
        validators=[Optional(), _score_range],
        description=_l("Between 0 and 1."),
    )
    theme = SelectField(
        _l("Theme"),
        choices=[],
        validate_choice=False,
        validators=[_listed],
        description=_l("Both work on it."),
    )
    sort = SelectField(
        _l("Order"),
        choices=choices([("score", _l("Best score first")), ("age", _l("Waiting longest first"))]),
        validate_choice=False,
        validators=[_listed],
    )


class ApproveForm(FlaskForm):
    """Approve one proposal, with an optional personal note for both sides."""

    note = TextAreaField(
        _l("Personal note to both authorities (optional)"),
        filters=[strip],
        validators=[Length(max=MAX_NOTE, message=_l("Keep it under %(max)d characters."))],
        description=_l("Added to the offer e-mails and shown on the match's page."),
    )
    # The proposals list's query string, to go back to the same view afterwards.
    filters = HiddenField()


class BulkProposalForm(FlaskForm):
    """One action on the proposals ticked in the list. Sent once to see what it will touch,
    and again with `confirm` to do it."""

    proposal_ids = SelectMultipleField(
        _l("Chosen proposals"), coerce=as_id, choices=[], validate_choice=False
    )
    action = SelectField(
        _l("What to do with the chosen proposals"),
        choices=choices(
            [("", _l("Choose…")), ("approve", _l("Approve")), ("dismiss", _l("Dismiss"))]
        ),
        validate_choice=False,
        validators=[
            InputRequired(_l("Choose what to do with the chosen proposals.")),
            _listed,
        ],
    )
    bulk_note = TextAreaField(
        _l("Personal note for every approved match (optional)"),
        filters=[strip],
        validators=[Length(max=MAX_NOTE, message=_l("Keep it under %(max)d characters."))],
        description=_l("Only when approving: added to every offer e-mail."),
    )
    filters = HiddenField()
    confirm = HiddenField()


class MatchByHandForm(FlaskForm):
    """Two verified authorities a coordinator puts in touch, optionally about one of their
    published practices or ideas, with a personal note."""

    authority_a = SelectField(
        _l("First authority"),
        coerce=_optional_int,
        choices=[],
        validate_choice=False,
        validators=[InputRequired(_l("Choose an authority."))],
        description=_l("Type the first letters of its name to find it."),
    )
    authority_b = SelectField(
        _l("Second authority"),
        coerce=_optional_int,
        choices=[],
        validate_choice=False,
        validators=[InputRequired(_l("Choose an authority."))],
        description=_l("On the other side (EU or Latin America), unless you tick “same side”."),
    )
    same_side = BooleanField(_l("Same side: match two EU or two Latin-American authorities"))
    submission = SelectField(
        _l("About one of their practices or ideas (optional)"),
        coerce=_optional_int,
        choices=[],
        validate_choice=False,
        description=_l("A published practice or idea of one of the two authorities."),
    )
    note = TextAreaField(
        _l("Personal note to both authorities (optional)"),
        filters=[strip],
        validators=[Length(max=MAX_NOTE, message=_l("Keep it under %(max)d characters."))],
        description=_l("Added to the offer e-mails and shown on the match's page."),
    )
    # The pair whose explanation was shown ("a-b"): creating another one shows its own first.
    checked = HiddenField()

    def validate_authority_a(self, field):
        if field.data is None:
            raise ValidationError(_l("Choose an authority."))

    def validate_authority_b(self, field):
        if field.data is None:
            raise ValidationError(_l("Choose an authority."))
        if field.data == self.authority_a.data:
            raise ValidationError(_l("Choose two different authorities."))


class PairingForm(FlaskForm):
    """The programme of a pairing round (a GET parameter)."""

    class Meta:
        csrf = False

    programme = SelectField(
        _l("Programme"),
        coerce=_optional_int,
        choices=[],
        validate_choice=False,
        validators=[InputRequired(_l("Choose a programme."))],
        description=_l("Its verified authorities are paired, EU with Latin America."),
    )

    def validate_programme(self, field):
        if field.data is None:
            raise ValidationError(_l("Choose a programme."))
        _listed(self, field)


class PairingConfirmForm(FlaskForm):
    """The pairs of a round, as shown; sent once for the confirmation page, then with
    `confirm` to create the matches."""

    programme = HiddenField()
    pairs = SelectMultipleField(_l("Pairs"), choices=[], validate_choice=False)
    note = TextAreaField(
        _l("Personal note for every match of the round (optional)"),
        filters=[strip],
        validators=[Length(max=MAX_NOTE, message=_l("Keep it under %(max)d characters."))],
        description=_l("Added to every offer e-mail."),
    )
    confirm = HiddenField()


class DismissForm(FlaskForm):
    """Dismiss one proposal (the button alone)."""

    filters = HiddenField()
