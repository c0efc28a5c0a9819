"""Video pages: the therapist's video page and its resumable-upload endpoints, and playback.

The upload protocol (used by static/videos/upload.js; JSON in, JSON or problem+json out):

- ``POST   /practice/videos/uploads/`` ``{"prompt", "filename", "size"}`` → 201 with the
  upload's address, where it stands (``offset``) and the chunk size to use; 200 with the same
  when part of this file (prompt, name, size) arrived before: it resumes, from any device;
- ``PUT    <upload>`` with ``Upload-Offset: n`` and the next bytes as the body → 200 with the
  new offset; 409 with the expected ``offset`` when the chunk does not start there or another
  request is busy with the upload;
- ``GET    <upload>`` → where it stands, to resume after a dropped connection or a reload;
- ``POST   <upload>complete/`` → 201 once the file passed the checks (the video is queued);
  422 with the reason when the file is refused (the upload is gone then) or not finished (it
  is kept); 409 while busy;
- ``DELETE <upload>`` → 204 (409 while busy).
Any of them → 404 for an upload that is not the signed-in therapist's, or no longer exists.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.core.problems import problem_response
from rapport.videos import access, selectors, services
from rapport.videos.captions import read_caption_upload
from rapport.videos.errors import VideoRejected
from rapport.videos.forms import CaptionsForm, TranscriptForm
from rapport.videos.models import Video, VideoUpload
from rapport.videos.serving import stored_file_response

# The browser sends the file in pieces this big: small enough that a dropped connection loses
# little, large enough that the per-request overhead stays small.
CHUNK_BYTES = 8 * 2**20
# Stored names never change, so the browser may keep a file; briefly, as access can change (a
# video taken down, a listing hidden), and privately, as it was an access-checked answer.
PLAYBACK_MAX_AGE = 300
# Announcing an upload is a few dozen bytes of JSON.
MAX_START_BODY_BYTES = 4096

# --- the therapist's page ------------------------------------------------------------------


@login_required
@require_safe
def practice_videos(request: HttpRequest) -> HttpResponse:
    therapist = access.get_video_therapist(request.user)
    return render(
        request,
        "videos/practice_videos.html",
        {
            "therapist": therapist,
            "groups": selectors.therapist_videos_by_prompt(therapist=therapist),
            "max_upload_mb": settings.VIDEO_MAX_UPLOAD_BYTES // 2**20,
            "max_upload_bytes": settings.VIDEO_MAX_UPLOAD_BYTES,
            "max_minutes": settings.VIDEO_MAX_DURATION_SECONDS // 60,
            "captions_form": CaptionsForm(),
        },
    )


@require_POST
def video_captions(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    video = access.get_video_for_owner(request.user, public_id)
    form = CaptionsForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            text = read_caption_upload(form.cleaned_data["captions"].read())
            saved = services.video_captions_set(video=video, webvtt=text)
        except VideoRejected as refused:
            form.add_error("captions", refused.message)
        else:
            return _text_saved(request, saved, "Captions saved.")
    return _video_form_page(request, video, captions_form=form)


@require_POST
def video_captions_remove(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    video = access.get_video_for_owner(request.user, public_id)
    services.video_captions_remove(video=video)
    messages.success(request, "Captions removed.")
    return redirect(_video_anchor(video))


@require_POST
def video_transcript(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    video = access.get_video_for_owner(request.user, public_id)
    form = TranscriptForm(request.POST)
    if form.is_valid():
        try:
            saved = services.video_transcript_set(
                video=video, transcript=form.cleaned_data["transcript"]
            )
        except VideoRejected as refused:
            form.add_error("transcript", refused.message)
        else:
            return _text_saved(request, saved, "Transcript saved.")
    return _video_form_page(request, video, transcript_form=form)


def _text_saved(request: HttpRequest, video: Video, saved: str) -> HttpResponse:
    # A live video's text changes wait for review (services._TextDraft): say so, not "done".
    messages.success(
        request,
        f"{saved} It shows on your profile once our staff approve it."
        if video.has_pending_text
        else saved,
    )
    return redirect(_video_anchor(video))


@require_POST
def video_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    video = access.get_video_for_owner(request.user, public_id)
    services.video_delete(video=video)
    messages.success(request, f"Video deleted: {video.get_prompt_display()}")
    return redirect("videos:practice_videos")


@require_safe
def video_status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The state of one video, for the page to poll while it is processing."""
    video = access.get_video_for_owner(request.user, public_id)
    return JsonResponse(_video_json(video))


def _video_form_page(
    request: HttpRequest,
    video: Video,
    *,
    captions_form: CaptionsForm | None = None,
    transcript_form: TranscriptForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "videos/video_edit.html",
        {
            "video": video,
            "captions_form": captions_form or CaptionsForm(),
            "transcript_form": transcript_form
            or TranscriptForm(initial={"transcript": video.transcript}),
        },
        status=400,
    )


def _video_anchor(video: Video) -> str:
    return reverse("videos:practice_videos") + f"#video-{video.public_id}"


def _video_json(video: Video) -> dict[str, object]:
    return {
        "id": str(video.public_id),
        "prompt": video.prompt,
        "state": video.state,
        "state_label": video.get_state_display(),
        "review": video.review,
        "review_label": video.get_review_display(),
        "failure_reason": video.failure_reason,
        "is_published": video.is_published,
        "status_url": reverse("videos:video_status", args=[video.public_id]),
    }


# --- resumable uploads ---------------------------------------------------------------------


@require_POST
def upload_start(request: HttpRequest) -> HttpResponse:
    therapist = access.get_video_therapist(request.user)
    if len(request.body) > MAX_START_BODY_BYTES:
        return problem_response(status=413, title="Request too large")
    try:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise TypeError
        prompt, filename, size = body["prompt"], body.get("filename", ""), body["size"]
        if not isinstance(prompt, str) or not isinstance(filename, str):
            raise TypeError
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        return problem_response(
            status=400,
            title="Malformed request",
            detail='Send JSON: {"prompt": "...", "filename": "...", "size": <bytes>}.',
        )
    try:
        upload = services.video_upload_start(
            therapist=therapist, prompt=prompt, filename=filename, size_bytes=size
        )
    except VideoRejected as refused:
        return _refusal(refused)
    # 200: part of this file arrived before (the same file announced again resumes).
    return JsonResponse(_upload_json(upload), status=200 if upload.received_bytes else 201)


@require_http_methods(["GET", "HEAD", "PUT", "DELETE"])
def upload_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    upload = access.get_upload_for_owner(request.user, public_id)
    if request.method == "DELETE":
        try:
            services.video_upload_abandon(upload=upload)
        except services.UploadBusy:
            return _busy(upload)
        return HttpResponse(status=204)
    if request.method == "PUT":
        return _upload_append(request, upload)
    return JsonResponse(_upload_json(upload))


def _upload_append(request: HttpRequest, upload: VideoUpload) -> HttpResponse:
    try:
        offset = int(request.headers["Upload-Offset"])
        length = int(request.headers["Content-Length"])
        if offset < 0 or length < 0:
            raise ValueError
    except (KeyError, ValueError):
        return problem_response(
            status=400,
            title="Malformed chunk",
            detail="Send the chunk with Upload-Offset and Content-Length headers.",
        )
    if length > CHUNK_BYTES:
        return problem_response(
            status=413,
            title="Chunk too large",
            detail=f"Send the file in pieces of at most {CHUNK_BYTES} bytes.",
        )
    try:
        # request.read streams the body (limited to Content-Length) without buffering it.
        services.video_upload_append(upload=upload, offset=offset, stream=request, length=length)
    except services.UploadOffsetMismatch as mismatch:
        return problem_response(
            status=409,
            title="Upload continues elsewhere",
            detail=str(mismatch),
            offset=mismatch.expected,
        )
    except services.UploadBusy:
        return _busy(upload)
    except services.UploadGone:
        return _gone()
    except VideoRejected as refused:
        return _refusal(refused)
    return JsonResponse(_upload_json(upload))


@require_POST
def upload_cancel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The page's own button for an upload that did not finish (no script needed)."""
    upload = access.get_upload_for_owner(request.user, public_id)
    try:
        services.video_upload_abandon(upload=upload)
    except services.UploadBusy:
        messages.error(request, "That upload is still being received; try again in a moment.")
    else:
        messages.success(request, f"Upload cancelled: {upload.filename or 'your file'}.")
    return redirect("videos:practice_videos")


@require_POST
def upload_complete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    upload = access.get_upload_for_owner(request.user, public_id)
    try:
        video = services.video_upload_complete(upload=upload)
    except services.UploadBusy:
        return _busy(upload)
    except services.UploadGone:
        return _gone()
    except VideoRejected as refused:
        return _refusal(refused)
    return JsonResponse(_video_json(video), status=201)


def _busy(upload: VideoUpload) -> HttpResponse:
    return problem_response(
        status=409,
        title="Upload busy",
        detail="Another request is working on this file right now; wait for it to finish.",
        offset=upload.received_bytes,
    )


def _gone() -> HttpResponse:
    return problem_response(
        status=404,
        title="No such upload",
        detail="This upload was finished or cancelled meanwhile.",
    )


def _refusal(refused: VideoRejected) -> HttpResponse:
    status = 413 if refused.code == "too_big" else 422
    return problem_response(
        status=status, title="Video not accepted", detail=refused.message, code=refused.code
    )


def _upload_json(upload: VideoUpload) -> dict[str, object]:
    return {
        "id": str(upload.public_id),
        "prompt": upload.prompt,
        "filename": upload.filename,
        "size": upload.size_bytes,
        "offset": upload.received_bytes,
        "chunk_bytes": CHUNK_BYTES,
        "upload_url": reverse("videos:upload_detail", args=[upload.public_id]),
        "complete_url": reverse("videos:upload_complete", args=[upload.public_id]),
    }


# --- playback ------------------------------------------------------------------------------


@require_safe
def video_media(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    video = access.get_video_for_viewer(request.user, public_id)
    return _stored_file(request, video.media_name, content_type="video/mp4")


@require_safe
def video_poster(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    video = access.get_video_for_viewer(request.user, public_id)
    return _stored_file(request, video.poster_name, content_type="image/jpeg")


def _stored_file(request: HttpRequest, name: str, *, content_type: str) -> HttpResponseBase:
    if not name:
        return problem_response(status=404, title="Not ready", detail="Still processing.")
    return stored_file_response(
        request, name=name, content_type=content_type, max_age=PLAYBACK_MAX_AGE
    )


@require_safe
def video_captions_track(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    video = access.get_video_for_viewer(request.user, public_id)
    if not video.captions_vtt:
        return problem_response(status=404, title="No captions")
    response = HttpResponse(video.captions_vtt, content_type="text/vtt; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response
