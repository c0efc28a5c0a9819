"""Files with messages: off unless the deployer turns them on; then PDF, PNG and JPEG only,
decided by the bytes (a renamed program or web page is refused whatever its name), within the
size and count caps, images decoded whole within the pixel limit and re-encoded without their
metadata, every file sealed at rest. Every refusal leaves no
message and no file behind. Downloads go only to the two people in the thread, always as a
download, and are audited; files leave storage with the thread."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from PIL import Image

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.messaging import attachments as attachments_module
from rapport.messaging.models import Message, MessageAttachment, Thread
from tests.factories import make_user
from tests.messaging.factories import make_engagement_thread, signed_in

pytestmark = pytest.mark.django_db

# Written by hand from the formats' specifications, not from the code under test.
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def _image(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white" if mode != "1" else 1).save(buffer, format=fmt)
    return buffer.getvalue()


def _file(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def storage_dir(settings, tmp_path) -> Path:
    """Attachments go to the videos' private storage: this test's own folder."""
    folder = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder), "base_url": None},
        },
    }
    return folder


def _stored(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def enabled(settings, storage_dir) -> Path:
    settings.MESSAGING_ATTACHMENTS = True
    settings.MESSAGING_ATTACHMENT_KINDS = ("pdf", "png", "jpeg")
    settings.MESSAGING_ATTACHMENT_MAX_BYTES = 5 * 2**20
    settings.MESSAGING_ATTACHMENTS_PER_MESSAGE = 3
    return storage_dir


def _page(thread: Thread) -> str:
    return f"/messages/{thread.public_id}/"


def _send(thread: Thread, *files, body: str = "Here is the receipt.", user=None):
    return signed_in(user or thread.client).post(
        _page(thread), {"body": body, "attachments": files}
    )


def _api_send(thread: Thread, *files, body: str = "Here it is."):
    return signed_in(thread.client).post(
        f"/api/v1/threads/{thread.public_id}/messages", {"body": body, "attachments": files}
    )


# --- off by default ----------------------------------------------------------------------------


def test_off_by_default_no_file_input_and_a_file_sent_anyway_is_refused(thread, storage_dir):
    page = signed_in(thread.client).get(_page(thread)).content.decode()
    assert 'type="file"' not in page
    assert "multipart/form-data" not in page
    assert "No attachments." in page
    response = _send(thread, _file("receipt.pdf", PDF, "application/pdf"))
    assert response.status_code == 400
    assert "Files cannot be attached to messages here." in response.content.decode()
    assert not Message.objects.exists()
    assert _stored(storage_dir) == set()
    # The API: a clear 422 naming the field, nothing stored.
    response = _api_send(thread, _file("receipt.pdf", PDF, "application/pdf"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "attachments",
            "message": "Files cannot be attached to messages here. Send the message without them.",
        }
    ]
    assert not Message.objects.exists()
    assert _stored(storage_dir) == set()


# --- accepted ------------------------------------------------------------------------------------


def test_the_page_offers_the_input_with_its_limits_in_words(thread, enabled):
    page = signed_in(thread.client).get(_page(thread)).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" name="attachments" multiple' in page
    assert 'accept="application/pdf,.pdf,image/png,.png,image/jpeg,.jpg,.jpeg"' in page
    assert "Up to 3 files: PDF, PNG or JPEG, up to 5 MB each." in page
    therapist_page = (
        signed_in(thread.therapist.user)
        .get(f"/practice/messages/{thread.public_id}/")
        .content.decode()
    )
    assert 'type="file" name="attachments"' in therapist_page


def test_a_pdf_a_png_and_a_jpeg_are_kept_under_random_names(thread, enabled):
    png, jpeg = _image("PNG"), _image("JPEG")
    response = _send(
        thread,
        # The browser's type is ignored either way: the bytes decide.
        _file("Receipt for Dr. Lee.pdf", PDF, "text/html"),
        _file("../../etc/scan", png),
        _file('my "notes"\u202e.JPG', jpeg, "image/png"),
    )
    assert response.status_code == 302, response.content
    message = Message.objects.get()
    files = list(message.attachments.order_by("id"))
    # Images are re-encoded (their size is what downloads); the PDF is kept as sent.
    assert [(f.kind, f.display_name) for f in files] == [
        ("pdf", "Receipt for Dr. Lee.pdf"),
        ("png", "scan.png"),
        ("jpeg", "my notes.jpg"),
    ]
    assert files[0].size == len(PDF)
    assert _stored(enabled) == {f.stored_name for f in files}
    for file, data in zip(files, (PDF, png, jpeg), strict=True):
        assert file.stored_name.startswith("messages/")
        assert "Receipt" not in file.stored_name
        raw = (enabled / file.stored_name).read_bytes()
        # Sealed at rest: not the file, not even its first bytes.
        assert raw != data
        assert not raw.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8"))
        assert len(attachments_module.unseal(raw)) == file.size
    # The name is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT display_name FROM messaging_messageattachment")
        raw = [row[0] for row in cursor.fetchall()]
    assert all("Receipt" not in value and "scan" not in value for value in raw)
    # The thread lists them as download links.
    page = signed_in(thread.client).get(_page(thread)).content.decode()
    url = f"/messages/{thread.public_id}/files/{files[0].public_id}/"
    assert f'href="{url}" download>Receipt for Dr. Lee.pdf</a> (PDF, 1 KB)' in page


def _photo_with_location(fmt: str) -> bytes:
    """A 40 × 30 photo whose EXIF says: turn it 90° (orientation 6), taken by "PhoneMaker", at
    45°30'12" N 73°34'5" W."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (45.0, 30.0, 12.0), 3: "W", 4: (73.0, 34.0, 5.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format=fmt, exif=exif)
    data = buffer.getvalue()
    assert b"PhoneMaker" in data  # the marker this test looks for is really in the original
    return data


@pytest.mark.parametrize(
    ("fmt", "name"), [("JPEG", "photo.jpg"), ("PNG", "photo.png"), ("WEBP", "photo.webp")]
)
def test_an_image_is_stored_sealed_and_served_without_its_metadata(
    thread, enabled, settings, fmt, name
):
    settings.MESSAGING_ATTACHMENT_KINDS = ("pdf", "png", "jpeg", "webp")
    original = _photo_with_location(fmt)
    assert _send(thread, _file(name, original)).status_code == 302
    file = MessageAttachment.objects.get()
    raw = (enabled / file.stored_name).read_bytes()
    assert raw != original
    assert b"PhoneMaker" not in raw
    response = signed_in(thread.therapist.user).get(
        f"/practice/messages/{thread.public_id}/files/{file.public_id}/"
    )
    served = response.getvalue()
    assert len(served) == file.size
    # No EXIF of any kind (no place, no camera), by the bytes and by a fresh reading.
    assert b"PhoneMaker" not in served
    assert b"Exif\x00\x00" not in served
    assert b"eXIf" not in served
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == fmt
        assert dict(image.getexif()) == {}
        # Turned as the orientation tag said: 40 × 30 becomes 30 × 40.
        assert image.size == (30, 40)


def test_a_pdf_round_trips_byte_for_byte_but_is_sealed_at_rest(thread, enabled):
    assert _send(thread, _file("letter.pdf", PDF)).status_code == 302
    file = MessageAttachment.objects.get()
    raw = (enabled / file.stored_name).read_bytes()
    assert b"Catalog" not in raw
    assert attachments_module.unseal(raw) == PDF
    served = signed_in(thread.client).get(f"/messages/{thread.public_id}/files/{file.public_id}/")
    assert served.getvalue() == PDF


def test_webp_only_when_listed(thread, enabled, settings):
    webp = _image("WEBP")
    response = _send(thread, _file("photo.webp", webp, "image/webp"))
    assert response.status_code == 400
    assert "is not a PDF, PNG or JPEG file" in response.content.decode()
    settings.MESSAGING_ATTACHMENT_KINDS = ("pdf", "png", "jpeg", "webp")
    assert _send(thread, _file("photo.webp", webp, "image/webp")).status_code == 302
    assert MessageAttachment.objects.get().kind == "webp"


# --- refused, nothing stored ---------------------------------------------------------------------


def _refused(thread, folder, files, expected: str) -> None:
    before = _stored(folder)
    response = _send(thread, *files)
    assert response.status_code == 400, response.content
    page = response.content.decode()
    # At the field: the input is marked invalid and tied to its error.
    assert 'aria-describedby="id_attachments-help id_attachments-error" aria-invalid="true"' in (
        page
    )
    error_text = page.split('id="id_attachments-error">', 1)[1].split("</p>", 1)[0]
    assert expected in html.unescape(error_text)
    assert not Message.objects.exists()
    assert not MessageAttachment.objects.exists()
    assert _stored(folder) == before


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("invoice.pdf", EXE, "application/pdf"),
        ("photo.png", HTML, "image/png"),
        ("photo.jpg", b"GIF89a" + b"\x00" * 40, "image/jpeg"),
    ],
)
def test_a_disguised_file_is_refused_with_a_clear_error(thread, enabled, name, data, content_type):
    _refused(
        thread,
        enabled,
        [_file(name, data, content_type)],
        f"“{name}” is not a PDF, PNG or JPEG file (whatever its name says)",
    )


def test_one_bad_file_among_good_ones_stores_none_of_them(thread, enabled):
    _refused(
        thread,
        enabled,
        [_file("a.pdf", PDF), _file("b.png", _image("PNG")), _file("c.png", HTML)],
        "“c.png” is not a PDF, PNG or JPEG file",
    )


def test_too_large_too_many_and_empty_are_refused(thread, enabled, settings):
    settings.MESSAGING_ATTACHMENT_MAX_BYTES = 2048
    big = PDF[:-7] + b" " * 3000 + b"\n%%EOF\n"
    _refused(
        thread, enabled, [_file("big.pdf", big)], "“big.pdf” is 3 KB; files can be up to 2 KB."
    )
    _refused(
        thread,
        enabled,
        [_file(f"{n}.pdf", PDF) for n in range(4)],
        "You attached 4 files; a message can carry up to 3.",
    )
    _refused(thread, enabled, [_file("blank.pdf", b"")], "“blank.pdf” is empty.")


def test_a_truncated_image_or_pdf_is_refused(thread, enabled):
    png = _image("PNG", (200, 200), "RGB")
    _refused(
        thread,
        enabled,
        [_file("cut.png", png[: len(png) // 2])],
        "“cut.png”: This file starts like a PNG image but cannot be read as one",
    )
    jpeg = _image("JPEG", (200, 200))
    _refused(
        thread,
        enabled,
        [_file("cut.jpg", jpeg[:200])],
        "“cut.jpg”: This file starts like a JPEG image but cannot be read as one",
    )
    _refused(
        thread,
        enabled,
        [_file("cut.pdf", PDF[: len(PDF) // 2])],
        "“cut.pdf” starts like a PDF but does not end like one",
    )


def test_a_decompression_bomb_is_refused_before_decoding(thread, enabled):
    # 7,000 × 7,000 one-bit pixels: a few kilobytes that unpack to 49 megapixels.
    bomb = _image("PNG", (7000, 7000), "1")
    assert len(bomb) < 100_000
    _refused(thread, enabled, [_file("bomb.png", bomb)], "This image has too many pixels")


def test_a_failure_while_storing_leaves_no_file(thread, enabled, monkeypatch):
    calls = {"n": 0}
    real_create = MessageAttachment.objects.create

    def failing_create(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk gone")
        return real_create(**kwargs)

    monkeypatch.setattr(MessageAttachment.objects, "create", failing_create)
    with pytest.raises(RuntimeError):
        _send(thread, _file("a.pdf", PDF), _file("b.pdf", PDF))
    assert not Message.objects.exists()
    assert _stored(enabled) == set()


def test_a_refused_message_body_keeps_no_file(thread, enabled):
    response = _send(thread, _file("a.pdf", PDF), body="   ")
    assert response.status_code == 400
    assert not Message.objects.exists()
    assert _stored(enabled) == set()


# --- downloads -----------------------------------------------------------------------------------


def _sent_pdf(thread) -> MessageAttachment:
    assert _send(thread, _file("Letter <b>.pdf", PDF, "text/html")).status_code == 302
    return MessageAttachment.objects.get()


def test_the_download_is_a_download_with_the_sniffed_type(thread, enabled):
    file = _sent_pdf(thread)
    response = signed_in(thread.client).get(f"/messages/{thread.public_id}/files/{file.public_id}/")
    assert response.status_code == 200
    assert response.getvalue() == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Letter b.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    therapist = signed_in(thread.therapist.user)
    response = therapist.get(f"/practice/messages/{thread.public_id}/files/{file.public_id}/")
    assert response.status_code == 200
    assert response.getvalue() == PDF


def test_only_the_two_people_in_the_thread_can_download(thread, enabled):
    file = _sent_pdf(thread)
    other_thread = make_engagement_thread()
    client_url = f"/messages/{thread.public_id}/files/{file.public_id}/"
    practice_url = f"/practice/messages/{thread.public_id}/files/{file.public_id}/"
    assert signed_in(make_user(role="client")).get(client_url).status_code == 404
    assert signed_in(other_thread.client).get(client_url).status_code == 404
    # The therapist of another client, with the second factor.
    assert signed_in(other_thread.therapist.user).get(practice_url).status_code == 404
    # The file asked for through a thread it is not in.
    assert (
        signed_in(other_thread.client)
        .get(f"/messages/{other_thread.public_id}/files/{file.public_id}/")
        .status_code
        == 404
    )
    assert Client().get(client_url).status_code == 302  # to sign in


def test_every_download_and_every_listing_is_audited(thread, enabled):
    file = _sent_pdf(thread)
    url = f"/messages/{thread.public_id}/files/{file.public_id}/"

    def reads() -> list[str]:
        return [
            (entry.additional_data or {}).get("reason", "")
            for entry in LogEntry.objects.filter(
                action=LogEntry.Action.ACCESS, object_pk=str(file.pk)
            )
        ]

    before = reads()
    client = signed_in(thread.client)
    client.get(url)
    client.get(url)
    assert reads()[len(before) :].count("message attachment download") == 2
    client.get(_page(thread))
    assert "message thread" in reads()


# --- privacy -------------------------------------------------------------------------------------


def test_the_export_lists_attachments_with_a_note(thread, enabled):
    file = _sent_pdf(thread)
    export = account_export_data(user=thread.client)["messaging"]
    (row,) = export["threads"]
    assert row["messages"][0]["attachments"] == [
        {"id": str(file.public_id), "name": "Letter b.pdf", "kind": "pdf", "size": len(PDF)}
    ]
    assert "does not carry the files themselves" in export["attachments_note"]


def test_account_deletion_removes_the_files(thread, enabled, django_capture_on_commit_callbacks):
    _sent_pdf(thread)
    assert len(_stored(enabled)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=thread.client)
    assert not MessageAttachment.objects.exists()
    assert _stored(enabled) == set()


def test_the_digest_email_never_carries_a_file(thread, enabled, mailoutbox):
    _sent_pdf(thread)
    assert all(not message.attachments for message in mailoutbox)


# --- API -----------------------------------------------------------------------------------------


def test_the_api_takes_files_as_multipart_and_lists_them(thread, enabled):
    response = _api_send(thread, _file("scan.png", _image("PNG"), "application/pdf"))
    assert response.status_code == 201, response.content
    (listed,) = response.json()["message"]["attachments"]
    assert (listed["name"], listed["kind"], listed["content_type"]) == (
        "scan.png",
        "png",
        "image/png",
    )
    file = MessageAttachment.objects.get()
    assert listed["url"] == f"/messages/{thread.public_id}/files/{file.public_id}/"
    detail = signed_in(thread.therapist.user).get(f"/api/v1/threads/{thread.public_id}").json()
    assert detail["messages"][0]["attachments"][0]["url"] == (
        f"/practice/messages/{thread.public_id}/files/{file.public_id}/"
    )
    # JSON still works, with no files.
    response = signed_in(thread.client).post(
        f"/api/v1/threads/{thread.public_id}/messages",
        json.dumps({"body": "And a note."}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["message"]["attachments"] == []


def test_the_api_refuses_a_disguised_file_and_stores_nothing(thread, enabled):
    response = _api_send(thread, _file("photo.png", HTML, "image/png"))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "attachments"
    assert "is not a PDF, PNG or JPEG file" in error["message"]
    assert not Message.objects.exists()
    assert _stored(enabled) == set()
    # A file under another name is an unknown field.
    response = signed_in(thread.client).post(
        f"/api/v1/threads/{thread.public_id}/messages",
        {"body": "Hi", "file": _file("a.pdf", PDF)},
    )
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_the_openapi_document_describes_multipart(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    body = paths["/api/v1/threads/{id}/messages"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    files = body["multipart/form-data"]["schema"]["properties"]["attachments"]
    assert files["items"] == {"type": "string", "format": "binary"}


def test_size_labels_in_words():
    assert attachments_module.size_label(5 * 2**20) == "5 MB"
    assert attachments_module.size_label(int(1.25 * 2**20)) == "1.2 MB"
    assert attachments_module.size_label(340 * 1024) == "340 KB"
    assert attachments_module.size_label(10) == "1 KB"


def test_key_rotation_reseals_the_files(
    thread, enabled, settings, django_capture_on_commit_callbacks
):
    from cryptography.fernet import Fernet

    from rapport.messaging.attachment_keys import AttachmentSecrets

    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(thread, _file("letter.pdf", PDF)).status_code == 302
    before = MessageAttachment.objects.get().stored_name
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    rotator = AttachmentSecrets()
    assert rotator.count() == (0, 1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert rotator.rotate() == 1
    assert rotator.count() == (1, 0, 0)
    after = MessageAttachment.objects.get()
    assert after.stored_name != before
    assert _stored(enabled) == {after.stored_name}
    # The old key retired (the fields are rotated by their own command): the file opens.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert attachments_module.unseal((enabled / after.stored_name).read_bytes()) == PDF


def test_a_file_stored_before_sealing_is_served_then_sealed_by_rotation(
    thread, enabled, django_capture_on_commit_callbacks
):
    from rapport.messaging.attachment_keys import AttachmentSecrets

    with django_capture_on_commit_callbacks(execute=True):
        assert _send(thread, _file("photo.jpg", _photo_with_location("JPEG"))).status_code == 302
    file = MessageAttachment.objects.get()
    # As an older version stored it: the plain bytes, metadata and all.
    (enabled / file.stored_name).write_bytes(_photo_with_location("JPEG"))
    url = f"/messages/{thread.public_id}/files/{file.public_id}/"
    assert b"PhoneMaker" in signed_in(thread.client).get(url).getvalue()
    rotator = AttachmentSecrets()
    assert rotator.count() == (0, 1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert rotator.rotate() == 1
    assert rotator.count() == (1, 0, 0)
    file.refresh_from_db()
    raw = (enabled / file.stored_name).read_bytes()
    assert b"PhoneMaker" not in raw
    served = signed_in(thread.client).get(url).getvalue()
    assert b"PhoneMaker" not in served
    assert file.size == len(served)
    with Image.open(io.BytesIO(served)) as image:
        assert dict(image.getexif()) == {}
