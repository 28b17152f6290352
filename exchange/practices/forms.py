from flask_babel import lazy_gettext as _l
from wtforms import MonthField
from wtforms.validators import Optional, ValidationError

from exchange.submissions.forms import ItemForm, text_area


def month_field(label, description=None) -> MonthField:
    return MonthField(
        label,
        validators=[Optional()],
        description=description,
        invalid_value_message=_l("Enter a year and a month, e.g. 2021-03."),
        render_kw={"placeholder": "2021-03"},
    )


class PracticeForm(ItemForm):
    """A good practice, in the order of DESIGN.md. Everything but the title may wait."""

    problem = text_area(_l("The problem it addresses"))
    actions = text_area(_l("What was done"), _l("The actions, who took them, and how."))
    results = text_area(
        _l("Results and evidence"), _l("What changed, with figures and sources where you can.")
    )
    resources = text_area(_l("Resources and cost"), _l("Budget, staff, funding sources."))
    transferability = text_area(
        _l("What makes it transferable"),
        _l("The conditions another region or city would need to do the same."),
    )
    lessons = text_area(_l("Lessons learned"))
    period_start = month_field(_l("Started in"), _l("Year and month, e.g. 2021-03."))
    period_end = month_field(
        _l("Ended in"), _l("Year and month; leave it empty if it is still running.")
    )

    def validate_period_end(self, field) -> None:
        start = self.period_start.data
        if field.data and start and field.data < start:
            raise ValidationError(_l("The period ends before it starts."))

    def load(self, revision) -> None:
        super().load(revision)
        for name in ("problem", "actions", "results", "resources", "transferability", "lessons"):
            getattr(self, name).data = getattr(revision, name)
        self.period_start.data = revision.period_start
        self.period_end.data = revision.period_end

    def content(self):
        content = super().content()
        for name in ("problem", "actions", "results", "resources", "transferability", "lessons"):
            setattr(content, name, getattr(self, name).data or "")
        # A month is kept as its first day.
        content.period_start = self.period_start.data
        content.period_end = self.period_end.data
        return content
