from flask import url_for

from exchange.workflow import Kind

_SHOW = {Kind.PRACTICE: "practices.show", Kind.IDEA: "ideas.show"}
_EDIT = {Kind.PRACTICE: "practices.edit", Kind.IDEA: "ideas.edit"}


def item_url(submission, **values) -> str:
    """The page of a practice or an idea (/practices/<id> or /ideas/<id>)."""
    return url_for(_SHOW[submission.kind], submission_id=submission.id, **values)


def item_edit_url(submission, **values) -> str:
    return url_for(_EDIT[submission.kind], submission_id=submission.id, **values)
