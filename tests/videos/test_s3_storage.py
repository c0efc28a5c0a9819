"""The videos storage against an S3 server (moto, on 127.0.0.1) and against local disk.

The S3 tests talk HTTP to a real server thread rather than patching boto3, so that multipart
uploads, signed URLs and Range requests at the signed URL are exercised the way production
uses them.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from storages.backends.s3 import S3File  # type: ignore[import-untyped]

from rapport.videos import storage as video_files
from rapport.videos.serving import stored_file_response

# Media code with no database behaviour: the PostgreSQL run skips it (Makefile).
pytestmark = pytest.mark.media

BUCKET = "rapport-videos-test"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
SIGNED_URL_SECONDS = 300
START_TIMEOUT_SECONDS = 15

NAME_RE = re.compile(r"^v/([0-9a-f]{2})/([0-9a-f]{32})\.mp4$")


# --- helpers ----------------------------------------------------------------------------------


class ReadSpy:
    """A file wrapper recording every read() size: large files must be read in chunks."""

    def __init__(self, handle):
        self._handle = handle
        self.sizes: list[int] = []

    def read(self, size=-1):
        self.sizes.append(size)
        return self._handle.read(size)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._handle.close()


@pytest.fixture
def read_spies(monkeypatch) -> list[ReadSpy]:
    spies: list[ReadSpy] = []
    original = Path.open

    def spying_open(self, *args, **kwargs):
        spy = ReadSpy(original(self, *args, **kwargs))
        spies.append(spy)
        return spy

    monkeypatch.setattr(Path, "open", spying_open)
    return spies


def assert_read_in_chunks(spies: list[ReadSpy], *, at_most: int) -> None:
    sizes = [size for spy in spies for size in spy.sizes]
    assert sizes, "the file was not read through Path.open"
    assert all(size is not None and 0 < size <= at_most for size in sizes), sizes


@pytest.fixture
def temp_dir(settings, tmp_path) -> Path:
    """Where local_copy puts downloads (FILE_UPLOAD_TEMP_DIR), so leftovers can be seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


# --- the S3 server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, with an empty bucket; its endpoint URL."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        pytest.fail(f"moto's server mode is not installed (moto[s3], flask, flask-cors): {error}")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits for the server thread without a timeout, and a server that fails to bind
    # never signals: start it from a helper thread so a failure is a clear error, not a hang.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(START_TIMEOUT_SECONDS)
    try:
        host, port = server.get_host_and_port()
    except AssertionError:
        host, port = "", 0
    if starter.is_alive() or not port:
        pytest.fail(
            f"moto's S3 server did not start on 127.0.0.1 within {START_TIMEOUT_SECONDS} s "
            "(see the captured output for the server thread's error)."
        )

    werkzeug_logger = logging.getLogger("werkzeug")
    previous_level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.WARNING)  # one access-log line per request is noise
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        # Whatever proxy the environment names, a loopback server is reached directly.
        for variable in ("NO_PROXY", "no_proxy"):
            patch.setenv(variable, "127.0.0.1,localhost")
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        try:
            yield endpoint
        finally:
            werkzeug_logger.setLevel(previous_level)
            server.stop()


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


@pytest.fixture
def s3(settings, s3_endpoint):
    """STORAGES["videos"] as S3Storage on the moto server (the shape settings.py gives it);
    returns a boto3 client for looking at the bucket directly."""
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": SIGNED_URL_SECONDS,
                "signature_version": "s3v4",
                "file_overwrite": False,
            },
        },
    }
    # The setting_changed signal has dropped the storage built for the previous settings.
    assert type(video_files.video_storage()).__name__ == "S3Storage"
    return s3_client(s3_endpoint)


@pytest.fixture
def big_file(tmp_path) -> tuple[Path, bytes]:
    # Over boto3's 8 MB multipart threshold: uploaded in two parts.
    data = os.urandom(12 * 1024 * 1024 + 12345)
    path = tmp_path / "upload.mp4"
    path.write_bytes(data)
    return path, data


def object_bytes(client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def put_object(client, data: bytes) -> str:
    key = video_files.random_name(".mp4")
    client.put_object(Bucket=BUCKET, Key=key, Body=data)
    return key


# --- S3 ---------------------------------------------------------------------------------------


def test_save_local_file_uploads_in_parts(s3, big_file, read_spies):
    path, data = big_file
    name = video_files.save_local_file(path, suffix=".mp4")
    assert_read_in_chunks(read_spies, at_most=8 * 1024 * 1024)

    assert NAME_RE.match(name)
    assert object_bytes(s3, name) == data
    head = s3.head_object(Bucket=BUCKET, Key=name)
    assert head["ETag"].endswith('-2"')  # a multipart upload's ETag counts its parts
    assert head["ContentType"] == "video/mp4"


def test_stored_file_response_redirects_to_a_signed_url(s3, s3_endpoint, rf):
    data = os.urandom(1000)
    name = put_object(s3, data)

    response = stored_file_response(rf.get("/video"), name=name, content_type="video/mp4")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    assert url.startswith(f"{s3_endpoint}/{BUCKET}/{name}?")
    query = parse_qs(urlsplit(url).query)
    if "X-Amz-Expires" in query:
        assert query["X-Amz-Expires"] == [str(SIGNED_URL_SECONDS)]
    else:
        expires = int(query["Expires"][0])
        assert abs(expires - (time.time() + SIGNED_URL_SECONDS)) < 30

    # Plain http to the loopback moto server checked above: the scheme S310 worries about.
    request = urllib.request.Request(url, headers={"Range": "bytes=100-199"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as fetched:  # noqa: S310
        assert fetched.status == 206
        assert fetched.headers["Content-Range"] == "bytes 100-199/1000"
        assert fetched.read() == data[100:200]


def test_local_copy_downloads_to_a_temporary_file(s3, big_file, temp_dir, monkeypatch):
    _, data = big_file
    name = put_object(s3, data)

    def buffered_read(self):
        pytest.fail("local_copy read through S3File's in-memory buffer")

    monkeypatch.setattr(S3File, "file", property(buffered_read))
    with video_files.local_copy(name) as path:
        assert path.parent == temp_dir
        assert path.suffix == ".mp4"
        assert path.read_bytes() == data
    assert not path.exists()
    assert list(temp_dir.iterdir()) == []


def test_local_copy_removes_the_file_when_the_block_fails(s3, temp_dir):
    name = put_object(s3, b"video")
    seen: list[Path] = []

    def transcode_and_fail() -> None:
        with video_files.local_copy(name) as path:
            seen.append(path)
            raise RuntimeError("the transcoder failed")

    with pytest.raises(RuntimeError):
        transcode_and_fail()
    assert seen
    assert list(temp_dir.iterdir()) == []


def test_local_copy_of_a_missing_object(s3, temp_dir):
    with pytest.raises(FileNotFoundError), video_files.local_copy("v/00/" + "0" * 32 + ".mp4"):
        pass
    assert list(temp_dir.iterdir()) == []


def test_delete_quietly_removes_the_object(s3):
    name = put_object(s3, b"video")
    video_files.delete_quietly(name)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=BUCKET, Key=name)
    video_files.delete_quietly(name)  # already gone: fine


# --- local disk -------------------------------------------------------------------------------


@pytest.fixture
def video_root(settings, tmp_path) -> Path:
    root = tmp_path / "videos"
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    assert video_files.local_path("x", video_files.video_storage()) == root / "x"
    return root


def test_random_name():
    names = {video_files.random_name(".mp4") for _ in range(100)}
    assert len(names) == 100
    for name in names:
        match = NAME_RE.match(name)
        assert match is not None
        assert match.group(2).startswith(match.group(1))
    assert re.fullmatch(r"v/[0-9a-f]{2}/[0-9a-f]{32}", video_files.random_name(""))


@pytest.mark.parametrize(
    "suffix", ["mp4", ".MP4", ".mp4/../x", "/x", ".a b", ".", ".toolongsuffix"]
)
def test_random_name_refuses_odd_suffixes(suffix):
    with pytest.raises(ValueError, match="suffix"):
        video_files.random_name(suffix)


def test_save_local_file_to_disk(video_root, tmp_path, read_spies):
    source = tmp_path / "upload.mov"
    data = os.urandom(300_000)
    source.write_bytes(data)

    name = video_files.save_local_file(source, suffix=".mov")
    assert_read_in_chunks(read_spies, at_most=1024 * 1024)
    assert re.fullmatch(r"v/[0-9a-f]{2}/[0-9a-f]{32}\.mov", name)
    assert (video_root / name).read_bytes() == data
    assert source.exists()  # the caller decides what happens to its own file


def test_local_copy_on_disk_is_the_stored_file(video_root, temp_dir):
    name = video_files.random_name(".mp4")
    stored = video_root / name
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"video")
    with video_files.local_copy(name) as path:
        assert path == stored
    assert stored.exists()
    assert list(temp_dir.iterdir()) == []


def test_local_copy_on_disk_of_a_missing_file(video_root):
    with pytest.raises(FileNotFoundError), video_files.local_copy("v/00/missing.mp4"):
        pass


def test_delete_quietly_on_disk(video_root, monkeypatch, caplog):
    name = video_files.random_name(".jpg")
    stored = video_root / name
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"poster")
    video_files.delete_quietly(name)
    assert not stored.exists()
    video_files.delete_quietly(name)  # missing: nothing to do, nothing logged
    video_files.delete_quietly("")  # no file recorded: nothing to do
    assert caplog.text == ""

    def refuse(self, name):
        raise PermissionError("read-only volume")

    monkeypatch.setattr(type(video_files.video_storage()), "delete", refuse)
    with caplog.at_level(logging.WARNING, logger="rapport.videos.storage"):
        video_files.delete_quietly(name)
    assert "Could not delete stored video file" in caplog.text
    assert "read-only volume" in caplog.text
