"""Attachments: accepted by their content, stored under random names outside the web root, served
only to those who may see the revision they belong to, and changed only on the working revision."""

import html
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from exchange.activity.models import ActivityEntry
from exchange.attachments import services as attachments
from exchange.errors import ActionError
from exchange.extensions import db
from exchange.submissions import services
from exchange.submissions.models import Attachment, Submission
from exchange.workflow import State
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    practice_content,
)

pytestmark = pytest.mark.usefixtures("reference")


@pytest.fixture(autouse=True)
def storage(app, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(folder))
    return folder


# Tiny real files -------------------------------------------------------------------------------


def pdf_bytes(text: str = "Informe") -> bytes:
    body = f"BT /F1 12 Tf 10 10 Td ({text}) Tj ET".encode()
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R>>endobj\n"
        + f"4 0 obj<</Length {len(body)}>>stream\n".encode()
        + body
        + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x0b\x3d\x91")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def gif_bytes() -> bytes:
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def webp_bytes() -> bytes:
    payload = b"WEBPVP8L" + struct.pack("<I", 10) + b"\x2f\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


OOXML = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}


def ooxml_bytes(
    kind: str = "docx", extra: dict[str, bytes] | None = None, main_type: str | None = None
) -> bytes:
    part, content_type = OOXML[kind]
    main_type = main_type or f"application/vnd.openxmlformats-officedocument.{content_type}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{part}" '
            f'ContentType="{main_type}"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Target="{part}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument"/></Relationships>',
        )
        archive.writestr(part, "<document>Buenas prácticas</document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def odf_bytes(mime: str = "application/vnd.oasis.opendocument.text") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mime, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    return buffer.getvalue()


ALLOWED = [
    ("informe.pdf", pdf_bytes, "application/pdf"),
    ("mapa.png", png_bytes, "image/png"),
    ("foto.jpg", jpeg_bytes, "image/jpeg"),
    ("animación.gif", gif_bytes, "image/gif"),
    ("vista.webp", webp_bytes, "image/webp"),
    (
        "plan.docx",
        lambda: ooxml_bytes("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "presupuesto.xlsx",
        lambda: ooxml_bytes("xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "presentación.pptx",
        lambda: ooxml_bytes("pptx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("acta.odt", odf_bytes, "application/vnd.oasis.opendocument.text"),
    (
        "tabla.ods",
        lambda: odf_bytes("application/vnd.oasis.opendocument.spreadsheet"),
        "application/vnd.oasis.opendocument.spreadsheet",
    ),
    (
        "diapositivas.odp",
        lambda: odf_bytes("application/vnd.oasis.opendocument.presentation"),
        "application/vnd.oasis.opendocument.presentation",
    ),
]


# Helpers ---------------------------------------------------------------------------------------


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def post_multipart(client, path: str, data: dict):
    """A multipart POST. The test client writes a large body to a temporary file that nothing
    closes (a server owns its input); this closes it."""
    builder = EnvironBuilder(path=path, method="POST", data=data)
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def upload(client, submission, data: bytes, filename: str):
    path = f"/attachments/upload/{submission.id}"
    token = csrf_token(client, path)
    return post_multipart(client, path, {"csrf_token": token, "file": (io.BytesIO(data), filename)})


def only_attachment(submission) -> Attachment:
    db.session.expire_all()
    (attachment,) = db.session.scalars(
        select(Attachment).where(Attachment.submission_id == submission.id)
    ).all()
    return attachment


def count_attachments() -> int:
    return db.session.scalar(select(func.count()).select_from(Attachment))


def stored_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


def field_error(page: str) -> str:
    match = re.search(r'<div id="file-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, "no error beside the file field"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def attach(
    author, submission, data: bytes | None = None, filename: str = "informe.pdf"
) -> Attachment:
    """Through the service, as the upload view does."""
    attachment = attachments.add_attachment(
        author, submission, io.BytesIO(data or pdf_bytes()), filename
    )
    db.session.commit()
    return attachment


def reload(submission) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission.id)


# Uploading -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "make", "mime"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_every_accepted_type_is_stored_under_a_random_name(app, storage, filename, make, mime):
    author = make_member()
    submission = make_submission(author)
    data = make()
    client = signed_in(app, author)

    response = upload(client, submission, data, filename)

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.location == f"/practices/{submission.id}#attachments"
    attachment = only_attachment(submission)
    assert attachment.filename == filename
    assert attachment.content_type == mime
    assert attachment.size == len(data)
    assert attachment.added_in == 1
    assert attachment.removed_in is None
    assert attachment.uploaded_by_id == author.id
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.storage_key)
    # On disk: the exact bytes, under the random name, in the storage folder only.
    (stored,) = stored_files(storage)
    assert stored.name == attachment.storage_key
    assert stored.read_bytes() == data
    import hashlib

    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert not stored.resolve().is_relative_to(Path(app.static_folder).resolve())
    # The upload is logged on the item.
    (entry,) = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.action == "attachment.add")
    ).all()
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == (
        "submission",
        submission.id,
        author.id,
    )
    assert entry.data == {"attachment": attachment.id, "filename": filename, "revision": 1}


def test_the_default_storage_folder_is_in_the_instance_folder_not_the_web_root(app, monkeypatch):
    monkeypatch.delitem(app.config, "ATTACHMENT_DIR")
    folder = attachments.storage_dir()
    assert folder == (Path(app.instance_path) / "attachments").resolve()
    assert not folder.is_relative_to(Path(app.static_folder).resolve())
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(Path(app.static_folder) / "files"))
    with pytest.raises(RuntimeError):
        attachments.storage_dir()


REFUSED = [
    ("page.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("image.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    (
        "setup.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"PE\x00\x00",
    ),
    ("notes.docx", b"just some text, not a document at all"),
    ("archive.docx", None),  # a plain ZIP, not an office document
    ("macros.docx", None),
]


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def macro_document() -> bytes:
    # A macro-enabled document declares another main content type: not accepted.
    return ooxml_bytes("docx", main_type="application/vnd.ms-word.document.macroEnabled.main+xml")


@pytest.mark.parametrize(("filename", "data"), REFUSED, ids=[r[0] for r in REFUSED])
def test_files_of_other_types_are_refused_whatever_their_name(app, storage, filename, data):
    if filename == "archive.docx":
        data = plain_zip()
    elif filename == "macros.docx":
        data = macro_document()
    author = make_member()
    submission = make_submission(author)
    client = signed_in(app, author)

    response = upload(client, submission, data, filename)

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True)) == (
        "This kind of file is not accepted: send a PDF, an image (PNG, JPEG, WebP, GIF) or an "
        "office document (Word, Excel, PowerPoint, OpenDocument)."
    )
    assert count_attachments() == 0
    assert stored_files(storage) == []


def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(app, storage):
    author = make_member()
    submission = make_submission(author)
    client = signed_in(app, author)
    limit = app.config["ATTACHMENT_MAX_BYTES"]
    assert limit == 10 * 1024 * 1024
    big = pdf_bytes() + b"\n%" + b"0" * (limit - len(pdf_bytes()) - 1)
    assert len(big) == limit + 1

    response = upload(client, submission, big, "grande.pdf")

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True)) == (
        "The file is larger than 10 MB: send a smaller one."
    )
    assert count_attachments() == 0
    assert stored_files(storage) == []
    # Exactly at the limit is fine.
    assert upload(client, submission, big[:limit], "justo.pdf").status_code == 302
    assert only_attachment(submission).size == limit


def test_a_request_larger_than_the_server_accepts_gets_a_413_page(app, storage):
    author = make_member()
    submission = make_submission(author)
    client = signed_in(app, author)
    huge = pdf_bytes() + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = upload(client, submission, huge, "enorme.pdf")
    assert response.status_code == 413
    assert "The file or form is too large" in response.get_data(as_text=True)
    assert count_attachments() == 0
    assert stored_files(storage) == []


def test_an_empty_file_and_no_file_are_refused(app, storage):
    author = make_member()
    submission = make_submission(author)
    client = signed_in(app, author)
    response = upload(client, submission, b"", "vacio.pdf")
    assert response.status_code == 422
    # The browser sends no file when none is chosen: the form says so.
    token = csrf_token(client, f"/attachments/upload/{submission.id}")
    response = client.post(f"/attachments/upload/{submission.id}", data={"csrf_token": token})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True)) == "Choose a file to upload."
    assert count_attachments() == 0
    assert stored_files(storage) == []


def zip_bomb() -> bytes:
    """A valid-looking Word document whose one entry inflates 1000 times."""
    return ooxml_bytes("docx", extra={"word/media/image1.png": b"\x00" * (40 * 1024 * 1024)})


def test_a_zip_bomb_disguised_as_a_document_is_refused_without_extracting(app, storage):
    data = zip_bomb()
    assert len(data) < 100 * 1024  # small on the wire
    author = make_member()
    submission = make_submission(author)
    client = signed_in(app, author)

    response = upload(client, submission, data, "informe.docx")

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True)) == (
        "This document's archive is too large or too compressed to be safe: it is refused."
    )
    assert count_attachments() == 0
    assert stored_files(storage) == []


def test_a_document_with_too_many_entries_is_refused(app, storage):
    entries = {f"word/media/{n}.xml": b"" for n in range(attachments.MAX_ZIP_ENTRIES)}
    data = ooxml_bytes("docx", extra=entries)
    author = make_member()
    submission = make_submission(author)
    response = upload(signed_in(app, author), submission, data, "muchos.docx")
    assert response.status_code == 422
    assert "too large or too compressed" in field_error(response.get_data(as_text=True))
    assert stored_files(storage) == []


def test_a_zip_whose_directory_promises_too_much_is_refused(app, storage):
    """Sizes are judged from the directory, before anything is read: a promise of 300 MB is
    refused."""
    data = bytearray(ooxml_bytes("docx", extra={"word/big.bin": b"x" * 64}))
    # Rewrite the uncompressed size of the last entry in the central directory.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 300 * 1024 * 1024)
    author = make_member()
    submission = make_submission(author)
    response = upload(signed_in(app, author), submission, bytes(data), "grande.docx")
    assert response.status_code == 422
    assert "too large or too compressed" in field_error(response.get_data(as_text=True))
    assert stored_files(storage) == []


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\windows\\system32\\informe.pdf", "informe.pdf"),
        ("/etc/cron.d/x.pdf", "x.pdf"),
        ("informe\x00.sh\n.pdf", "informe .sh.pdf"),
        ("factura\u202efdp.exe", "facturafdp.exe.pdf"),
        ("  ..hidden.pdf  ", "hidden.pdf"),
        ('a<b>:"c"|?*.PDF', "a_b___c____.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("", "attachment.pdf"),
        ("Informe técnico – Tacna.pdf", "Informe técnico – Tacna.pdf"),
        ("x" * 300 + ".pdf", "x" * attachments.MAX_NAME_LENGTH + ".pdf"),
    ],
)
def test_names_are_cleaned_and_never_used_for_storage(app, storage, given, shown):
    author = make_member()
    submission = make_submission(author)
    attachment = attach(author, submission, filename=given)
    assert attachment.filename == shown
    (stored,) = stored_files(storage)
    assert stored.name == attachment.storage_key
    assert re.fullmatch(r"[0-9a-f]{32}", stored.name)
    assert not (Path(storage).parent / "etc").exists()


def test_the_page_shows_the_cleaned_name_escaped(app, storage):
    author = make_member()
    submission = make_submission(author)
    attach(author, submission, filename="<img src=x onerror=alert(1)>.pdf")
    page = signed_in(app, author).get(f"/practices/{submission.id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" not in page  # < > become _
    assert "_img src=x onerror=alert(1)_.pdf" in page
    assert "<img src=x" not in page


def test_a_file_written_by_a_transaction_that_rolls_back_is_deleted(app, storage):
    author = make_member()
    submission = make_submission(author)
    attachments.add_attachment(author, submission, io.BytesIO(pdf_bytes()), "informe.pdf")
    assert len(stored_files(storage)) == 1
    db.session.rollback()
    assert stored_files(storage) == []
    assert count_attachments() == 0


# Who may upload, and when ----------------------------------------------------------------------


def test_another_authority_cannot_upload(app, storage):
    author = make_member()
    outsider = make_member(make_authority(name="Otra"))
    draft = make_submission(author)
    published = make_submission(author, state="published")
    client = signed_in(app, outsider)
    token = csrf_token(client)
    for submission, status in ((draft, 404), (published, 403)):
        response = post_multipart(
            client,
            f"/attachments/upload/{submission.id}",
            {"csrf_token": token, "file": (io.BytesIO(pdf_bytes()), "x.pdf")},
        )
        assert response.status_code == status
    with pytest.raises(ActionError):
        attachments.add_attachment(outsider, published, io.BytesIO(pdf_bytes()), "x.pdf")
    db.session.rollback()
    assert count_attachments() == 0
    assert stored_files(storage) == []


def test_visitors_are_sent_to_log_in(client):
    submission = make_submission(make_member())
    response = client.get(f"/attachments/upload/{submission.id}")
    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("submitted", "Attachments cannot be changed in its current state: Submitted."),
        ("in_review", "Attachments cannot be changed in its current state: In review."),
        (
            "published",
            "The attachments of a published item change in a new version: edit the item first, "
            "then add or remove files.",
        ),
        ("archived", "Attachments cannot be changed in its current state: Archived."),
    ],
)
def test_uploads_wait_for_an_editable_version(app, storage, state, message):
    author = make_member()
    submission = make_submission(author, state=state)
    response = upload(signed_in(app, author), submission, pdf_bytes(), "informe.pdf")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True)) == message
    assert count_attachments() == 0
    assert stored_files(storage) == []


def test_after_changes_are_requested_files_go_to_the_new_version(app, storage):
    """The version the coordinators reviewed keeps the files they saw; editing the item starts
    the next version, which takes files."""
    author = make_member()
    submission = make_submission(author, state="changes_requested")
    client = signed_in(app, author)
    response = upload(client, submission, png_bytes(), "mapa.png")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True)) == (
        "The coordinators reviewed this version as it is: edit the item to start the new "
        "version, then add or remove files."
    )
    assert count_attachments() == 0

    services.save_content(author, submission, practice_content(title="Con cifras"))
    db.session.commit()
    assert reload(submission).working_revision.number == 2
    assert upload(client, submission, png_bytes(), "mapa.png").status_code == 302
    assert only_attachment(submission).added_in == 2


# Downloading -----------------------------------------------------------------------------------


def download(client, attachment):
    response = client.get(f"/attachments/{attachment.id}")
    response.get_data()  # read it all, then let go of the file, as a server does
    response.close()
    return response


def test_a_drafts_file_is_served_to_its_owners_and_coordinators_only(app, client, storage):
    authority = make_authority()
    author = make_member(authority)
    colleague = make_member(authority)
    submission = make_submission(author)
    data = pdf_bytes("borrador")
    attachment = attach(author, submission, data, "Informe técnico ñ.pdf")

    for person in (author, colleague, make_coordinator()):
        response = download(signed_in(app, person), attachment)
        assert response.status_code == 200
        assert response.data == data
        assert response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''Informe%20t%C3%A9cnico%20%C3%B1.pdf" in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "no-store" in response.headers["Cache-Control"]
        assert "private" in response.headers["Cache-Control"]

    outsider = make_member(make_authority(name="Otra"))
    assert download(signed_in(app, outsider), attachment).status_code == 404
    assert download(client, attachment).status_code == 404
    assert client.get("/attachments/999999").status_code == 404


def test_visitors_download_the_files_of_the_published_version(app, client, storage):
    author = make_member()
    coordinator = make_coordinator()
    submission = make_submission(author)
    attachment = attach(author, submission, png_bytes(), "mapa.png")
    assert download(client, attachment).status_code == 404

    services.submit(author, submission)
    services.publish(coordinator, submission)
    db.session.commit()

    response = download(client, attachment)
    assert response.status_code == 200
    assert response.data == png_bytes()
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "attachment; filename=mapa.png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers["Cache-Control"]
    # Archived: the page stays, and so do its files.
    services.archive(author, submission)
    db.session.commit()
    assert download(client, attachment).status_code == 200


def test_an_authority_invited_to_co_own_an_idea_reads_its_files_before_answering(app, storage):
    author = make_member()
    invited = make_member(make_authority(name="Invitada"))
    idea = make_submission(author, kind="idea")
    attachment = attach(author, idea, odf_bytes(), "acta.odt")
    co_owner = services.invite_co_owner(author, idea, invited.authority_id)
    db.session.commit()
    client = signed_in(app, invited)
    assert download(client, attachment).status_code == 200
    # Not allowed to change them, though.
    assert remove(client, attachment).status_code == 403
    services.answer_co_owner_invitation(invited, co_owner, accept=False)
    db.session.commit()
    assert download(client, attachment).status_code == 404


def test_a_rejected_items_files_stay_private(app, client, storage):
    author = make_member()
    submission = make_submission(author)
    attachment = attach(author, submission)
    services.submit(author, submission)
    services.reject(make_coordinator(), submission, "Fuera del alcance.")
    db.session.commit()
    assert download(client, attachment).status_code == 404
    assert download(signed_in(app, author), attachment).status_code == 200


def test_a_file_added_to_a_new_version_is_private_until_it_is_published(app, client, storage):
    author = make_member()
    coordinator = make_coordinator()
    submission = make_submission(author)
    old = attach(author, submission, pdf_bytes("v1"), "v1.pdf")
    services.submit(author, submission)
    services.publish(coordinator, submission)
    services.save_content(author, submission, practice_content(title="Segunda versión"))
    db.session.commit()
    new = attach(author, submission, pdf_bytes("v2"), "v2.pdf")
    assert new.added_in == 2

    assert download(client, old).status_code == 200
    assert download(client, new).status_code == 404
    outsider = signed_in(app, make_member(make_authority(name="Otra")))
    assert download(outsider, new).status_code == 404
    assert download(signed_in(app, author), new).status_code == 200

    services.submit(author, submission)
    services.publish(coordinator, submission)
    db.session.commit()
    assert download(client, new).status_code == 200


def test_a_missing_file_is_a_404_not_an_error(app, client, storage):
    author = make_member()
    attachment = attach(author, make_submission(author))
    (storage / attachment.storage_key).unlink()
    assert download(signed_in(app, author), attachment).status_code == 404


# Removing --------------------------------------------------------------------------------------


def remove(client, attachment):
    return client.post(
        f"/attachments/{attachment.id}/remove", data={"csrf_token": csrf_token(client)}
    )


def test_removing_a_file_of_a_draft_deletes_it(app, storage):
    author = make_member()
    submission = make_submission(author)
    attachment = attach(author, submission)
    key = attachment.storage_key
    client = signed_in(app, author)

    response = remove(client, attachment)

    assert response.status_code == 302
    assert response.location == f"/practices/{submission.id}#attachments"
    assert count_attachments() == 0
    assert not (storage / key).exists()
    (entry,) = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.action == "attachment.remove")
    ).all()
    assert entry.actor_id == author.id
    assert entry.subject_id == submission.id
    assert entry.data["filename"] == "informe.pdf"


def test_a_removal_that_rolls_back_keeps_the_file(app, storage):
    author = make_member()
    submission = make_submission(author)
    attachment = attach(author, submission)
    attachments.remove_attachment(author, attachment)
    db.session.rollback()
    assert count_attachments() == 1
    assert (storage / attachment.storage_key).exists()


def test_removing_a_published_file_in_a_new_version_keeps_it_for_the_published_one(
    app, client, storage
):
    author = make_member()
    coordinator = make_coordinator()
    submission = make_submission(author)
    attachment = attach(author, submission)
    services.submit(author, submission)
    services.publish(coordinator, submission)
    services.save_content(author, submission, practice_content(title="Sin adjuntos"))
    db.session.commit()

    assert remove(signed_in(app, author), attachment).status_code == 302

    db.session.expire_all()
    attachment = db.session.get(Attachment, attachment.id)
    assert (attachment.added_in, attachment.removed_in) == (1, 2)
    assert (storage / attachment.storage_key).exists()
    # The public still has it with the published version; once the new one is published, not.
    assert download(client, attachment).status_code == 200
    submission = reload(submission)
    services.submit(author, submission)
    services.publish(coordinator, submission)
    db.session.commit()
    assert download(client, attachment).status_code == 404
    assert download(signed_in(app, author), attachment).status_code == 200


def test_only_owners_remove_and_only_while_editing(app, storage):
    author = make_member()
    submission = make_submission(author)
    attachment = attach(author, submission)
    outsider = signed_in(app, make_member(make_authority(name="Otra")))
    assert remove(outsider, attachment).status_code == 404
    assert remove(signed_in(app, make_coordinator()), attachment).status_code == 403

    services.submit(author, submission)
    db.session.commit()
    response = remove(signed_in(app, author), attachment)
    assert response.status_code == 302
    assert count_attachments() == 1
    assert (storage / attachment.storage_key).exists()


def test_a_rejected_new_version_takes_its_file_changes_with_it(app, storage):
    """Files added to a version that is rejected do not come back in the next version, and files
    it removed do."""
    author = make_member()
    coordinator = make_coordinator()
    submission = make_submission(author)
    kept = attach(author, submission, pdf_bytes("v1"), "v1.pdf")
    services.submit(author, submission)
    services.publish(coordinator, submission)
    services.save_content(author, submission, practice_content(title="Versión rechazada"))
    db.session.commit()
    added = attach(author, submission, pdf_bytes("v2"), "v2.pdf")
    attachments.remove_attachment(author, kept)
    services.submit(author, submission)
    services.reject(coordinator, submission, "No aporta.")
    db.session.commit()

    submission = reload(submission)
    assert submission.state == State.PUBLISHED
    services.save_content(author, submission, practice_content(title="Tercera versión"))
    db.session.commit()
    submission = reload(submission)
    assert submission.working_revision.number == 3
    names = [
        a.filename for a in attachments.attachments_in(submission, submission.working_revision)
    ]
    assert names == ["v1.pdf"]
    assert added.id not in [
        a.id for a in attachments.attachments_in(submission, submission.published_revision)
    ]


# The list on the item's page -------------------------------------------------------------------


def test_owners_see_the_list_with_the_upload_form_and_remove_buttons(app, storage):
    author = make_member(language="es")
    submission = make_submission(author)
    attachment = attach(author, submission, b"%PDF-1.4\n" + b"x" * 1300, "informe.pdf")
    page = signed_in(app, author).get(f"/practices/{submission.id}").get_data(as_text=True)
    assert f'href="/attachments/{attachment.id}"' in page
    assert "informe.pdf" in page
    # Sizes follow the reader's language (a decimal comma in Spanish).
    assert "· 1,3 kB" in page
    assert f'action="/attachments/upload/{submission.id}"' in page
    assert 'enctype="multipart/form-data"' in page
    assert f'action="/attachments/{attachment.id}/remove"' in page
    assert 'accept=".pdf,.png,' in page


def test_visitors_see_the_published_files_without_forms(app, client, storage):
    author = make_member()
    coordinator = make_coordinator()
    submission = make_submission(author)
    attachment = attach(author, submission, b"%PDF-1.4\n" + b"x" * 1300, "informe.pdf")
    services.submit(author, submission)
    services.publish(coordinator, submission)
    db.session.commit()
    page = client.get(f"/practices/{submission.id}").get_data(as_text=True)
    assert f'href="/attachments/{attachment.id}"' in page
    assert "PDF document · 1.3 kB" in page
    assert "/attachments/upload/" not in page
    assert "/remove" not in page


def test_the_upload_page_shows_the_list_and_the_hint(app, storage):
    author = make_member()
    submission = make_submission(author)
    page = signed_in(app, author).get(f"/attachments/upload/{submission.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "No files are attached." in text
    assert "up to 10 MB each" in text
    assert 'id="file"' in text
    assert 'aria-describedby="file-hint"' in text
