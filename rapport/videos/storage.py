"""Where video files live: the "videos" storage (local folder or S3-compatible bucket).

Every stored file gets a random name. Names are never derived from what the therapist uploaded
(a file name can carry their name or a client's) nor from database ids (guessable), and a name
is never reused: a changed file is a new name. That immutability is what lets playback use
long-lived strong ETags and lets caches keep a file for as long as its row points at it.

Large files are always streamed in chunks, in both directions: originals can be hundreds of
megabytes and the worker runs next to the web processes.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

logger = logging.getLogger(__name__)

STORAGE_ALIAS = "videos"

# Suffixes are chosen by our code (".mp4", ".jpg", ...), never taken from an upload; checking
# them keeps a mistake from putting a path separator or odd characters into a stored name.
_SUFFIX_RE = re.compile(r"^(?:\.[a-z0-9]{1,10})?$")

# Copy size for reading stored files into local temporary files.
COPY_CHUNK_BYTES = 1024 * 1024


def video_storage() -> Storage:
    """The storage configured as STORAGES["videos"]."""
    return storages[STORAGE_ALIAS]


def random_name(suffix: str) -> str:
    """A fresh name like ``v/3f/3f9c…e1.mp4``: 128 random bits, spread over 256 folders so
    no local directory grows huge. ``suffix`` is ``""`` or a lowercase extension with its dot.
    """
    if not _SUFFIX_RE.match(suffix):
        raise ValueError(f"Unexpected stored-file suffix {suffix!r}")
    token = secrets.token_hex(16)
    return f"v/{token[:2]}/{token}{suffix}"


def local_path(name: str, storage: Storage | None = None) -> Path | None:
    """The file's path on local disk when the storage keeps files there (FileSystemStorage),
    None when it does not (object storage). The file itself may not exist."""
    storage = storage or video_storage()
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        # Storage.path's documented answer for backends without a local filesystem.
        return None


def save_local_file(path: Path, *, suffix: str) -> str:
    """Stream the local file at ``path`` into the videos storage under a new random name and
    return the name actually stored.

    The storage reads the file object in chunks: FileSystemStorage copies it chunk by chunk,
    S3Storage hands it to boto3, which uploads it in parts (multipart above 8 MB).
    """
    storage = video_storage()
    with path.open("rb") as handle:
        return storage.save(random_name(suffix), File(handle))


def delete_quietly(name: str) -> None:
    """Delete a stored file. Missing is fine (already gone is the goal); any other failure is
    logged rather than raised, since callers delete while cleaning up after something else and
    an orphaned file is better than a lost error or a half-finished state change."""
    if not name:
        return
    try:
        video_storage().delete(name)
    except FileNotFoundError:
        return
    except Exception:
        logger.warning("Could not delete stored video file %s", name, exc_info=True)


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A path to the stored file on local disk, for tools that need one (the transcoder).

    With local storage this is the stored file itself: read it, never change or move it. With
    object storage the file is downloaded to a temporary file, removed when the block ends.
    Raises FileNotFoundError when there is no such stored file.
    """
    storage = video_storage()
    path = local_path(name, storage)
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(f"No stored video file {name}")
        yield path
        return

    with tempfile.NamedTemporaryFile(
        prefix="rapport-video-",
        suffix=Path(name).suffix,
        dir=settings.FILE_UPLOAD_TEMP_DIR,
        delete=False,
    ) as temporary:
        copy = Path(temporary.name)
        try:
            _download(storage, name, temporary)
        except BaseException:
            copy.unlink(missing_ok=True)
            raise
    try:
        yield copy
    finally:
        copy.unlink(missing_ok=True)


def _download(storage: Storage, name: str, target: IO[bytes]) -> None:
    # Opening first: a missing file raises FileNotFoundError in every backend.
    with storage.open(name, "rb") as stored:
        # django-storages' S3File buffers a read in a SpooledTemporaryFile whose default
        # threshold (AWS_S3_MAX_MEMORY_SIZE = 0) means "never spill to disk": reading it would
        # hold the whole video in memory. Its boto3 object downloads in ranged parts straight
        # into our file instead. (Checked by attribute: django-storages ships no type hints.)
        s3_object = getattr(stored, "obj", None)
        if s3_object is not None and hasattr(s3_object, "download_fileobj"):
            s3_object.download_fileobj(target, Config=getattr(storage, "transfer_config", None))
        else:
            shutil.copyfileobj(stored, target, COPY_CHUNK_BYTES)
    target.flush()
