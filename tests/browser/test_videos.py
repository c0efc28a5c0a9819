"""Uploading a video introduction in a real browser: videos/upload.js sends the file in chunks
with a progress bar, shows the server's refusal in plain words, and survives a dropped
connection by asking the server where the upload stands and carrying on from there.

With the immediate task backend the video is processed when the upload's transaction commits,
so the page the script reloads into already shows the video ready and waiting for review.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Locator, Request, Route
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from rapport.directory.models import TherapistProfile
from rapport.videos import services, storage, views
from rapport.videos.models import ProcessingState, Prompt, ReviewState, Video, VideoUpload
from rapport.videos.synth import synthesise_clip
from tests.browser.conftest import Tab
from tests.factories import load_reference_data, make_therapist_with_account

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PAGE = "/practice/videos/"
# The first upload form on the page is the first prompt's.
FIRST_PROMPT = Prompt.values[0]
READY = "Ready, waiting for review."
# Upload.js reloads the page this long after the server accepted the file (plus processing).
# Generous: probing and converting run in subprocesses on a machine that may be busy.
RELOAD_TIMEOUT_MS = 60_000

# Runs before upload.js in every document: a synchronous record of each value the script gives
# the progress bar (["progress", value]) and each message it puts in the upload's status line
# (["status", message, whether the Cancel button shows then]), kept in sessionStorage
# so the record survives the reload that follows a finished upload. (A MutationObserver would
# report in batches, after the script had moved on.)
RECORD_UPLOAD_FEEDBACK = """
(() => {
  const KEY = "__uploadFeedback";
  const record = (...entry) => {
    const entries = JSON.parse(window.sessionStorage.getItem(KEY) || "[]");
    entries.push(entry);
    window.sessionStorage.setItem(KEY, JSON.stringify(entries));
  };
  const value = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, "value");
  Object.defineProperty(HTMLProgressElement.prototype, "value", {
    ...value,
    set(number) {
      value.set.call(this, number);
      record("progress", this.value);
    },
  });
  const text = Object.getOwnPropertyDescriptor(Node.prototype, "textContent");
  Object.defineProperty(Node.prototype, "textContent", {
    ...text,
    set(content) {
      text.set.call(this, content);
      if (this instanceof Element && this.classList.contains("video-upload__status")) {
        const cancel = this.closest("form").querySelector("[data-cancel]");
        record("status", String(content), cancel.checkVisibility());
      }
    },
  });
})();
"""
READ_UPLOAD_FEEDBACK = "JSON.parse(window.sessionStorage.getItem('__uploadFeedback') || '[]')"

# Every visible form control (progress bars included) that no <label> nor aria-label names,
# and every visible button without a name.
UNNAMED_CONTROLS = """
() => {
  const visible = (element) => element.offsetParent !== null;
  const controls = Array.from(document.querySelectorAll("input, select, textarea, progress"))
    .filter((control) => control.type !== "hidden" && visible(control))
    .filter((control) => control.labels.length === 0 && !control.getAttribute("aria-label"))
    .map((control) => control.name || control.id || control.tagName);
  const buttons = Array.from(document.querySelectorAll("button"))
    .filter((button) => visible(button))
    .filter((button) => !button.textContent.trim() && !button.getAttribute("aria-label"))
    .map((button) => button.outerHTML);
  return [...controls, ...buttons];
}
"""
UPLOAD_URL = re.compile(r"/practice/videos/uploads/[0-9a-f-]{36}/$")


@pytest.fixture
def video_dirs(settings: Settings, tmp_path: Path) -> dict[str, Path]:
    """Uploads and stored videos in this test's own folders. The settings fixture changes the
    process's settings, so the live server's thread sees them too (and Django resets its
    storages when STORAGES changes)."""
    folders = {"uploads": tmp_path / "uploads", "stored": tmp_path / "videos"}
    settings.VIDEO_UPLOAD_DIR = folders["uploads"]
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folders["stored"])},
        },
    }
    return folders


@pytest.fixture
def therapist(video_dirs: dict[str, Path]) -> TherapistProfile:
    load_reference_data()
    # Practice pages need a second factor; mfa=True sets one up.
    return make_therapist_with_account(display_name="Dana Reyes", mfa=True)


@pytest.fixture
def therapist_tab(tab: Tab, live_server: LiveServer, therapist: TherapistProfile) -> Tab:
    """The tab, signed in as the therapist, recording the upload's feedback."""
    assert therapist.user is not None
    client = Client()
    client.force_login(therapist.user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    context = tab.page.context
    context.add_cookies([{"name": session.key, "value": session.value, "url": live_server.url}])
    context.add_init_script(RECORD_UPLOAD_FEEDBACK)
    return tab


def make_clip(folder: Path, *, name: str = "dana.mp4", **size: Any) -> Path:
    path = folder / name
    synthesise_clip(
        path, title="Dana", **({"seconds": 2.0, "width": 320, "height": 180, "fps": 12} | size)
    )
    return path


def first_upload_form(tab: Tab) -> Locator:
    form = tab.page.locator("form.video-upload").first
    # upload.js un-hides the forms it has set up.
    form.wait_for(state="visible")
    assert form.get_attribute("data-prompt") == FIRST_PROMPT
    return form


def upload_feedback(tab: Tab) -> list[list[Any]]:
    """What RECORD_UPLOAD_FEEDBACK saw, in order, across reloads."""
    return cast(list[list[Any]], tab.page.evaluate(READ_UPLOAD_FEEDBACK))


def statuses(feedback: list[list[Any]]) -> list[str]:
    return [entry[1] for entry in feedback if entry[0] == "status"]


def progress_values(feedback: list[list[Any]]) -> list[float]:
    return [entry[1] for entry in feedback if entry[0] == "progress"]


def wait_until_ready(tab: Tab) -> Locator:
    """Wait for the reloaded page to show the first prompt's new video as ready."""
    state = tab.page.locator(
        f"section[aria-labelledby='prompt-{FIRST_PROMPT}'] .video-version [data-video-state]",
        has_text=READY,
    )
    state.wait_for(timeout=RELOAD_TIMEOUT_MS)
    tab.page.wait_for_load_state("load")
    return state


def upload_directly(therapist: TherapistProfile, data: bytes) -> Video:
    """A video for the first prompt, uploaded through the services (processed on commit)."""
    upload = services.video_upload_start(
        therapist=therapist, prompt=FIRST_PROMPT, filename="dana.mp4", size_bytes=len(data)
    )
    services.video_upload_append(upload=upload, offset=0, stream=io.BytesIO(data), length=len(data))
    return services.video_upload_complete(upload=upload)


def files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def test_a_video_uploads_with_progress_and_shows_as_ready_after_the_reload(
    therapist_tab: Tab, therapist: TherapistProfile, tmp_path: Path, video_dirs: dict[str, Path]
) -> None:
    tab = therapist_tab
    clip = make_clip(tmp_path)
    assert tab.visit(PAGE) == []
    form = first_upload_form(tab)
    # Nothing to cancel yet.
    assert form.get_by_role("button", name="Cancel upload").is_hidden()
    assert form.locator(".video-upload__progress").is_hidden()

    form.locator("input[type=file]").set_input_files(str(clip))
    form.get_by_role("button", name="Upload", exact=True).click()
    wait_until_ready(tab)

    video = Video.objects.get()
    assert (video.therapist, video.prompt) == (therapist, FIRST_PROMPT)
    assert video.state == ProcessingState.READY
    assert video.review == ReviewState.PENDING
    assert video.original_filename == "dana.mp4"
    assert video.duration_seconds == pytest.approx(2.0, abs=0.2)
    assert not VideoUpload.objects.exists()
    # The live server worked in this test's folders: the partial file is gone, and the
    # playback file and poster are stored (the original was deleted after the transcode).
    assert files_in(video_dirs["uploads"]) == []
    assert len(files_in(video_dirs["stored"])) == 2
    # The page reloaded into the finished state, with the player and nothing left to poll.
    assert tab.page.locator(f"#video-{video.public_id} video").count() == 1
    assert tab.page.locator("[data-status-url]").count() == 0

    feedback = upload_feedback(tab)
    assert statuses(feedback) == [
        "Uploading…",
        "Checking the video…",
        "Uploaded. We are preparing it for playback; this page will update.",
    ]
    # Cancel was offered while bytes were going up, and not once the server was checking them.
    assert [entry[2] for entry in feedback if entry[0] == "status"] == [True, False, False]
    # The bar only ever moved forward, and stood full when the script asked for the check.
    assert progress_values(feedback) == sorted(progress_values(feedback))
    checking = feedback.index(["status", "Checking the video…", False])
    assert progress_values(feedback[:checking])[-1] == 100

    assert tab.csp_violations() == []
    # The console keeps what the page before the reload reported too.
    assert tab.traffic.console_policy == []
    assert tab.traffic.page_errors == []


def test_a_file_that_is_not_a_video_is_refused_in_plain_words_and_leaves_nothing(
    therapist_tab: Tab, tmp_path: Path, video_dirs: dict[str, Path]
) -> None:
    tab = therapist_tab
    notes = tmp_path / "notes.mp4"
    notes.write_text("Things to say in my introduction video:\n- who I work with\n" * 50)
    assert tab.visit(PAGE) == []
    form = first_upload_form(tab)

    form.locator("input[type=file]").set_input_files(str(notes))
    form.get_by_role("button", name="Upload", exact=True).click()
    status = form.locator(".video-upload__status.field-error")
    status.wait_for(timeout=RELOAD_TIMEOUT_MS)

    # The 422 problem detail, word for word.
    assert status.inner_text() == (
        "This file is not a video we can use. Please upload an MP4, MOV or WebM video file."
    )
    assert status.get_attribute("role") == "status"
    # The form is ready for another file; the progress bar is gone.
    assert form.get_by_role("button", name="Upload", exact=True).is_enabled()
    assert form.locator("input[type=file]").is_enabled()
    assert form.locator(".video-upload__progress").is_hidden()
    assert form.get_by_role("button", name="Cancel upload").is_hidden()
    # Nothing left behind: no rows, no partial file, nothing stored, nothing to resume.
    assert not Video.objects.exists()
    assert not VideoUpload.objects.exists()
    assert files_in(video_dirs["uploads"]) == []
    assert files_in(video_dirs["stored"]) == []
    assert tab.page.evaluate("window.localStorage.length") == 0
    assert tab.csp_violations() == []
    assert tab.traffic.console_policy == []
    assert tab.traffic.page_errors == []


def test_an_upload_survives_dropped_connections_and_sends_each_chunk_once(
    therapist_tab: Tab,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tab = therapist_tab
    chunk = 8 * 1024
    # The live server runs in this process, so it hands out (and enforces) the small chunks.
    monkeypatch.setattr(views, "CHUNK_BYTES", chunk)
    # Kept, so the stored original can be compared with what the browser read from disk.
    settings.VIDEO_KEEP_ORIGINALS = True
    clip = make_clip(tmp_path, width=640, height=360, fps=24)
    data = clip.read_bytes()
    assert len(data) > 5 * chunk

    received: list[int] = []  # offsets of the chunks the server wrote, in order
    append = services.video_upload_append

    def recording_append(**kwargs: Any) -> VideoUpload:
        received.append(kwargs["offset"])
        return append(**kwargs)

    monkeypatch.setattr(services, "video_upload_append", recording_append)

    # In the browser: the 2nd chunk is lost on the way out (the server never sees it), and the
    # answer to the 4th is lost on the way back (the server did write it).
    sent: list[int] = []  # offsets of every chunk the script sent, in order

    def drop_two_chunks(route: Route, request: Request) -> None:
        if request.method != "PUT":
            route.fallback()
            return
        sent.append(int(request.headers["upload-offset"]))
        if len(sent) == 2:
            route.abort("connectionreset")
        elif len(sent) == 4:
            route.fetch()
            route.abort("connectionreset")
        else:
            route.fallback()

    tab.page.route(UPLOAD_URL, drop_two_chunks)
    assert tab.visit(PAGE) == []
    form = first_upload_form(tab)

    form.locator("input[type=file]").set_input_files(str(clip))
    form.get_by_role("button", name="Upload", exact=True).click()
    wait_until_ready(tab)

    offsets = list(range(0, len(data), chunk))
    # Chunk 2 went twice from the browser; after the lost answer to chunk 4 the script asked
    # where the upload stood and went on with chunk 5, not chunk 4 again.
    assert sent == [offsets[0], offsets[1], *offsets[1:]]
    assert received == offsets
    said = statuses(upload_feedback(tab))
    assert said.count("Connection lost; trying again in 1 s…") == 2
    assert said[-1] == "Uploaded. We are preparing it for playback; this page will update."

    video = Video.objects.get()
    assert video.state == ProcessingState.READY
    assert video.duration_seconds == pytest.approx(2.0, abs=0.2)
    original = storage.local_path(video.original_name)
    assert original is not None
    assert original.read_bytes() == data
    assert not VideoUpload.objects.exists()
    assert tab.csp_violations() == []
    assert tab.traffic.console_policy == []
    assert tab.traffic.page_errors == []


def test_a_video_still_processing_is_polled_until_it_is_ready(
    therapist_tab: Tab, therapist: TherapistProfile, tmp_path: Path
) -> None:
    tab = therapist_tab
    video = upload_directly(therapist, make_clip(tmp_path).read_bytes())
    Video.objects.filter(pk=video.pk).update(state=ProcessingState.PROCESSING)
    status_url = f"{tab.traffic.origin}/practice/videos/{video.public_id}/status/"

    assert tab.visit(PAGE, until="load") == []
    state = tab.page.locator(f"#video-{video.public_id} [data-video-state]")
    assert state.inner_text().startswith("Processing…")
    assert tab.page.locator(f"#video-{video.public_id} video").count() == 0
    # The worker finishes; the page's next look at the video's status reloads it.
    Video.objects.filter(pk=video.pk).update(state=ProcessingState.READY)
    state.filter(has_text=READY).wait_for(timeout=RELOAD_TIMEOUT_MS)

    assert status_url in tab.traffic.requests
    assert tab.page.locator(f"#video-{video.public_id} video").count() == 1
    assert tab.page.locator("[data-status-url]").count() == 0
    assert tab.csp_violations() == []
    assert tab.traffic.console_policy == []
    assert tab.traffic.page_errors == []


def test_the_video_page_names_every_control_and_fits_a_320_pixel_screen(
    therapist_tab: Tab, therapist: TherapistProfile, tmp_path: Path
) -> None:
    tab = therapist_tab
    page = tab.page
    # One ready video (with its player and tools), and one upload that did not finish.
    upload_directly(therapist, make_clip(tmp_path).read_bytes())
    services.video_upload_start(
        therapist=therapist, prompt=Prompt.values[1], filename="take-two.mp4", size_bytes=1000
    )
    page.set_viewport_size({"width": 320, "height": 640})

    assert tab.visit(PAGE) == []

    assert page.locator("form.video-upload:visible").count() == len(Prompt.values)
    assert page.locator(".video-player video").count() == 1
    assert "did not finish" in page.locator("main").inner_text()
    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # What shows only during an upload (progress bars, Cancel buttons) is named and fits too.
    page.evaluate(
        "document.querySelectorAll('.video-upload [hidden]')"
        ".forEach((element) => { element.hidden = false; })"
    )
    assert page.get_by_label("Upload progress").count() == len(Prompt.values)
    assert page.get_by_role("button", name="Cancel upload").count() == len(Prompt.values)
    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert tab.csp_violations() == []
    assert tab.traffic.page_errors == []
