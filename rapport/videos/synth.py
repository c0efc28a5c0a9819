"""Short introduction clips made on this machine, for the demo data, the tests and the bench.

Nothing is downloaded and no stock footage is shipped: each clip is a slowly drifting colour
wash with a title card drawn by Pillow and a soft chord underneath, encoded by PyAV as a real
H.264/AAC MP4 that browsers play. The same ``seed`` always gives the same colours and chord,
so a seeded demo looks the same on every machine.
"""

from __future__ import annotations

import colorsys
import math
import random
import unicodedata
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rapport.videos.captions import Cue, normalised_webvtt

AUDIO_RATE = 48_000
# Samples per AAC frame: generating audio in exactly these chunks lets the encoder take each
# chunk as it is, with no re-chunking behind the scenes.
AUDIO_FRAME_SAMPLES = 1024
# Semitone steps of a major triad; the root moves with the seed so demo clips sound different.
_CHORD_STEPS = (0, 4, 7)


def synthesise_clip(
    path: Path,
    *,
    title: str,
    subtitle: str = "",
    seconds: float = 8.0,
    width: int = 640,
    height: int = 360,
    fps: int = 24,
    seed: int = 0,
    with_audio: bool = True,
) -> None:
    """Write a playable H.264 (+ AAC unless ``with_audio`` is false) MP4 to ``path``."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    if width < 16 or height < 16 or width % 2 or height % 2:
        # yuv420p halves the chroma planes, so odd sizes cannot be encoded exactly.
        raise ValueError("width and height must be even and at least 16")
    if fps <= 0:
        raise ValueError("fps must be positive")

    chooser = random.Random(seed)
    hue = chooser.random()
    luma, blue, red = _colour_strip(width=width, height=height, hue=hue, chooser=chooser)
    card = _title_card(width=width, height=height, title=title, subtitle=subtitle)
    frame_count = max(1, round(seconds * fps))
    # How far the wash drifts over the whole clip: the strip is wider than the frame by this.
    travel = luma.shape[1] - width

    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        video = output.add_stream(
            "libx264",
            rate=fps,
            options={"preset": "veryfast", "crf": "23", "tune": "stillimage"},
        )
        video.width = width
        video.height = height
        video.pix_fmt = "yuv420p"
        video.codec_context.gop_size = fps * 2

        audio = None
        if with_audio:
            audio = output.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            audio.codec_context.bit_rate = 128_000

        chord = _chord_frequencies(chooser)
        total_samples = round(seconds * AUDIO_RATE)
        samples_written = 0
        for index in range(frame_count):
            # A slow cosine sweep (there and back) reads as calm, unlike a constant scroll.
            # The offset stays even so the half-size colour planes move with the brightness.
            phase = 0.5 - 0.5 * math.cos(2 * math.pi * index / max(frame_count, 2))
            offset = 2 * round(phase * travel / 2)
            planes = _composite(luma, blue, red, offset=offset, width=width, card=card)
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(video.encode(frame))

            if audio is not None:
                # Keep the audio up with the picture so the muxer can interleave as it goes.
                wanted = min(total_samples, round((index + 1) * AUDIO_RATE / fps))
                while samples_written < wanted:
                    count = min(AUDIO_FRAME_SAMPLES, total_samples - samples_written)
                    block = _chord_block(
                        chord, start=samples_written, count=count, total=total_samples
                    )
                    sound = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
                    sound.sample_rate = AUDIO_RATE
                    sound.pts = samples_written
                    sound.time_base = Fraction(1, AUDIO_RATE)
                    output.mux(audio.encode(sound))
                    samples_written += count

        output.mux(video.encode(None))
        if audio is not None:
            output.mux(audio.encode(None))


def synthesise_webvtt(*, seconds: float, lines: list[str]) -> str:
    """A WebVTT caption track that shows ``lines`` one after another, evenly over ``seconds``
    (written by the same code that stores therapists' captions, so it is escaped alike)."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    texts = [" ".join(line.split()) for line in lines]
    texts = [text for text in texts if text]
    span = seconds / max(len(texts), 1)
    return normalised_webvtt(
        [
            Cue(
                start=number * span,
                end=seconds if number == len(texts) - 1 else (number + 1) * span,
                text=text,
            )
            for number, text in enumerate(texts)
        ]
    )


def _colour_strip(
    *, width: int, height: int, hue: float, chooser: random.Random
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A band of soft colour, half again as wide as the frame, to pan across, as the three
    planes of yuv420p (brightness full size, the two colour planes half size each way).

    Built once and in the encoder's own pixel format: every frame is then a slice of it, with
    no per-frame colour conversion, which is what keeps synthesis well under real time.
    """
    strip_width = width + 2 * (width // 4)
    stops = [
        colorsys.hsv_to_rgb((hue + shift) % 1.0, 0.35 + 0.2 * chooser.random(), 0.55 + 0.3 * shade)
        for shift, shade in ((0.0, 0.8), (0.08, 0.4), (0.16, 0.9), (0.04, 0.5))
    ]
    positions = np.linspace(0.0, 1.0, len(stops))
    across = np.linspace(0.0, 1.0, strip_width)
    row = np.stack(
        [np.interp(across, positions, [stop[channel] for stop in stops]) for channel in range(3)],
        axis=-1,
    )
    # A gentle vertical vignette so the middle, where the text sits, is the brightest.
    down = np.linspace(-1.0, 1.0, height)
    rgb = row[None, :, :] * (1.0 - 0.25 * down**2)[:, None, None]
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # BT.601 limited range, what players assume for untagged standard-definition video.
    luma = 16 + 219 * (0.299 * red + 0.587 * green + 0.114 * blue)
    blue_difference = 128 + 224 * (-0.168736 * red - 0.331264 * green + 0.5 * blue)
    red_difference = 128 + 224 * (0.5 * red - 0.418688 * green - 0.081312 * blue)
    return (
        _to_plane(luma),
        _to_plane(_halved(blue_difference)),
        _to_plane(_halved(red_difference)),
    )


def _halved(plane: np.ndarray) -> np.ndarray:
    """Each 2×2 block averaged: the chroma subsampling of yuv420p."""
    return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) / 4


def _to_plane(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


class _Card:
    """The title text as coverage masks (full and half size) over the smallest even-aligned
    box that holds it."""

    def __init__(self, *, top: int, left: int, mask: np.ndarray) -> None:
        self.top = top
        self.left = left
        self.mask = mask
        self.half_mask = _halved(mask)


def _title_card(*, width: int, height: int, title: str, subtitle: str) -> _Card | None:
    if not title.strip() and not subtitle.strip():
        return None
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    title_font = ImageFont.load_default(size=max(10, height // 9))
    subtitle_font = ImageFont.load_default(size=max(8, height // 18))
    margin = width // 12
    blocks = [
        (line, title_font)
        for line in _wrapped(
            _drawable(title, title_font), font=title_font, limit=width - 2 * margin, draw=draw
        )
    ]
    blocks += [
        (line, subtitle_font)
        for line in _wrapped(
            _drawable(subtitle, subtitle_font),
            font=subtitle_font,
            limit=width - 2 * margin,
            draw=draw,
        )
    ]
    gap = height // 40
    heights = [_line_height(font) for _, font in blocks]
    y = (height - sum(heights) - gap * (len(blocks) - 1)) // 2
    for (line, font), line_height in zip(blocks, heights, strict=True):
        line_width = draw.textlength(line, font=font)
        draw.text(((width - line_width) / 2, y), line, font=font, fill=255)
        y += line_height + gap
    mask = np.asarray(canvas)
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    # Even edges, so the box maps exactly onto the half-size colour planes.
    top, bottom = int(rows[0]) & ~1, min(height, (int(rows[-1]) + 2) & ~1)
    left, right = int(columns[0]) & ~1, min(width, (int(columns[-1]) + 2) & ~1)
    coverage = mask[top:bottom, left:right].astype(np.float32) / 255.0
    return _Card(top=top, left=left, mask=coverage)


# Dashes the default font lacks (and that have no plainer Unicode form), as a hyphen.
_PLAIN = str.maketrans({"—": "-", "–": "-", "‒": "-", "−": "-"})


def _drawable(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """``text`` with the characters the font has no glyph for replaced, so a name such as
    "Zoë" shows as "Zoe" instead of an empty box.

    Pillow's default font covers little beyond ASCII. A character is missing when it draws
    exactly like one that no font has; it then loses its accents (NFKD), or becomes "?".
    """
    missing = bytes(font.getmask("\uffff"))

    def has_glyph(character: str) -> bool:
        return character.isspace() or bytes(font.getmask(character)) != missing

    characters: list[str] = []
    for character in text.translate(_PLAIN):
        if has_glyph(character):
            characters.append(character)
            continue
        plain = "".join(
            part
            for part in unicodedata.normalize("NFKD", character)
            if not unicodedata.combining(part)
        )
        characters.append(plain if plain and all(map(has_glyph, plain)) else "?")
    return "".join(characters)


def _line_height(font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    _, top, _, bottom = font.getbbox("Ag")
    return int(bottom - top) + 2


def _wrapped(
    text: str,
    *,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    limit: int,
    draw: ImageDraw.ImageDraw,
) -> list[str]:
    """``text`` broken into lines no wider than ``limit`` pixels (a long word stays whole)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and draw.textlength(candidate, font=font) > limit:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _composite(
    luma: np.ndarray,
    blue: np.ndarray,
    red: np.ndarray,
    *,
    offset: int,
    width: int,
    card: _Card | None,
) -> np.ndarray:
    """One frame as the (height × 3/2, width) array PyAV takes for yuv420p."""
    height = luma.shape[0]
    half = offset // 2
    frame = np.empty((height * 3 // 2, width), dtype=np.uint8)
    # PyAV reads that array as one flat buffer: the brightness plane, then each quarter-size
    # colour plane in turn, so the colour planes are written through flat views.
    flat = frame.reshape(-1)
    area = width * height
    planes = (
        flat[area : area + area // 4].reshape(height // 2, width // 2),
        flat[area + area // 4 :].reshape(height // 2, width // 2),
    )
    frame[:height] = luma[:, offset : offset + width]
    planes[0][...] = blue[:, half : half + width // 2]
    planes[1][...] = red[:, half : half + width // 2]
    if card is None:
        return frame
    # Warm white text: brightness goes up to near peak, colour towards neutral.
    box_height, box_width = card.mask.shape
    bright = frame[card.top : card.top + box_height, card.left : card.left + box_width]
    bright[...] = (bright * (1.0 - card.mask) + 232.0 * card.mask).astype(np.uint8)
    top, left = card.top // 2, card.left // 2
    for plane, neutral in zip(planes, (126.0, 130.0), strict=True):
        box = plane[top : top + box_height // 2, left : left + box_width // 2]
        box[...] = (box * (1.0 - card.half_mask) + neutral * card.half_mask).astype(np.uint8)
    return frame


def _chord_frequencies(chooser: random.Random) -> list[float]:
    root = 196.0 * 2 ** (chooser.randrange(0, 7) / 12)  # somewhere from G3 up a fifth
    return [root * 2 ** (step / 12) for step in _CHORD_STEPS]


def _chord_block(chord: list[float], *, start: int, count: int, total: int) -> np.ndarray:
    """``count`` stereo samples of the chord from sample ``start``, as planar float32."""
    index = np.arange(start, start + count, dtype=np.float64)
    moment = index / AUDIO_RATE
    wave = sum(np.sin(2 * math.pi * frequency * moment) for frequency in chord)
    # Half-second fades at both ends, so the clip neither clicks on nor cuts off.
    fade = AUDIO_RATE // 2
    envelope = np.minimum(1.0, np.minimum(index / fade, (total - index) / fade))
    # A slow swell, so the chord breathes rather than drones.
    swell = 0.8 + 0.2 * np.sin(2 * math.pi * 0.25 * moment)
    mono = (0.12 / len(chord)) * wave * envelope * swell
    # A touch of width: the right channel a little softer on the highest note.
    right = mono - (0.02 / len(chord)) * np.sin(2 * math.pi * chord[-1] * moment) * envelope
    return np.stack([mono, right]).astype(np.float32)
