"""Files attached to practices and ideas.

A file is accepted by what it contains, never by its name: the first bytes tell a PDF or an image
(the `filetype` library); a ZIP is accepted only when its own table of contents shows an office
document, and only when that table promises no bomb (the sizes, the ratio and the number of
entries are read from the ZIP's directory, nothing is extracted). The file is written under a
random name in the storage folder (outside the web root) and only the cleaned-up original name is
kept, for display and download.

A file belongs to revisions `added_in` up to `removed_in` (see `Attachment`): owners change the
attachments of the working revision while it is a draft that no coordinator has decided on (a
reviewed revision stays as the reviewer saw it; editing the item starts a new one), so that a
file added to a new revision of a published item stays private until that revision is published.

Files follow the transaction: a file written by a transaction that does not commit is deleted, and
a file whose row is deleted is removed from the disk only once the deletion is committed.
"""

import hashlib
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from babel.units import format_unit
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import event

from exchange.activity.services import record_activity
from exchange.auth.models import User
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.submissions.models import Attachment, CoOwnerStatus, Revision, Submission
from exchange.workflow import STATE_LABELS, State

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# How many files one revision may have.
MAX_FILES_PER_REVISION = 20
# ZIP-based documents: what their directory may promise. Real documents stay far below.
MAX_ZIP_ENTRIES = 2000
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100  # uncompressed ÷ compressed, for the whole archive and for any large entry
RATIO_CHECKED_FROM = 1024 * 1024  # small entries compress as they like
# The displayed name, without its extension.
MAX_NAME_LENGTH = 120
CHUNK = 64 * 1024
HEAD = 8192

# States in which the working revision's attachments may change.
CHANGEABLE = frozenset({State.DRAFT, State.CHANGES_REQUESTED})


@dataclass(frozen=True)
class FileType:
    mime: str
    extensions: tuple[str, ...]  # the first is the one given to a name that has none of them
    label: object  # a lazy string


PDF = FileType("application/pdf", ("pdf",), _l("PDF document"))
PNG = FileType("image/png", ("png",), _l("PNG image"))
JPEG = FileType("image/jpeg", ("jpg", "jpeg"), _l("JPEG image"))
WEBP = FileType("image/webp", ("webp",), _l("WebP image"))
GIF = FileType("image/gif", ("gif",), _l("GIF image"))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ("docx",),
    _l("Word document"),
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ("xlsx",),
    _l("Excel spreadsheet"),
)
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ("pptx",),
    _l("PowerPoint presentation"),
)
ODT = FileType("application/vnd.oasis.opendocument.text", ("odt",), _l("OpenDocument text"))
ODS = FileType(
    "application/vnd.oasis.opendocument.spreadsheet", ("ods",), _l("OpenDocument spreadsheet")
)
ODP = FileType(
    "application/vnd.oasis.opendocument.presentation", ("odp",), _l("OpenDocument presentation")
)

FILE_TYPES = (PDF, PNG, JPEG, WEBP, GIF, DOCX, XLSX, PPTX, ODT, ODS, ODP)
BY_MIME = {t.mime: t for t in FILE_TYPES}
# Recognised from the first bytes.
_SIGNED = {t.mime: t for t in (PDF, PNG, JPEG, WEBP, GIF)}
# Office Open XML: the content type of the document's main part, in [Content_Types].xml.
_OOXML_MAIN = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
# OpenDocument: the `mimetype` entry, first in the archive.
_ODF = {t.mime.encode(): t for t in (ODT, ODS, ODP)}

# For the upload field's `accept` attribute: a hint to the browser's file picker, nothing more.
ACCEPT = ",".join(f".{ext}" for t in FILE_TYPES for ext in t.extensions)


def type_label(content_type: str) -> str:
    found = BY_MIME.get(content_type)
    return str(found.label) if found else content_type


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def storage_dir() -> Path:
    """The folder that holds the files; never inside the folder the web server serves."""
    configured = current_app.config.get("ATTACHMENT_DIR")
    folder = Path(configured or Path(current_app.instance_path) / "attachments").resolve()
    static = Path(current_app.static_folder or "").resolve()
    if current_app.static_folder and folder.is_relative_to(static):
        raise RuntimeError("ATTACHMENT_DIR must not be inside the static folder")
    return folder


_KEY = re.compile(r"[0-9a-f]{32}")


def stored_path(attachment: Attachment) -> Path:
    if not _KEY.fullmatch(attachment.storage_key):
        raise ValueError("not a storage key")
    return storage_dir() / attachment.storage_key


# Who may do what -------------------------------------------------------------------------------


def working_revision_reviewed(submission: Submission) -> bool:
    """Whether a coordinator decided on the working revision (it was published, or changes were
    requested on it): such a revision stays as the reviewer saw it, files included."""
    return submission.working_revision_id == submission.published_revision_id or any(
        review.revision_id == submission.working_revision_id for review in submission.reviews
    )


def can_upload(user, submission: Submission) -> bool:
    """Owners, while the working revision is a draft that no coordinator has decided on yet."""
    return (
        submission.can_edit(user)
        and submission.state in CHANGEABLE
        and not working_revision_reviewed(submission)
    )


def can_remove(user, attachment: Attachment) -> bool:
    submission = attachment.submission
    return can_upload(user, submission) and attachment.in_revision(
        submission.working_revision.number
    )


def _is_invited(user, submission: Submission) -> bool:
    """A member of an authority invited to co-own the idea: they read the draft, files
    included, before they answer."""
    return bool(
        user
        and user.is_authenticated
        and user.authority_id is not None
        and any(
            c.authority_id == user.authority_id and c.status == CoOwnerStatus.INVITED
            for c in submission.co_owners
        )
    )


def can_download(user, attachment: Attachment) -> bool:
    """Anyone, for a file of the published revision of a listed item; the owners and the
    coordinators, for any file of the item; members of an authority invited to co-own it, for
    the files of the working revision; nobody else."""
    submission = attachment.submission
    if submission.can_view_working(user):
        return True
    if _is_invited(user, submission) and attachment.in_revision(submission.working_revision.number):
        return True
    published = submission.published_revision
    return (
        submission.is_listed and published is not None and attachment.in_revision(published.number)
    )


def attachments_in(submission: Submission, revision: Revision | None) -> list[Attachment]:
    if revision is None:
        return []
    return [a for a in submission.attachments if a.in_revision(revision.number)]


# Names -----------------------------------------------------------------------------------------

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{prefix}{n}" for prefix in ("COM", "LPT") for n in range(10)
}
_UNSAFE = re.compile(r'[<>:"|?*]')


def clean_filename(name: str | None, file_type: FileType) -> str:
    """A name safe to show and to offer as a download: the last part of any path, without
    control or invisible characters, not too long, and ending with an extension of its type."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    # Control characters become spaces; invisible ones (right-to-left overrides, zero-width
    # characters, unassigned code points) go: they make a name read differently than it is.
    name = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in name
        if unicodedata.category(ch) == "Cc" or not unicodedata.category(ch).startswith("C")
    )
    name = " ".join(_UNSAFE.sub("_", name).split()).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot or extension.lower() not in file_type.extensions:
        stem, extension = name, file_type.extensions[0]
    stem = stem.strip(" .")[:MAX_NAME_LENGTH].rstrip(" .") or "attachment"
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    return f"{stem}.{extension.lower()}"


# Content ---------------------------------------------------------------------------------------


def _refuse_type() -> ActionError:
    return ActionError(
        _l(
            "This kind of file is not accepted: send a PDF, an image (PNG, JPEG, WebP, GIF) or an "
            "office document (Word, Excel, PowerPoint, OpenDocument)."
        ),
        field="file",
    )


def _refuse_archive() -> ActionError:
    return ActionError(
        _l("This document's archive is too large or too compressed to be safe: it is refused."),
        field="file",
    )


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most `limit` bytes of one small entry (the directory has already been checked)."""
    with archive.open(info) as entry:
        return entry.read(limit)


def _zip_document_type(path: Path) -> FileType:
    """The office document a ZIP holds, judged from its directory and its identifying entry."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise _refuse_type() from error
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise _refuse_archive()
        total = sum(e.file_size for e in entries)
        packed = sum(e.compress_size for e in entries)
        if total > MAX_UNZIPPED_BYTES:
            raise _refuse_archive()
        if total > RATIO_CHECKED_FROM and total > MAX_ZIP_RATIO * max(packed, 1):
            raise _refuse_archive()
        for entry in entries:
            if entry.file_size > RATIO_CHECKED_FROM and entry.file_size > MAX_ZIP_RATIO * max(
                entry.compress_size, 1
            ):
                raise _refuse_archive()
        by_name = {e.filename: e for e in entries}
        try:
            if entries and entries[0].filename == "mimetype":
                found = _ODF.get(_read_entry(archive, entries[0], 100).strip())
                if found and "content.xml" in by_name and "META-INF/manifest.xml" in by_name:
                    return found
            elif "[Content_Types].xml" in by_name:
                info = by_name["[Content_Types].xml"]
                if info.file_size <= 1024 * 1024:
                    found = _ooxml_type(_read_entry(archive, info, 1024 * 1024), by_name)
                    if found:
                        return found
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
            # Damaged, encrypted or compressed with a method Python does not read.
            raise _refuse_type() from error
    raise _refuse_type()


_OVERRIDE = re.compile(rb"<Override\b[^>]*>")
_ATTRIBUTE = re.compile(rb'(PartName|ContentType)\s*=\s*["\']([^"\']*)["\']')


def _ooxml_type(content_types: bytes, names) -> FileType | None:
    """The type whose main part [Content_Types].xml declares, if that part is in the archive.
    Read with a pattern, not an XML parser: nothing in the file gets to expand entities."""
    for override in _OVERRIDE.findall(content_types):
        attributes = dict(_ATTRIBUTE.findall(override))
        found = _OOXML_MAIN.get(attributes.get(b"ContentType", b""))
        part = attributes.get(b"PartName", b"").decode("utf-8", "replace").lstrip("/")
        if found and part in names:
            return found
    return None


def detect_type(path: Path) -> FileType:
    """What the file is, by its content. Raises ActionError (on the field `file`) when it is
    none of the accepted types, or a ZIP that could be a bomb."""
    with path.open("rb") as stream:
        head = stream.read(HEAD)
    if head.startswith(b"PK\x03\x04"):
        return _zip_document_type(path)
    guessed = filetype.guess(head)
    if guessed is None or guessed.mime not in _SIGNED:
        raise _refuse_type()
    return _SIGNED[guessed.mime]


@dataclass(frozen=True)
class StoredFile:
    key: str
    path: Path
    size: int
    sha256: str
    file_type: FileType


def _store(upload: BinaryIO) -> StoredFile:
    """Copy the upload into the storage folder under a random name, refusing it on the way if it
    is too large, empty, or not an accepted type. The final name appears only once the whole file
    is written and checked (a rename), so that nobody ever reads half a file."""
    folder = storage_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(16)
    final = folder / key
    partial = folder / f".{key}.part"
    limit = max_bytes()
    digest = hashlib.sha256()
    size = 0
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            while chunk := upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ActionError(
                        _l(
                            "The file is larger than %(size)s: send a smaller one.",
                            size=format_size(limit),
                        ),
                        field="file",
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ActionError(_l("The file is empty."), field="file")
        file_type = detect_type(partial)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _delete_unless_committed(final)
    return StoredFile(key, final, size, digest.hexdigest(), file_type)


def format_size(size: int) -> str:
    """A size in the reader's language: "850 kB", "1,2 MB" (counted in 1024s, as file managers
    do)."""
    locale = get_locale() or "en"
    for unit, factor in (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024)):
        if size >= factor:
            value = round(size / factor, 1)
            return format_unit(value, unit, length="short", locale=locale, format="#,##0.#")
    return format_unit(size, "digital-byte", length="short", locale=locale)


# Files follow the transaction ------------------------------------------------------------------

_WRITTEN = "exchange.attachments.written"
_TO_DELETE = "exchange.attachments.to_delete"


def _keep_written(session) -> None:
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_TO_DELETE, ()):
        Path(path).unlink(missing_ok=True)


def _clean_after_transaction(session, transaction) -> None:
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    for path in session.info.pop(_WRITTEN, ()):
        Path(path).unlink(missing_ok=True)
    session.info.pop(_TO_DELETE, None)


def _install_hooks() -> None:
    for name, listener in (
        ("after_commit", _keep_written),
        ("after_transaction_end", _clean_after_transaction),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def _delete_unless_committed(path: Path) -> None:
    _install_hooks()
    db.session.info.setdefault(_WRITTEN, []).append(str(path))


def _delete_once_committed(path: Path) -> None:
    _install_hooks()
    db.session.info.setdefault(_TO_DELETE, []).append(str(path))


# Actions ---------------------------------------------------------------------------------------


def _check_changeable(actor: User, submission: Submission) -> None:
    if not submission.is_owner(actor):
        raise NotAllowed(_l("You cannot change the attachments of this item."))
    if not can_upload(actor, submission):
        if submission.state == State.PUBLISHED:
            raise ActionError(
                _l(
                    "The attachments of a published item change in a new version: edit the "
                    "item first, then add or remove files."
                ),
                field="file",
            )
        if submission.state == State.CHANGES_REQUESTED:
            raise ActionError(
                _l(
                    "The coordinators reviewed this version as it is: edit the item to start "
                    "the new version, then add or remove files."
                ),
                field="file",
            )
        raise ActionError(
            _l(
                "Attachments cannot be changed in its current state: %(state)s.",
                state=STATE_LABELS[submission.state],
            ),
            field="file",
        )


def add_attachment(
    actor: User, submission: Submission, upload: BinaryIO, filename: str | None
) -> Attachment:
    """Attach a file to the working revision. The file is checked by its content, stored under a
    random name, and logged; it is public only once its revision is published."""
    _check_changeable(actor, submission)
    revision = submission.working_revision
    if len(attachments_in(submission, revision)) >= MAX_FILES_PER_REVISION:
        raise ActionError(
            _l("An item can have %(count)d files at most.", count=MAX_FILES_PER_REVISION),
            field="file",
        )
    stored = _store(upload)
    attachment = Attachment(
        submission=submission,
        added_in=revision.number,
        filename=clean_filename(filename, stored.file_type),
        content_type=stored.file_type.mime,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    record_activity(
        actor,
        submission,
        "attachment.add",
        data={
            "attachment": attachment.id,
            "filename": attachment.filename,
            "revision": revision.number,
        },
    )
    db.session.flush()
    return attachment


def remove_attachment(actor: User, attachment: Attachment) -> None:
    """Take a file out of the working revision. A file that only this unpublished revision had
    is deleted with its row; one that earlier revisions have stays for their history."""
    submission = attachment.submission
    _check_changeable(actor, submission)
    revision = submission.working_revision
    if not attachment.in_revision(revision.number):
        raise ActionError(_l("This file is not part of the version being edited."))
    data = {"attachment": attachment.id, "filename": attachment.filename}
    if attachment.added_in == revision.number:
        path = stored_path(attachment)
        submission.attachments.remove(attachment)
        db.session.delete(attachment)
        _delete_once_committed(path)
    else:
        attachment.removed_in = revision.number
    record_activity(
        actor, submission, "attachment.remove", data={**data, "revision": revision.number}
    )
    db.session.flush()
