"""Playback responses from local storage: Django's own Range support and the x-accel hand-off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.http import Http404, StreamingHttpResponse
from django.utils.http import http_date

from rapport.videos.serving import CHUNK_BYTES, stored_file_response
from rapport.videos.storage import video_storage

NAME = "v/ab/0123456789abcdef0123456789abcdef.mp4"
DATA = bytes(range(256)) * 4  # 1024 bytes; slices at different offsets differ
SIZE = len(DATA)
MTIME = 1_700_000_000

# Closing a response sends request_finished, which checks the database connection an earlier
# test may have left open; that check counts as database access.
# Media code with no database behaviour (the PostgreSQL run skips it, see the Makefile).
pytestmark = [pytest.mark.django_db, pytest.mark.media]


@pytest.fixture
def video_root(settings, tmp_path) -> Path:
    """A FileSystemStorage in a temporary folder as STORAGES["videos"].

    No cache to clear by hand: pytest-django's ``settings`` applies the change through
    override_settings, whose setting_changed signal makes Django drop the storages it built
    (django.test.signals.storages_changed). The assertion below keeps that honest.
    """
    root = tmp_path / "videos"
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    settings.VIDEO_SERVE = "django"
    settings.VIDEO_X_ACCEL_PREFIX = "/protected-videos/"
    assert Path(video_storage().path(NAME)) == root / NAME
    return root


@pytest.fixture
def stored(video_root) -> Path:
    path = video_root / NAME
    path.parent.mkdir(parents=True)
    path.write_bytes(DATA)
    os.utime(path, (MTIME, MTIME))
    return path


def serve(rf, *, method: str = "get", name: str = NAME, max_age: int = 0, **headers):
    """Call stored_file_response; header keywords use underscores (If_Range=...)."""
    headers = {key.replace("_", "-"): value for key, value in headers.items()}
    request = getattr(rf, method)("/video", headers=headers)
    return stored_file_response(request, name=name, content_type="video/mp4", max_age=max_age)


def body(response) -> bytes:
    """The whole body, closing the response (and so the file) afterwards, as servers do."""
    try:
        if response.streaming:
            return b"".join(response.streaming_content)
        return response.content
    finally:
        response.close()


def test_full_response_headers(rf, stored):
    response = serve(rf, max_age=60)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert body(response) == DATA
    assert response["Content-Length"] == str(SIZE)
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Cache-Control"] == "private, max-age=60"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert response["Last-Modified"] == http_date(MTIME)
    assert response["ETag"].startswith('"')  # strong: no W/ prefix
    assert response["ETag"].endswith('"')
    assert not response.has_header("Content-Range")


def test_etag_changes_with_the_file(rf, stored):
    first = serve(rf)["ETag"]
    assert serve(rf)["ETag"] == first
    os.utime(stored, (MTIME + 1, MTIME + 1))
    assert serve(rf)["ETag"] != first


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-199", 100, 199),
        ("bytes=1023-1023", 1023, 1023),
        ("bytes=1000-", 1000, SIZE - 1),
        ("bytes=0-", 0, SIZE - 1),
        ("bytes=-24", SIZE - 24, SIZE - 1),
        ("bytes=-5000", 0, SIZE - 1),  # a suffix longer than the file is the whole file
        ("bytes=1000-99999", 1000, SIZE - 1),  # the last byte is clamped to the file's end
        ("Bytes=5-6", 5, 6),  # the unit is case-insensitive
        (" bytes=5-6 ", 5, 6),
        ("bytes=5-6,", 5, 6),  # an empty list element does not make it two ranges
    ],
)
def test_single_ranges(rf, stored, header, first, last):
    response = serve(rf, Range=header)
    assert response.status_code == 206
    assert body(response) == DATA[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == serve(rf)["ETag"]


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range(rf, stored, header):
    response = serve(rf, Range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert body(response) == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=9-5",  # last before first
        "bytes=abc",
        "bytes=",
        "bytes=--5",
        "bytes=1-2-3",
        "bytes=0x10-20",
        "items=0-5",  # an unknown unit
        "0-5",
        "bytes 0-5",
        "bytes=" + "9" * 5000,  # too long for Python to convert: ignored, not a crash
        "bytes=0-1,5-6",  # several ranges: the whole file (documented)
        "bytes=0-1, 2000-3000",
    ],
)
def test_ignored_range_headers_give_the_whole_file(rf, stored, header):
    response = serve(rf, Range=header)
    assert response.status_code == 200
    assert body(response) == DATA
    assert not response.has_header("Content-Range")


def test_if_range_with_matching_etag(rf, stored):
    etag = serve(rf)["ETag"]
    response = serve(rf, Range="bytes=10-19", If_Range=etag)
    assert response.status_code == 206
    assert body(response) == DATA[10:20]


@pytest.mark.parametrize("if_range", ['"something-else"', "W/{etag}", "not a validator"])
def test_if_range_with_other_etag_gives_the_whole_file(rf, stored, if_range):
    etag = serve(rf)["ETag"]
    response = serve(rf, Range="bytes=10-19", If_Range=if_range.format(etag=etag))
    assert response.status_code == 200
    assert body(response) == DATA


def test_if_range_with_dates(rf, stored):
    matching = serve(rf, Range="bytes=10-19", If_Range=http_date(MTIME))
    assert matching.status_code == 206
    assert body(matching) == DATA[10:20]
    for other in (MTIME - 60, MTIME + 60):
        response = serve(rf, Range="bytes=10-19", If_Range=http_date(other))
        assert response.status_code == 200
        assert body(response) == DATA


def test_failed_if_range_beats_an_unsatisfiable_range(rf, stored):
    response = serve(rf, Range="bytes=5000-", If_Range='"old"')
    assert response.status_code == 200


def test_if_range_without_range_is_ignored(rf, stored):
    response = serve(rf, If_Range='"old"')
    assert response.status_code == 200
    assert body(response) == DATA


@pytest.mark.parametrize("header", ["{etag}", "*", '"other", {etag}', "W/{etag}"])
def test_if_none_match_not_modified(rf, stored, header):
    etag = serve(rf)["ETag"]
    response = serve(rf, If_None_Match=header.format(etag=etag), max_age=30)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, max-age=30"
    assert body(response) == b""


def test_if_none_match_with_another_etag(rf, stored):
    response = serve(rf, If_None_Match='"other"')
    assert response.status_code == 200
    assert body(response) == DATA


def test_if_modified_since(rf, stored):
    assert serve(rf, If_Modified_Since=http_date(MTIME)).status_code == 304
    earlier = serve(rf, If_Modified_Since=http_date(MTIME - 60))
    assert earlier.status_code == 200
    body(earlier)


def test_head_has_headers_without_body(rf, stored):
    response = serve(rf, method="head")
    assert response.status_code == 200
    assert body(response) == b""
    assert response["Content-Length"] == str(SIZE)
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == serve(rf)["ETag"]


def test_head_ignores_range(rf, stored):
    # RFC 9110 §14.2: range handling is defined for GET only.
    response = serve(rf, method="head", Range="bytes=0-9")
    assert response.status_code == 200
    assert response["Content-Length"] == str(SIZE)
    assert body(response) == b""


def test_large_file_is_streamed_in_chunks(rf, video_root):
    data = os.urandom(10 * 1024 * 1024)
    path = video_root / NAME
    path.parent.mkdir(parents=True)
    path.write_bytes(data)

    response = serve(rf)
    chunks = list(response.streaming_content)
    response.close()
    assert len(chunks) == len(data) // CHUNK_BYTES
    assert all(len(chunk) <= CHUNK_BYTES for chunk in chunks)
    assert b"".join(chunks) == data

    ranged = serve(rf, Range="bytes=12345-9999999")
    chunks = list(ranged.streaming_content)
    ranged.close()
    assert len(chunks) > 100
    assert b"".join(chunks) == data[12345:10_000_000]
    assert ranged["Content-Length"] == str(10_000_000 - 12345)


@pytest.fixture
def opened(monkeypatch) -> list:
    """Every file Path.open() returns during the test, to check they all get closed."""
    handles = []
    original = Path.open

    def spy(self, *args, **kwargs):
        handle = original(self, *args, **kwargs)
        handles.append(handle)
        return handle

    monkeypatch.setattr(Path, "open", spy)
    return handles


def test_streamed_file_is_read_lazily_and_closed_with_the_response(rf, stored, opened):
    response = serve(rf, Range="bytes=0-9")
    assert not opened[0].closed
    assert next(iter(response.streaming_content)) == DATA[:10]
    response.close()  # what the WSGI server does when done, or when the client went away
    assert opened[0].closed


@pytest.mark.parametrize(
    "headers",
    [{"method": "head"}, {"Range": "bytes=9999-"}, {"If_Modified_Since": http_date(MTIME)}],
)
def test_file_is_closed_at_once_without_a_body(rf, stored, opened, headers):
    response = serve(rf, **headers)
    assert response.status_code in (200, 304, 416)
    assert opened
    assert all(handle.closed for handle in opened)


def test_missing_file_is_404(rf, video_root):
    with pytest.raises(Http404):
        serve(rf)
    with pytest.raises(Http404):
        serve(rf, method="head")


def test_x_accel_mode(rf, settings, video_root):
    settings.VIDEO_SERVE = "x-accel"
    name = "v/ab/a b+ü.mp4"
    path = video_root / name
    path.parent.mkdir(parents=True)
    path.write_bytes(DATA)

    response = serve(rf, name=name, max_age=120, Range="bytes=0-9")
    assert response.status_code == 200
    assert body(response) == b""
    assert response["X-Accel-Redirect"] == "/protected-videos/v/ab/a%20b%2B%C3%BC.mp4"
    assert response["Content-Type"] == "video/mp4"
    assert response["Cache-Control"] == "private, max-age=120"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert not response.has_header("X-Accel-Buffering")
    assert not response.has_header("Content-Range")


def test_x_accel_prefix_without_trailing_slash(rf, settings, stored):
    settings.VIDEO_SERVE = "x-accel"
    settings.VIDEO_X_ACCEL_PREFIX = "/internal"
    assert serve(rf)["X-Accel-Redirect"] == f"/internal/{NAME}"


def test_x_accel_missing_file_is_404(rf, settings, video_root):
    settings.VIDEO_SERVE = "x-accel"
    with pytest.raises(Http404):
        serve(rf)
