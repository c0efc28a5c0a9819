"""Profile photos: an upload is decoded by Pillow within limits, then re-encoded from pixels
only, so nothing of the original file survives (no EXIF, no GPS position, no embedded
thumbnails or scripts), turned upright, cropped square and sized for the pages.

A hostile or broken file is a ValidationError with a sentence a person can act on, and nothing
is written.
"""

from __future__ import annotations

import io
import struct
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

PHOTO_MAX_BYTES = 5 * 2**20
# Decoding is refused past this many pixels (a 12-megapixel phone photo is fine; a
# "decompression bomb" of a few kilobytes that unpacks to gigabytes is not).
PHOTO_MAX_PIXELS = 40_000_000
# The profile page shows the photo at 112 px and cards at 52 px: 448 px covers a 4x screen.
PHOTO_SIZE = 448
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}

_BROKEN = "This file is not a photo we can read. Upload a JPEG, PNG or WebP image."


def prepare_photo(upload: UploadedFile) -> ContentFile[bytes]:
    """The upload as a square JPEG of PHOTO_SIZE pixels, or ValidationError."""
    if upload.size is not None and upload.size > PHOTO_MAX_BYTES:
        raise ValidationError(
            f"This photo is {upload.size / 2**20:.1f} MB; the limit is "
            f"{PHOTO_MAX_BYTES // 2**20} MB. Export a smaller copy and upload that."
        )
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationError(f"Photos can be at most {PHOTO_MAX_BYTES // 2**20} MB.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; any warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS)) as image:
                width, height = image.size
                if width * height > PHOTO_MAX_PIXELS:
                    raise ValidationError(
                        "This image has too many pixels to process. Upload a photo of at most "
                        f"{PHOTO_MAX_PIXELS // 1_000_000} megapixels."
                    )
                if min(width, height) < 64:
                    raise ValidationError("This image is too small to show; use a real photo.")
                image.load()
                upright = ImageOps.exif_transpose(image)
                square = ImageOps.fit(
                    upright.convert("RGB"),
                    (PHOTO_SIZE, PHOTO_SIZE),
                    method=Image.Resampling.LANCZOS,
                )
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_BROKEN) from None
    except (OSError, ValueError, SyntaxError, struct.error):
        # Truncated or corrupt data surfaces as any of these from Pillow's decoders.
        raise ValidationError(_BROKEN) from None
    out = io.BytesIO()
    # Saved from pixels alone: no exif=, no icc_profile=, so no metadata is carried over.
    square.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return ContentFile(out.getvalue(), name="photo.jpg")
