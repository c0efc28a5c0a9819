"""WebVTT caption validation: what passes, what is refused (and with which line), transcripts."""

from __future__ import annotations

import pytest

from rapport.videos.captions import (
    MAX_CAPTION_BYTES,
    Cue,
    normalised_webvtt,
    parse_webvtt,
    read_caption_upload,
    transcript_from_cues,
)
from rapport.videos.errors import VideoRejected

# Media code with no database behaviour: the PostgreSQL run skips it (Makefile).
pytestmark = pytest.mark.media


def rejected(text: str, **kwargs) -> str:
    with pytest.raises(VideoRejected) as caught:
        parse_webvtt(text, **kwargs)
    assert caught.value.code == "invalid_captions"
    return caught.value.message


# --- valid files ------------------------------------------------------------------------------


def test_minimal_file_without_hours():
    cues = parse_webvtt("WEBVTT\n\n00:01.000 --> 00:04.500\nHello there.\n")
    assert cues == [Cue(start=1.0, end=4.5, text="Hello there.")]


def test_hours_identifiers_settings_notes_and_header():
    text = (
        "WEBVTT - my introduction\n"
        "Kind: captions\n"
        "Language: en\n"
        "\n"
        "NOTE written by hand\n"
        "over two lines\n"
        "\n"
        "STYLE\n"
        "::cue { color: yellow }\n"
        "\n"
        "REGION\n"
        "id:lower width:40%\n"
        "\n"
        "intro\n"
        "00:00:00.000 --> 00:00:02.250 align:start position:10%,line-left line:-2 size:80%\n"
        "Hi, I'm Sam.\n"
        "\n"
        "NOTE\n"
        "a comment between cues\n"
        "\n"
        "2\n"
        "01:00:02.250 --> 101:00:05.000 vertical:rl region:lower\n"
        "I work with couples\n"
        "and families.\n"
    )
    cues = parse_webvtt(text)
    assert cues == [
        Cue(start=0.0, end=2.25, text="Hi, I'm Sam."),
        Cue(start=3602.25, end=101 * 3600 + 5.0, text="I work with couples\nand families."),
    ]


def test_markup_and_entities_are_stripped():
    text = (
        "WEBVTT\n\n"
        "00:01.000 --> 00:02.000\n"
        "<v Dr. Sam Lee><i>Therapy</i> &amp; <c.loud>you</c>&nbsp;&lt;3 "
        "<00:00:01.500>today&gt;</v>\n"
    )
    assert parse_webvtt(text)[0].text == "Therapy & you <3 today>"


def test_timing_without_spaces_around_arrow_and_equal_starts():
    text = "WEBVTT\n\n00:01.000-->00:02.000\nOne\n\n00:01.000 -->\t00:03.000\nTwo\n"
    assert [cue.text for cue in parse_webvtt(text)] == ["One", "Two"]


def test_blank_lines_with_spaces_separate_blocks():
    text = "WEBVTT\n   \n00:01.000 --> 00:02.000\nOne\n \t\n00:03.000 --> 00:04.000\nTwo"
    assert [cue.text for cue in parse_webvtt(text)] == ["One", "Two"]


def test_upload_with_bom_and_crlf():
    data = "\ufeffWEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\nCafé\r\n".encode()
    text = read_caption_upload(data)
    assert text == "WEBVTT\n\n00:01.000 --> 00:02.000\nCafé\n"
    assert parse_webvtt(text) == [Cue(start=1.0, end=2.0, text="Café")]


def test_parse_accepts_bom_and_cr_line_breaks_directly():
    text = "\ufeffWEBVTT\r00:00.000 --> 00:00.500\rx"  # old Mac line breaks, no blank line
    assert "Line 2" in rejected(text)  # still parsed line by line
    assert parse_webvtt("\ufeffWEBVTT\r\r00:00.000 --> 00:00.500\rx")[0].text == "x"


def test_cue_within_duration_and_ending_after_it_is_fine():
    text = "WEBVTT\n\n00:09.000 --> 00:12.000\nLast words\n"
    assert parse_webvtt(text, duration_seconds=10.0)[0].end == 12.0
    assert parse_webvtt(text, duration_seconds=9.0)[0].start == 9.0


# --- invalid files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Line 1: the caption file must start with the word WEBVTT"),
        ("webvtt\n\n00:01.000 --> 00:02.000\nx", "starts with “webvtt”"),
        ("WEBVTTX\n\n00:01.000 --> 00:02.000\nx", "Line 1:"),
        ("1\n00:00:01,000 --> 00:00:02,000\nHello\n", "looks like an SRT caption file"),
        ("WEBVTT\n00:01.000 --> 00:02.000\nx", "Line 2: leave an empty line"),
        ("WEBVTT\n\n", "has no captions in it"),
        ("WEBVTT\n\nNOTE only a note\n", "has no captions in it"),
    ],
)
def test_structure_errors(text, expected):
    assert expected in rejected(text)


def test_cue_ends_before_it_starts_names_line_and_times():
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne\n\nid\n00:00:05.000 --> 00:00:04.000\nx"
    assert rejected(text) == (
        "Line 7: the cue ends before it starts (00:00:05.000 --> 00:00:04.000)."
    )


def test_cue_ending_when_it_starts():
    assert "Line 3: the cue ends at the moment it starts" in rejected(
        "WEBVTT\n\n00:01.000 --> 00:01.000\nx"
    )


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        ("00:00:01,000 --> 00:00:02,000", "comma before the milliseconds"),
        ("00:01.00 --> 00:02.000", "exactly three digits of milliseconds"),
        ("00:01.0000 --> 00:02.000", "exactly three digits of milliseconds"),
        ("0:01.000 --> 00:02.000", "two digits each"),
        ("1:00:01.000 --> 1:00:02.000", "hours with two digits"),
        ("00:60.000 --> 01:00.000", "above 59"),
        ("00:00:01.000 --> 00:61:00.000", "above 59"),
        ("one --> two", "is not a time"),
        ("00:01.000 --> 00:02.000align:start", "leave a space after the end time 00:02.000"),
        ("00:01.000 --> 00:02.000 Hello there", "“Hello” after the times is not"),
        ("00:01.000 --> 00:02.000 align:sideways", "“align:sideways” has a value"),
        ("00:01.000 --> 00:02.000 size:", "“size:” has a value"),
        ("00:01.000 --> 00:02.000 vertical", "“vertical” after the times is not"),
    ],
)
def test_timing_line_errors(timing, expected):
    message = rejected(f"WEBVTT\n\n{timing}\nHello\n")
    assert message.startswith("Line 3: ")
    assert expected in message


def test_cues_out_of_order():
    text = "WEBVTT\n\n00:05.000 --> 00:06.000\nLater\n\n00:03.000 --> 00:04.000\nEarlier\n"
    assert rejected(text) == (
        "Line 6: this caption starts at 00:03.000, earlier than the caption before it "
        "(00:05.000). Captions must be in time order."
    )


def test_cue_without_text():
    assert "Line 3: this caption has no text" in rejected(
        "WEBVTT\n\n00:01.000 --> 00:02.000\n\n00:03.000 --> 00:04.000\nx"
    )
    # Only markup: nothing a viewer would see.
    assert "Line 4: this caption has no text" in rejected(
        "WEBVTT\n\nid\n00:01.000 --> 00:02.000\n<v Sam></v>\n"
    )


def test_arrow_in_cue_text_means_a_missing_blank_line():
    text = "WEBVTT\n\n1\n00:01.000 --> 00:02.000\nOne\n2\n00:03.000 --> 00:04.000\nTwo\n"
    assert "Line 7: a caption's text cannot contain “-->”" in rejected(text)


def test_arrow_in_note_block():
    text = "WEBVTT\n\nNOTE\n00:01.000 --> 00:02.000\nx\n"
    assert "Line 4: a NOTE block cannot contain “-->”" in rejected(text)


def test_text_outside_any_cue():
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\nOne\n\nstray words\n"
    assert "Line 6: this text is not part of any caption" in rejected(text)


def test_cue_starting_after_video_end():
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\nOne\n\n01:05.000 --> 01:06.000\nLate\n"
    assert rejected(text, duration_seconds=62.4) == (
        "Line 6: this caption starts at 01:05.000, after the video has ended "
        "(the video is 1:02 long)."
    )


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ufffe"])
def test_binary_characters(character):
    text = f"WEBVTT\n\n00:01.000 --> 00:02.000\nHel{character}lo\n"
    assert rejected(text).startswith("Line 4: the file contains characters")


def test_oversized_text():
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\n" + "x" * MAX_CAPTION_BYTES
    assert "too large" in rejected(text)


# --- uploads ----------------------------------------------------------------------------------


def test_upload_over_the_size_cap():
    with pytest.raises(VideoRejected) as caught:
        read_caption_upload(b"WEBVTT\n\n" + b"x" * MAX_CAPTION_BYTES)
    assert caught.value.code == "invalid_captions"
    assert "too large" in caught.value.message


def test_upload_exactly_at_the_cap_is_read():
    data = b"WEBVTT\n\n" + b"x" * (MAX_CAPTION_BYTES - 8)
    assert len(read_caption_upload(data)) == MAX_CAPTION_BYTES


@pytest.mark.parametrize(
    "data",
    [
        "WEBVTT\n\n00:01.000 --> 00:02.000\nCaf\xe9\n".encode("latin-1"),
        "WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n".encode("utf-16"),
        b"WEBVTT\n\n00:01.000 --> 00:02.000\n\xed\xa0\x80\n",  # an encoded surrogate
    ],
)
def test_upload_not_utf8(data):
    with pytest.raises(VideoRejected) as caught:
        read_caption_upload(data)
    assert caught.value.code == "invalid_captions"
    assert "UTF-8" in caught.value.message


def test_upload_not_utf8_names_the_line():
    data = b"WEBVTT\n\n00:01.000 --> 00:02.000\nCaf\xe9\n"
    with pytest.raises(VideoRejected) as caught:
        read_caption_upload(data)
    assert caught.value.message.startswith("Line 4: ")


# --- transcript and normalised output ---------------------------------------------------------


def test_transcript_joins_lines_merges_repeats_and_breaks_on_pauses():
    cues = [
        Cue(0.0, 2.0, "Hello, I'm Sam."),
        Cue(2.0, 4.0, "Hello, I'm Sam.\nI work with couples"),  # roll-up captions repeat
        Cue(4.0, 6.0, "I work with couples\nand  families."),
        Cue(9.0, 11.0, "Book a first call."),  # a three-second pause: a new paragraph
        Cue(11.5, 12.0, "Book a first call."),
    ]
    assert transcript_from_cues(cues) == (
        "Hello, I'm Sam. I work with couples and families.\n\nBook a first call."
    )


def test_transcript_of_nothing():
    assert transcript_from_cues([]) == ""


def test_transcript_from_parsed_file():
    text = (
        "WEBVTT\n\n"
        "00:00.000 --> 00:01.500\n<v Sam>Welcome &amp; hello.</v>\n\n"
        "00:01.500 --> 00:03.000\n<i>Let's talk.</i>\n"
    )
    assert transcript_from_cues(parse_webvtt(text)) == "Welcome & hello. Let's talk."


def test_normalised_webvtt_round_trips():
    cues = [
        Cue(1.5, 4.0, "Fish & chips <3"),
        Cue(3725.001, 3726.0, "Two\nlines"),
    ]
    text = normalised_webvtt(cues)
    assert text.startswith("WEBVTT\n\n00:00:01.500 --> 00:00:04.000\nFish &amp; chips &lt;3\n")
    assert "01:02:05.001 --> 01:02:06.000\nTwo\nlines\n" in text
    assert parse_webvtt(text) == cues


def test_character_references_cannot_smuggle_line_breaks_into_the_stored_file():
    cues = parse_webvtt("WEBVTT\n\n00:00.000 --> 00:01.000\nhello&#10;&#10;NOTE&#13;x\n")
    assert cues[0].text == "hello NOTE x"
    stored = normalised_webvtt(cues)
    assert stored == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello NOTE x\n"
    assert parse_webvtt(stored) == cues
