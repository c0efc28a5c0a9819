"""Playback responses for stored video files (and posters and other stored media).

The calling view has already decided the viewer may see the file; this module only decides *how*
the bytes get to them, by deployment:

* object storage (VIDEO_STORAGE=s3): a redirect to a short-lived signed URL; the object store
  answers Range requests itself and the app never carries video bytes;
* local storage with VIDEO_SERVE="x-accel": an empty response telling nginx which file to send
  (see ``_x_accel_response`` for the nginx configuration);
* local storage with VIDEO_SERVE="django": Django streams the file with HTTP Range support
  (RFC 9110 §14), which browsers need to seek in a video and which Safari needs to play one
  at all. Fine for development and small sites; the first two keep app workers free.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import Storage
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe

from rapport.videos.storage import local_path, video_storage

# Read size while streaming. Big enough to keep the per-chunk overhead small, small enough that
# many concurrent viewers don't add up to much memory.
CHUNK_BYTES = 64 * 1024

_RANGE_HEADER_RE = re.compile(r"^\s*([A-Za-z]+)\s*=(.*)$")
_BOUNDED_RE = re.compile(r"^(\d+)-(\d*)$")
_SUFFIX_RE = re.compile(r"^-(\d+)$")

# What Range evaluation can decide besides "these bytes": the whole file, or 416.
_Full = Literal["full"]
_Unsatisfiable = Literal["unsatisfiable"]


def stored_file_response(
    request: HttpRequest, *, name: str, content_type: str, max_age: int = 0
) -> HttpResponseBase:
    """The response that plays stored file ``name`` (access already checked by the caller).

    ``max_age`` is how long the viewer's browser may reuse the file without asking again
    (Cache-Control: private; shared caches never keep it). Raises Http404 for a missing file
    (local storage only: with object storage the store answers 404 at the signed URL, which
    saves a round trip to it on every play).
    """
    storage = video_storage()
    path = local_path(name, storage)
    if path is None:
        return _signed_url_redirect(storage, name)
    if settings.VIDEO_SERVE == "x-accel":
        return _x_accel_response(path, name=name, content_type=content_type, max_age=max_age)
    return _ranged_file_response(
        request, path, name=name, content_type=content_type, max_age=max_age
    )


def _signed_url_redirect(storage: Storage, name: str) -> HttpResponseBase:
    # S3Storage.url() signs the URL (querystring_auth) for VIDEO_SIGNED_URL_SECONDS.
    response = HttpResponseRedirect(storage.url(name))
    # The redirect carries a bearer credential for the file: never reuse it from a cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _cache_control(max_age: int) -> str:
    return f"private, max-age={max(0, max_age)}"


def _x_accel_response(
    path: Path, *, name: str, content_type: str, max_age: int
) -> HttpResponseBase:
    """Hand the file to nginx, which serves it (with Range) from an internal location.

    nginx configuration, with VIDEO_X_ACCEL_PREFIX="/protected-videos/" and the folder of
    STORAGES["videos"] (VIDEO_MEDIA_ROOT)::

        location /protected-videos/ {
            internal;                 # reachable only through X-Accel-Redirect, never by URL
            alias <VIDEO_MEDIA_ROOT>/;
            max_ranges 1;             # multiple ranges get the whole file, as in Django mode
            add_header X-Content-Type-Options nosniff always;
        }

    nginx keeps Content-Type, Content-Disposition and Cache-Control from this response and
    adds its own ETag, Last-Modified and Content-Length for the file. ``X-Accel-Buffering`` is
    left alone: it only concerns proxied bodies, and nginx sends this one from disk.
    """
    # Checked here so a missing file is Django's 404 page in every mode, not nginx's.
    if not path.is_file():
        raise Http404("No such video file")
    response = HttpResponse(content_type=content_type)
    prefix = settings.VIDEO_X_ACCEL_PREFIX.rstrip("/") + "/"
    response["X-Accel-Redirect"] = prefix + quote(name)
    response["Cache-Control"] = _cache_control(max_age)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


class _FileRange:
    """Iterates over ``length`` bytes of an open file from ``start``, a chunk at a time.

    Django calls ``close()`` when the response is finished (or the client went away), which
    closes the file.
    """

    def __init__(self, handle: BinaryIO, start: int, length: int) -> None:
        self._handle = handle
        self._start = start
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        self._handle.seek(self._start)
        remaining = self._length
        while remaining > 0:
            chunk = self._handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                # The file shrank under us (it should never: names are immutable). Stopping
                # short makes the client see a truncated body rather than a hung request.
                return
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._handle.close()


def _etag(name: str, size: int, mtime_ns: int) -> str:
    # Stored names are immutable, so the name alone would do; size and mtime make a file
    # restored or replaced in place (by an operator) a new representation all the same.
    digest = hashlib.sha256(f"{name}\0{size}\0{mtime_ns}".encode()).hexdigest()
    return f'"{digest[:32]}"'


def _parse_range(header: str, size: int) -> tuple[int, int] | _Full | _Unsatisfiable:
    """The one byte range (first, last inclusive) a Range header asks for, "full" when the
    header is to be ignored and "unsatisfiable" for a 416.

    Per RFC 9110 §14.2 a server may ignore Range, and must ignore one it cannot parse. Ignored
    here, with the whole file served as 200: malformed headers, units other than bytes, and
    requests for more than one range (a multipart/byteranges body buys a video player nothing
    and costs a second code path; the RFC allows answering them with the full representation).
    """
    match = _RANGE_HEADER_RE.match(header)
    if match is None or match.group(1).lower() != "bytes":
        return "full"
    # A list element may be empty ("bytes=0-99,"), RFC 9110 §5.6.1.
    specs = [spec.strip() for spec in match.group(2).split(",") if spec.strip()]
    if len(specs) != 1 or size == 0:
        # An empty file has no bytes to choose from: the whole (empty) file it is.
        return "full"
    spec = specs[0]
    try:
        if bounded := _BOUNDED_RE.match(spec):
            first = int(bounded.group(1))
            last = int(bounded.group(2)) if bounded.group(2) else None
            if last is not None and last < first:
                return "full"  # an invalid range-spec: the header is malformed
            if first >= size:
                return "unsatisfiable"
            return first, size - 1 if last is None else min(last, size - 1)
        if suffix := _SUFFIX_RE.match(spec):
            length = int(suffix.group(1))
            if length == 0:
                return "unsatisfiable"
            return max(0, size - length), size - 1
    except ValueError:
        # Python refuses to convert absurdly long digit strings; nobody sends those honestly.
        return "full"
    return "full"


def _if_range_matches(value: str, *, etag: str, last_modified: int) -> bool:
    """Whether If-Range's validator is the current one (RFC 9110 §13.1.5).

    An entity tag must match strongly (a weak tag never does); a date must equal Last-Modified
    exactly. Anything unparseable does not match, so the full file is sent: always correct.
    """
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag
    date = parse_http_date_safe(value)
    return date is not None and date == last_modified


def _ranged_file_response(
    request: HttpRequest, path: Path, *, name: str, content_type: str, max_age: int
) -> HttpResponseBase:
    try:
        handle: BinaryIO = path.open("rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise Http404("No such video file") from None
    streaming = False
    try:
        # fstat on the open file: size and mtime of exactly the file being sent.
        stat = os.fstat(handle.fileno())
        size = stat.st_size
        last_modified = int(stat.st_mtime)
        etag = _etag(name, size, stat.st_mtime_ns)

        # The validators every answer carries; a 304 copies them from here.
        headers = HttpResponse()
        headers["ETag"] = etag
        headers["Last-Modified"] = http_date(last_modified)
        headers["Cache-Control"] = _cache_control(max_age)
        conditional = get_conditional_response(
            request, etag=etag, last_modified=last_modified, response=headers
        )
        if conditional is not None and conditional is not headers:
            # 304 Not Modified (If-None-Match / If-Modified-Since) or 412 (If-Match ...).
            return conditional

        selected: tuple[int, int] | _Full | _Unsatisfiable = "full"
        range_header = request.headers.get("Range")
        # Range is defined for GET only (RFC 9110 §14.2): a HEAD answers as a plain GET would.
        if range_header and request.method == "GET":
            if_range = request.headers.get("If-Range")
            if if_range is None or _if_range_matches(
                if_range, etag=etag, last_modified=last_modified
            ):
                selected = _parse_range(range_header, size)

        response: HttpResponseBase
        if selected == "unsatisfiable":
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
        else:
            first, last = (0, size - 1) if selected == "full" else selected
            length = last - first + 1
            if request.method == "HEAD":
                response = HttpResponse(content_type=content_type)
            else:
                response = StreamingHttpResponse(
                    _FileRange(handle, first, length),
                    status=200 if selected == "full" else 206,
                    content_type=content_type,
                )
                streaming = True
            if selected != "full":
                response["Content-Range"] = f"bytes {first}-{last}/{size}"
            response["Content-Length"] = str(length)
            response["ETag"] = etag
            response["Last-Modified"] = headers["Last-Modified"]
            response["Content-Disposition"] = "inline"
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = headers["Cache-Control"]
        response["X-Content-Type-Options"] = "nosniff"
        return response
    finally:
        # The streaming body owns the file from here (closed with the response); every other
        # answer is complete, so the file is closed now.
        if not streaming:
            handle.close()
