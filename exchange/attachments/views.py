import logging
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange.access import get_or_404, is_signed_in, require
from exchange.actions import perform
from exchange.attachments import services
from exchange.attachments.forms import UploadForm
from exchange.extensions import talisman
from exchange.forms import EmptyForm
from exchange.submissions.models import Attachment, Revision, Submission
from exchange.submissions.urls import item_url
from exchange.workflow import State

log = logging.getLogger(__name__)

bp = Blueprint("attachments", __name__)


@dataclass
class Listing:
    """What the attachments partial shows for one revision of an item."""

    attachments: list[Attachment]
    can_upload: bool
    form: UploadForm | None
    # Why the owners cannot change the files now, when they could after a step of theirs.
    note: str | None
    accept: str = services.ACCEPT


def attachment_listing(
    submission: Submission, revision: Revision | None, can_edit: bool = False, form=None
) -> Listing:
    """The files of `revision` and, for its owners, the upload form (or why there is none)."""
    changeable = (
        bool(can_edit)
        and revision is not None
        and revision.id == submission.working_revision_id
        and services.can_upload(current_user, submission)
    )
    note = None
    if can_edit and not changeable:
        if submission.state == State.PUBLISHED:
            note = _l(
                "To add or remove files, edit the item: the new version and its files are "
                "reviewed before they replace the published ones."
            )
        elif submission.state == State.CHANGES_REQUESTED:
            note = _l(
                "To add or remove files, edit the item first: the version the coordinators "
                "reviewed stays as they saw it."
            )
    if changeable:
        form = form or UploadForm(formdata=None)
        form.file.description = _(
            "PDF, images (PNG, JPEG, WebP, GIF) or office documents (Word, Excel, PowerPoint, "
            "OpenDocument), up to %(size)s each. The type is checked from the content.",
            size=services.format_size(services.max_bytes()),
        )
    return Listing(
        attachments=services.attachments_in(submission, revision),
        can_upload=changeable,
        form=form if changeable else None,
        note=note,
    )


@bp.app_context_processor
def _helpers():
    return {
        "attachment_listing": attachment_listing,
        "attachment_type_label": services.type_label,
        "can_remove_attachment": lambda attachment: services.can_remove(current_user, attachment),
    }


@bp.app_template_filter("filesize")
def _filesize(size: int) -> str:
    return services.format_size(size)


def _owned_submission(submission_id: int) -> Submission:
    """The item, if the current person owns it: 404 when they may not see its working version,
    403 when they may see it but not change it."""
    submission = get_or_404(Submission, submission_id)
    if not submission.can_view(current_user):
        abort(404)
    if not submission.is_owner(current_user):
        abort(403)
    return submission


def _render_manage(submission: Submission, form: UploadForm, status: int = 200):
    return (
        render_template(
            "attachments/manage.html",
            submission=submission,
            revision=submission.working_revision,
            can_edit=submission.can_edit(current_user),
            upload_form=form,
        ),
        status,
    )


@bp.route("/upload/<int:submission_id>", methods=["GET", "POST"])
@require(is_signed_in)
def upload(submission_id: int):
    """Attach a file to the version being edited (the item's page carries the same form)."""
    submission = _owned_submission(submission_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_manage(submission, form, 422 if form.is_submitted() else 200)
    upload = form.file.data
    done, attachment = perform(
        services.add_attachment, current_user, submission, upload.stream, upload.filename, form=form
    )
    if not done:
        return _render_manage(submission, form, 422)
    flash(_("“%(name)s” is attached.", name=attachment.filename), "success")
    return redirect(item_url(submission, _anchor="attachments"))


@bp.post("/<int:attachment_id>/remove")
@require(is_signed_in)
def remove(attachment_id: int):
    attachment = get_or_404(Attachment, attachment_id)
    if not services.can_download(current_user, attachment):
        abort(404)
    submission = attachment.submission
    if not submission.is_owner(current_user):
        abort(403)
    if EmptyForm().validate_on_submit():
        name = attachment.filename
        done, _result = perform(services.remove_attachment, current_user, attachment)
        if done:
            flash(_("“%(name)s” is removed.", name=name), "info")
    return redirect(item_url(submission, _anchor="attachments"))


@bp.get("/<int:attachment_id>")
# Even if a browser chose to display it, a file could run nothing and load nothing.
@talisman(content_security_policy="default-src 'none'; sandbox")
def download(attachment_id: int):
    """The file, as a download, for those who may see a revision it belongs to (404 for others:
    a draft's files are not known to exist)."""
    attachment = get_or_404(Attachment, attachment_id)
    if not services.can_download(current_user, attachment):
        abort(404)
    path = services.stored_path(attachment)
    if not path.is_file():
        log.error("attachment file missing", extra={"attachment_id": attachment.id})
        abort(404)
    submission = attachment.submission
    public = submission.is_listed and attachment.in_revision(
        submission.published_revision.number if submission.published_revision else None
    )
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        etag=attachment.sha256,
        last_modified=attachment.created_at,
        max_age=None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache" if public else "private, no-store"
    return response
