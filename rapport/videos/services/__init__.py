"""Every change to video introductions: uploads, processing, captions, moderation, deletion.

Files and rows move together. A file the probe refuses leaves neither a partial file nor a row
nor a task; stored files are deleted only after the transaction that forgets them commits (so a
rolled-back change never points at a deleted file), and files stored for a change that then
fails are removed again.

The functions live in one module per concept and are all importable from here:

- ``uploads``: resumable uploads, the probe's check, and clearing abandoned ones;
- ``processing``: the transcode in the task worker, and re-queueing stuck videos;
- ``text``: captions and transcript (on a live video they wait for review);
- ``publication``: moderation (approve, reject) and deletion: what is live.
"""

from rapport.videos.services.processing import (
    GENERIC_FAILURE,
    QUEUED_RESEND_AFTER,
    stuck_videos_requeue,
    video_process,
)
from rapport.videos.services.publication import (
    MAX_REASON_CHARS,
    video_approve,
    video_delete,
    video_reject,
)
from rapport.videos.services.text import (
    MAX_TRANSCRIPT_CHARS,
    video_captions_remove,
    video_captions_set,
    video_transcript_set,
)
from rapport.videos.services.uploads import (
    COPY_BUFFER_BYTES,
    MAX_OPEN_UPLOADS,
    Readable,
    UploadBusy,
    UploadGone,
    UploadOffsetMismatch,
    abandoned_uploads_clear,
    size_label,
    video_upload_abandon,
    video_upload_append,
    video_upload_complete,
    video_upload_start,
)

__all__ = [
    "COPY_BUFFER_BYTES",
    "GENERIC_FAILURE",
    "MAX_OPEN_UPLOADS",
    "MAX_REASON_CHARS",
    "MAX_TRANSCRIPT_CHARS",
    "QUEUED_RESEND_AFTER",
    "Readable",
    "UploadBusy",
    "UploadGone",
    "UploadOffsetMismatch",
    "abandoned_uploads_clear",
    "size_label",
    "stuck_videos_requeue",
    "video_approve",
    "video_captions_remove",
    "video_captions_set",
    "video_delete",
    "video_process",
    "video_reject",
    "video_transcript_set",
    "video_upload_abandon",
    "video_upload_append",
    "video_upload_complete",
    "video_upload_start",
]
