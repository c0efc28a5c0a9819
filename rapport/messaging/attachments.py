"""Files attached to messages, when the deployer turns them on (``MESSAGING_ATTACHMENTS``).

What a file is gets decided from its bytes alone (the "magic numbers" every PDF, PNG, JPEG and
WebP starts with), never from its name or the browser's Content-Type, which the sender controls.
Images are then opened by Pillow within a pixel limit (a few kilobytes can unpack to gigabytes)
and decoded whole, so a truncated or corrupt one is refused; a PDF must also end with its
end-of-file marker. Everything is checked before anything is written: a refused file leaves no
trace. The name the person gave is kept only as a cleaned-up display name, encrypted (a file
name can say as much as a message).

An image that passes is drawn again from its pixels (``reencoded``): turned the way its
orientation tag says, then saved in the same format without any metadata, so a phone photo's
EXIF (the place it was taken, the camera, the time) never reaches the other person or the
disk. The bytes are then sealed with the field keys (``seal``; Fernet, as encrypted fields)
before they are written, and opened (``unseal``) only to serve a download.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from rapport.core.crypto import UndecryptableValue, multi_fernet

FIELD = "attachments"
# Decoding is refused past this many pixels (the profile photos' limit: a 12-megapixel phone
# photo passes, a decompression bomb does not).
MAX_IMAGE_PIXELS = 40_000_000
MAX_DISPLAY_NAME = 120
# A PDF's "%%EOF" may be followed by a line end or a little padding; this is generous.
PDF_TAIL_BYTES = 1024


@dataclass(frozen=True)
class Kind:
    value: str
    label: str
    content_type: str
    extension: str
    # Pillow's format name, for images.
    pillow: str | None


KINDS = {
    "pdf": Kind("pdf", "PDF", "application/pdf", "pdf", None),
    "png": Kind("png", "PNG image", "image/png", "png", "PNG"),
    "jpeg": Kind("jpeg", "JPEG image", "image/jpeg", "jpg", "JPEG"),
    "webp": Kind("webp", "WebP image", "image/webp", "webp", "WEBP"),
}


def enabled() -> bool:
    return bool(settings.MESSAGING_ATTACHMENTS)


def allowed_kinds() -> list[Kind]:
    return [KINDS[value] for value in settings.MESSAGING_ATTACHMENT_KINDS]


def max_bytes() -> int:
    return int(settings.MESSAGING_ATTACHMENT_MAX_BYTES)


def max_files() -> int:
    return int(settings.MESSAGING_ATTACHMENTS_PER_MESSAGE)


def size_label(size: int) -> str:
    """A size in words a person reads: "5 MB", "1.2 MB", "340 KB"."""
    if size >= 2**20:
        megabytes = size / 2**20
        return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"
    return f"{max(round(size / 1024), 1)} KB"


def kinds_label() -> str:
    """ "PDF, PNG or JPEG" for the allowed kinds."""
    names = [kind.label.removesuffix(" image") for kind in allowed_kinds()]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def help_text() -> str:
    return (
        f"Up to {max_files()} file{'s' if max_files() != 1 else ''}: {kinds_label()}, "
        f"up to {size_label(max_bytes())} each."
    )


def accept_hint() -> str:
    """The file input's ``accept``: a hint for the picker only; the bytes decide."""
    hints = []
    for kind in allowed_kinds():
        hints += [kind.content_type, f".{kind.extension}"]
        if kind.value == "jpeg":
            hints.append(".jpeg")
    return ",".join(hints)


def sniff(head: bytes) -> Kind | None:
    """The kind the bytes say, whatever the file is called."""
    if head.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return KINDS["webp"]
    return None


def _cleaned(raw: str) -> str:
    """The last path part only, without control or format characters or quotes."""
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        " " if unicodedata.category(char)[0] in ("C", "Z") else char
        for char in unicodedata.normalize("NFC", base)
        if char not in "\"'<>:*?|"
    )
    return " ".join(cleaned.split()).strip(". ")


def display_name(raw: str, kind: Kind) -> str:
    """The sender's file name made safe to show and to offer as a download name (see
    ``_cleaned``), at most MAX_DISPLAY_NAME characters, ending with the extension of what the
    file really is."""
    cleaned = _cleaned(raw)
    stem = cleaned.rsplit(".", 1)[0] if "." in cleaned else cleaned
    stem = stem[: MAX_DISPLAY_NAME - len(kind.extension) - 1].strip(". ") or "attachment"
    return f"{stem}.{kind.extension}"


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check, held in memory until the message is stored: an image
    already re-encoded without metadata, a PDF as sent (``size`` is what downloads)."""

    kind: Kind
    data: bytes
    display_name: str

    @property
    def size(self) -> int:
        return len(self.data)


# Re-encoding: lossy formats are saved again at a quality that keeps a photo of a document
# legible; PNG stays lossless.
REENCODE_QUALITY = 90


def image_checked(data: bytes, kind: Kind) -> tuple[str | None, bytes]:
    """Why the image cannot be attached (or None), and its bytes re-encoded without metadata
    (within the same pixel limits: nothing is decoded past them)."""
    assert kind.pillow is not None
    unreadable = (
        f"This file starts like a {kind.label} but cannot be read as one (it may be cut "
        "short or damaged). Save it again and attach the new copy."
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; any warning is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind.pillow]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    return (
                        f"This image has too many pixels ({width:,} × {height:,}). Attach a "
                        f"copy of at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels."
                    ), b""
                # Decoding every pixel is what finds a file cut short.
                image.load()
                return None, reencoded(image, kind)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return unreadable, b""
    except (OSError, ValueError, SyntaxError, struct.error, EOFError):
        return unreadable, b""


def reencoded(image: Image.Image, kind: Kind) -> bytes:
    """The image's pixels (turned by its orientation tag) saved again as ``kind`` with no
    metadata at all: no EXIF, XMP or comments; only the colour profile, which is about how
    the pixels look and says nothing about the person. An animated image keeps its first
    frame."""
    assert kind.pillow is not None
    upright = ImageOps.exif_transpose(image) or image
    icc = image.info.get("icc_profile")
    # Pillow carries some of ``info`` (a JPEG comment, PNG text) into what it saves: start
    # from nothing.
    upright.info = {}
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if kind.value in ("jpeg", "webp"):
        options["quality"] = REENCODE_QUALITY
    if kind.value == "jpeg" and upright.mode not in ("RGB", "L", "CMYK"):
        upright = upright.convert("RGB")
    buffer = io.BytesIO()
    upright.save(buffer, format=kind.pillow, **options)
    return buffer.getvalue()


def seal(data: bytes) -> bytes:
    """The bytes encrypted under the newest field key, as written to storage."""
    return multi_fernet().encrypt(data)


def stored_plain(raw: bytes, kind: str) -> bool:
    """Whether stored bytes are a file from before attachments were sealed (its own magic
    number; a sealed token always starts "gAAAA")."""
    found = sniff(raw[:16])
    return found is not None and found.value == kind


def opened(raw: bytes, kind: str) -> bytes:
    """The file's bytes from storage: unsealed, or as they are for a file stored before
    sealing (until ``rapport rotate_encryption_keys`` seals it)."""
    return raw if stored_plain(raw, kind) else unseal(raw)


def unseal(token: bytes) -> bytes:
    """Stored bytes opened with any field key; ``UndecryptableValue`` if none can."""
    try:
        return multi_fernet().decrypt(token)
    except InvalidToken as error:
        raise UndecryptableValue(
            "A stored attachment cannot be decrypted with any configured field key."
        ) from error


def check_file(upload: UploadedFile) -> tuple[CheckedFile | None, str | None]:
    """The file checked (and read), or a sentence saying why it cannot be attached."""
    name = str(upload.name or "")
    shown = _cleaned(name)[:MAX_DISPLAY_NAME] or "This file"
    cap = max_bytes()
    if upload.size is not None and upload.size > cap:
        return None, (
            f"“{shown}” is {size_label(upload.size)}; files can be up to {size_label(cap)}. "
            "Attach a smaller copy."
        )
    upload.seek(0)
    data = upload.read(cap + 1)
    if not data:
        return None, f"“{shown}” is empty. Attach the file again."
    if len(data) > cap:
        return None, f"“{shown}” is over {size_label(cap)}. Attach a smaller copy."
    kind = sniff(data[:16])
    allowed = {kind.value for kind in allowed_kinds()}
    if kind is None or kind.value not in allowed:
        return None, (
            f"“{shown}” is not a {kinds_label()} file (whatever its name says), so it was not "
            f"attached. You can attach {kinds_label()} files."
        )
    if kind.pillow is not None:
        problem, data = image_checked(data, kind)
        if problem is not None:
            return None, f"“{shown}”: {problem}"
    elif b"%%EOF" not in data[-PDF_TAIL_BYTES:]:
        return None, (
            f"“{shown}” starts like a PDF but does not end like one (it may be cut short). "
            "Save it again and attach the new copy."
        )
    return CheckedFile(kind=kind, data=data, display_name=display_name(name, kind)), None


def check_files(uploads: list[Any]) -> tuple[list[CheckedFile], list[str]]:
    """Every file checked: the good ones, and a sentence for each problem (any problem means
    none is attached)."""
    if not uploads:
        return [], []
    if not enabled():
        return [], ["Files cannot be attached to messages here. Send the message without them."]
    if len(uploads) > max_files():
        return [], [
            f"You attached {len(uploads)} files; a message can carry up to {max_files()}. "
            "Send the rest in another message."
        ]
    checked: list[CheckedFile] = []
    problems: list[str] = []
    for upload in uploads:
        found, problem = check_file(upload)
        if problem is not None:
            problems.append(problem)
        elif found is not None:
            checked.append(found)
    return checked, problems


def attachment_storage() -> Storage:
    """Attachments live with the videos and photos (``STORAGES["videos"]``): private files only
    the attachment views serve, to the two people in the thread."""
    return storages["videos"]


def stored_name(kind: Kind) -> str:
    # A random name: the person's own file name is kept encrypted in the database only.
    return f"messages/{uuid.uuid4().hex}.{kind.extension}"
