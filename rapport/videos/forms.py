from __future__ import annotations

from django import forms

from rapport.core.forms import AccessibleForm
from rapport.videos.captions import MAX_CAPTION_BYTES
from rapport.videos.models import ReviewState
from rapport.videos.services import MAX_REASON_CHARS, MAX_TRANSCRIPT_CHARS


class CaptionsForm(AccessibleForm):
    captions = forms.FileField(
        label="Caption file (WebVTT, .vtt)",
        help_text="Most editing apps and caption services can export WebVTT.",
        widget=forms.ClearableFileInput(attrs={"accept": ".vtt,text/vtt"}),
    )

    def clean_captions(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["captions"]
        # Refused before reading: the caption parser never sees more than the cap.
        if upload.size > MAX_CAPTION_BYTES:
            raise forms.ValidationError(
                f"The caption file is larger than {MAX_CAPTION_BYTES // 1024} KB."
            )
        return upload


class TranscriptForm(AccessibleForm):
    transcript = forms.CharField(
        label="Transcript",
        required=False,
        max_length=MAX_TRANSCRIPT_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Shown under the video for people who prefer to read.",
    )


class ReviewDecisionForm(AccessibleForm):
    decision = forms.ChoiceField(
        choices=[
            (ReviewState.APPROVED, "Approve: show it on the profile"),
            (ReviewState.REJECTED, "Do not approve (or take it down)"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        required=False,
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required when not approving. The therapist reads it.",
    )
