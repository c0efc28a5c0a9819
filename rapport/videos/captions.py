"""Caption files: validating WebVTT uploads and turning their cues into a transcript.

The checks follow the *syntax* section of the W3C WebVTT specification (the file a conforming
author writes), which is stricter than the spec's error-tolerant parsing algorithm: browsers
silently drop or merge broken cues, and a therapist would only find out when a viewer does. So a
file either passes here and plays as written, or is refused with a message that names the line
and says, in plain words, what to change.

Structure checked (WebVTT §4.1, "WebVTT file structure"):

* line 1 is ``WEBVTT``, optionally followed by a space or tab and any text;
* optional header lines, up to the first blank line;
* blocks separated by blank lines: ``NOTE`` comments, ``STYLE`` and ``REGION`` definitions
  (all skipped), and cues;
* a cue is an optional identifier line, a timing line
  ``[hh:]mm:ss.ttt --> [hh:]mm:ss.ttt [settings]`` and one or more lines of text;
* ``-->`` appears only on timing lines.

Beyond the syntax, a caption track for one short video must have at least one cue, cues in time
order, each ending after it starts, none starting after the video has ended, and every cue must
have visible text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from rapport.videos.errors import VideoRejected

MAX_CAPTION_BYTES = 256 * 1024

# A pause between cues at least this long starts a new transcript paragraph.
PARAGRAPH_PAUSE_SECONDS = 2.0

_CODE = "invalid_captions"
_BOM = "\ufeff"
_ARROW = "-->"

# Control characters never appear in a text file a person wrote; they mean the upload is a
# binary file (or a mis-encoded one). Tab and form feed are WebVTT whitespace; CR/LF are line
# breaks (normalised before this check). C1 controls and noncharacters are equally invisible.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")

# WebVTT timestamp (§4.5): hours are optional and then at least two digits; minutes and seconds
# exactly two digits, 00–59; exactly three digits of milliseconds after a full stop.
_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMESTAMP_RE = re.compile(rf"^{_TIMESTAMP}$")
# The spec's syntax asks for whitespace around the arrow; every parser (and so every browser)
# skips it optionally, so a file without it plays exactly as written and is accepted.
_TIMING_RE = re.compile(r"^(\S+?)[ \t]*-->[ \t]*(\S+)(.*)$")

# Cue text markup (§4.2.2 / the cue text tokenizer): a tag runs from "<" to the next ">" or to
# the end of the text; that covers <v Speaker>, <i>, <c.class>, <ruby>, <lang en> and the
# karaoke timestamps <00:00:01.000>.
_TAG_RE = re.compile(r"<[^>]*(?:>|$)")
_SPACES_RE = re.compile(r"[ \t\f\u00a0]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_PERCENT_RE = r"(?:\d+(?:\.\d+)?%)"
# Cue settings (§4.4): name:value pairs separated by whitespace. "auto" for line and position
# and "middle" for align are older drafts' spellings that tools still write; players ignore a
# value they do not know, so those are harmless and accepted.
_SETTING_VALUES: dict[str, re.Pattern[str]] = {
    "vertical": re.compile(r"^(?:rl|lr)$"),
    "line": re.compile(rf"^(?:{_PERCENT_RE}|-?\d+|auto)(?:,(?:start|center|end))?$"),
    "position": re.compile(rf"^(?:{_PERCENT_RE}|auto)(?:,(?:line-left|center|line-right))?$"),
    "size": re.compile(rf"^{_PERCENT_RE}$"),
    "align": re.compile(r"^(?:start|center|middle|end|left|right)$"),
    "region": re.compile(r"^\S+$"),
}

_EXAMPLE_TIMING = "00:00:01.000 --> 00:00:04.000"


@dataclass(frozen=True)
class Cue:
    """One caption: shown from ``start`` to ``end`` (seconds); ``text`` without markup tags,
    entities decoded, its lines joined with newlines."""

    start: float
    end: float
    text: str


def _reject(message: str) -> VideoRejected:
    return VideoRejected(message, code=_CODE)


def _line_reject(number: int, message: str) -> VideoRejected:
    return _reject(f"Line {number}: {message}")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_caption_upload(data: bytes) -> str:
    """The text of an uploaded caption file: at most MAX_CAPTION_BYTES, strict UTF-8 (a
    leading byte-order mark is allowed and dropped), line breaks normalised to LF.

    Raises VideoRejected(code="invalid_captions") when the file is too large or not UTF-8.
    """
    if len(data) > MAX_CAPTION_BYTES:
        raise _reject(
            f"The caption file is too large ({_kilobytes(len(data))}). Caption files for a "
            f"short video are much smaller; the limit is {_kilobytes(MAX_CAPTION_BYTES)}."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _line_reject(
            line,
            "the caption file is not saved as UTF-8 text. Save it again choosing the "
            "“UTF-8” encoding (most caption editors and text editors offer it).",
        ) from None
    return _normalise_newlines(text)


def _kilobytes(size: int) -> str:
    return f"{size / 1024:,.0f} KB"


def _timestamp_ms(value: str) -> int | None:
    match = _TIMESTAMP_RE.match(value)
    if match is None:
        return None
    hours, minutes, seconds, millis = match.groups()
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def _timestamp_problem(value: str) -> str:
    """Why ``value`` is not a WebVTT timestamp, in words a caption author can act on."""
    if re.fullmatch(r"(?:\d+:)?\d+:\d+,\d+", value):
        return (
            f"“{value}” uses a comma before the milliseconds (that is the SRT format); "
            "WebVTT needs a full stop, as in 00:00:01.000."
        )
    parts = re.fullmatch(r"(?:(\d+):)?(\d+):(\d+)\.(\d+)", value)
    if parts is None:
        return f"“{value}” is not a time. Times are written like 00:01.500 or 00:00:01.500."
    hours, minutes, seconds, millis = parts.groups()
    if len(millis) != 3:
        return (
            f"“{value}” must have exactly three digits of milliseconds after the full stop "
            "(for example 00:00:01.500)."
        )
    if hours is not None and len(hours) < 2:
        return f"“{value}” must write the hours with two digits (for example 01:02:03.000)."
    if len(minutes) != 2 or len(seconds) != 2:
        return (
            f"“{value}” must write the minutes and seconds with two digits each "
            "(for example 00:05.000, not 0:5.000)."
        )
    return f"“{value}” has minutes or seconds above 59."


def _clock(ms: int) -> str:
    """A time for a message: 1:05 or 1:02:03 (no milliseconds: people read it)."""
    total = ms // 1000
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def _check_settings(number: int, settings: str) -> None:
    for token in settings.split():
        name, colon, value = token.partition(":")
        pattern = _SETTING_VALUES.get(name)
        if not colon or pattern is None:
            raise _line_reject(
                number,
                f"“{token}” after the times is not a caption setting. Only settings such as "
                "align:center or line:90% may follow the times; the caption's words go on the "
                "next line.",
            )
        if not pattern.match(value):
            raise _line_reject(
                number, f"the caption setting “{token}” has a value players do not understand."
            )


def _parse_timing(number: int, line: str) -> tuple[int, int]:
    """Start and end (milliseconds) of a cue timing line; the settings are checked too."""
    match = _TIMING_RE.match(line)
    if match is None:
        raise _line_reject(number, f"this should be a timing line like “{_EXAMPLE_TIMING}”.")
    start_text, end_text, rest = match.groups()
    glued = re.match(_TIMESTAMP, end_text)
    if glued is not None and end_text[glued.end() :][:1].isalpha():
        # "00:04.000align:start": the settings need whitespace before them.
        raise _line_reject(
            number, f"leave a space after the end time {glued.group(0)} and before the rest."
        )
    start = _timestamp_ms(start_text)
    if start is None:
        raise _line_reject(number, _timestamp_problem(start_text))
    end = _timestamp_ms(end_text)
    if end is None:
        raise _line_reject(number, _timestamp_problem(end_text))
    _check_settings(number, rest)
    if end < start:
        raise _line_reject(number, f"the cue ends before it starts ({start_text} --> {end_text}).")
    if end == start:
        raise _line_reject(
            number,
            f"the cue ends at the moment it starts ({start_text} --> {end_text}), so it would "
            "never be shown.",
        )
    return start, end


def _visible_text(line: str) -> str:
    """A cue text line as a viewer reads it: tags removed, entities decoded, spaces tidied."""
    text = html.unescape(_TAG_RE.sub("", line))
    # A character reference may decode to a line break or another control character (&#10;);
    # as a space it cannot start a new block (a NOTE, a timing line) when the text is written
    # back out.
    text = _CONTROL_RE.sub(" ", text)
    return _SPACES_RE.sub(" ", text).strip()


def _blocks(lines: list[str], first: int) -> list[list[tuple[int, str]]]:
    """Groups of consecutive non-blank lines from index ``first``, with their line numbers.

    A line of only spaces counts as blank: it looks blank to the person who wrote the file,
    and the error that follows (text outside any cue) explains the consequence better than
    a cue silently swallowing the next one would.
    """
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for index in range(first, len(lines)):
        line = lines[index]
        if line.strip(" \t\f"):
            current.append((index + 1, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _block_keyword(line: str) -> str | None:
    """NOTE, STYLE or REGION when ``line`` opens such a block (§4.1)."""
    if line == "NOTE" or line.startswith(("NOTE ", "NOTE\t")):
        return "NOTE"
    stripped = line.rstrip(" \t")
    if stripped in ("STYLE", "REGION"):
        return stripped
    return None


def _check_signature(lines: list[str]) -> None:
    first = lines[0] if lines else ""
    if first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t")):
        return
    if re.fullmatch(r"\d+", first.strip()) and len(lines) > 1 and "," in lines[1]:
        raise _line_reject(
            1,
            "this looks like an SRT caption file. Please convert it to WebVTT (.vtt) – most "
            "caption editors can export WebVTT – and upload that instead.",
        )
    if not first.strip():
        raise _line_reject(
            1,
            "the caption file must start with the word WEBVTT on its first "
            "line, but the first line is empty.",
        )
    shown = first if len(first) <= 40 else first[:40] + "…"
    raise _line_reject(
        1, f"the caption file must start with the word WEBVTT, but it starts with “{shown}”."
    )


def parse_webvtt(text: str, *, duration_seconds: float | None = None) -> list[Cue]:
    """The cues of a WebVTT caption file, or VideoRejected(code="invalid_captions") with a
    message naming the line and the problem.

    ``duration_seconds``, when known, is the video's length: a cue starting after it could
    never be shown. ``text`` may still carry a byte-order mark and CR/CRLF line breaks.
    """
    if len(text) > MAX_CAPTION_BYTES:
        raise _reject(
            f"The caption file is too large; the limit is {_kilobytes(MAX_CAPTION_BYTES)}."
        )
    text = _normalise_newlines(text.removeprefix(_BOM))
    binary = _BINARY.search(text)
    if binary is not None:
        raise _line_reject(
            text.count("\n", 0, binary.start()) + 1,
            "the file contains characters that do not belong in a text file. Is it really a "
            "WebVTT caption file (.vtt)?",
        )
    lines = text.split("\n")
    _check_signature(lines)

    # The header runs from the signature to the first blank line.
    index = 1
    while index < len(lines) and lines[index].strip(" \t\f"):
        if _ARROW in lines[index]:
            raise _line_reject(
                index + 1,
                "leave an empty line between the WEBVTT line (and any header lines after it) "
                "and the first caption.",
            )
        index += 1

    duration_ms = None if duration_seconds is None else round(duration_seconds * 1000)
    cues: list[Cue] = []
    previous_start = -1
    previous_start_text = ""
    for block in _blocks(lines, index):
        first_number, first_line = block[0]
        keyword = _block_keyword(first_line)
        if keyword is not None:
            for number, line in block:
                if _ARROW in line:
                    raise _line_reject(
                        number,
                        f"a {keyword} block cannot contain “-->”. Is an empty line missing "
                        "before this caption?",
                    )
            continue

        if _ARROW in first_line:
            timing_number, timing_line, text_lines = first_number, first_line, block[1:]
        elif len(block) > 1 and _ARROW in block[1][1]:
            # The first line is the cue's identifier.
            timing_number, timing_line = block[1]
            text_lines = block[2:]
        else:
            raise _line_reject(
                first_number,
                "this text is not part of any caption: each caption needs a timing line like "
                f"“{_EXAMPLE_TIMING}” right above its text. (An empty line ends a caption, so "
                "a caption's lines must not have empty lines between them.)",
            )

        start, end = _parse_timing(timing_number, timing_line)
        start_text = timing_line.split(_ARROW, 1)[0].strip()
        if start < previous_start:
            raise _line_reject(
                timing_number,
                f"this caption starts at {start_text}, earlier than the caption before it "
                f"({previous_start_text}). Captions must be in time order.",
            )
        if duration_ms is not None and start > duration_ms:
            raise _line_reject(
                timing_number,
                f"this caption starts at {start_text}, after the video has ended (the video is "
                f"{_clock(duration_ms)} long).",
            )
        visible: list[str] = []
        for number, line in text_lines:
            if _ARROW in line:
                raise _line_reject(
                    number,
                    "a caption's text cannot contain “-->”. Is an empty line missing before "
                    "this line?",
                )
            words = _visible_text(line)
            if words:
                visible.append(words)
        if not visible:
            raise _line_reject(
                timing_number,
                "this caption has no text. Write its words on the line after the times, or "
                "remove the caption.",
            )
        cues.append(Cue(start=start / 1000, end=end / 1000, text="\n".join(visible)))
        previous_start, previous_start_text = start, start_text

    if not cues:
        raise _reject(
            "The caption file has no captions in it: after the WEBVTT line there must be at "
            f"least one caption, a timing line like “{_EXAMPLE_TIMING}” followed by its text."
        )
    return cues


def transcript_from_cues(cues: list[Cue]) -> str:
    """The captions as plain text paragraphs (separated by a blank line).

    Lines are joined with spaces; a pause of PARAGRAPH_PAUSE_SECONDS or more between captions
    starts a new paragraph. A line identical to the one just before it is dropped: "roll-up"
    captions (as speech-recognition tools export them) repeat the previous line in every cue.
    """
    paragraphs: list[list[str]] = []
    previous_line: str | None = None
    previous_end: float | None = None
    for cue in cues:
        if previous_end is None or cue.start - previous_end >= PARAGRAPH_PAUSE_SECONDS:
            paragraphs.append([])
        previous_end = cue.end if previous_end is None else max(previous_end, cue.end)
        for raw in cue.text.split("\n"):
            line = _SPACES_RE.sub(" ", raw).strip()
            if not line or line == previous_line:
                continue
            paragraphs[-1].append(line)
            previous_line = line
    return "\n\n".join(" ".join(lines) for lines in paragraphs if lines)


def _timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    total, millis = divmod(ms, 1000)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def normalised_webvtt(cues: list[Cue]) -> str:
    """A clean WebVTT file holding just ``cues``: no header text, comments, styles, regions,
    settings or markup. Text is escaped so it reads back exactly (``parse_webvtt`` of the
    result gives the same cues), which makes it safe to store and serve as-is."""
    parts = ["WEBVTT", ""]
    for cue in cues:
        parts.append(f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}")
        parts.extend(
            line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            for line in cue.text.split("\n")
        )
        parts.append("")
    return "\n".join(parts)
