"""What an upload is, found from its content (magic bytes, Pillow, ffprobe), never from its
name or the type the client claims; and the shared copy of it, without metadata."""

from __future__ import annotations

import json
import shutil
import subprocess  # ffprobe and ffmpeg, with fixed arguments, never a shell  # nosec B404
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from rapidresponse.evidence.models import Kind

# Pictures we take, by Pillow's name of the format: the shared copy's format and type.
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "JPEG"), "PNG": ("image/png", "PNG"),
                 "WEBP": ("image/webp", "PNG"), "GIF": ("image/gif", "PNG")}
SHARED_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
TOOL_TIMEOUT_S = 300


class Refused(Exception):
    """An upload we do not keep: `status` (400, 413, 415) and a message for the person."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Found:
    kind: str
    content_type: str
    extension: str


def _media_type(head: bytes) -> Found | None:
    """Video and audio containers by their magic bytes."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Found(Kind.AUDIO, "audio/mp4", "m4a")
        if brand == b"qt  ":
            return Found(Kind.VIDEO, "video/quicktime", "mov")
        if brand.startswith(b"3g"):
            return Found(Kind.VIDEO, "video/3gpp", "3gp")
        return Found(Kind.VIDEO, "video/mp4", "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Found(Kind.VIDEO, "video/webm", "webm")
    if head.startswith(b"OggS"):
        return Found(Kind.AUDIO, "audio/ogg", "ogg")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return Found(Kind.AUDIO, "audio/wav", "wav")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF
                                   and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return Found(Kind.AUDIO, "audio/mpeg", "mp3")
    if head.startswith(b"#!AMR"):
        return Found(Kind.AUDIO, "audio/amr", "amr")
    if head.startswith(b"fLaC"):
        return Found(Kind.AUDIO, "audio/flac", "flac")
    return None


def open_image(source: BinaryIO) -> Image.Image | None:
    """The picture, checked against EVIDENCE_MAX_PIXELS (None: not a picture)."""
    source.seek(0)
    Image.MAX_IMAGE_PIXELS = settings.EVIDENCE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            if image.format not in IMAGE_FORMATS:
                return None
            if image.width * image.height > settings.EVIDENCE_MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused(400, _("This picture is too large: at most %(n)s million pixels.")
                      % {"n": settings.EVIDENCE_MAX_PIXELS // 1_000_000}) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return None
    return image


def identify(source: BinaryIO, on_disk: Callable[[], str]
             ) -> tuple[Found, Image.Image | None]:
    """What the upload is, by its content; Refused(415) for anything else. `on_disk()`: the
    path of the upload as a file, for ffprobe (asked only for video and audio)."""
    source.seek(0)
    head = source.read(64)
    image = open_image(source)
    if image is not None:
        content_type, _shared = IMAGE_FORMATS[str(image.format)]
        return Found(Kind.PHOTO, content_type, str(image.format).lower().replace(
            "jpeg", "jpg")), image
    found = _media_type(head)
    if found is not None and shutil.which("ffprobe"):
        streams = probe(on_disk())
        if streams is None:
            found = None
        elif found.kind == Kind.VIDEO and "video" not in streams:
            found = Found(Kind.AUDIO, found.content_type.replace("video/", "audio/"),
                          found.extension) if "audio" in streams else None
        elif not streams & {"video", "audio"}:
            found = None
    if found is None:
        raise Refused(415, _("This file is not a photo, video or audio recording we can "
                             "read (JPEG, PNG, WebP, GIF, MP4, MOV, 3GP, WebM, Ogg, MP3, "
                             "M4A, WAV, AMR, FLAC)."))
    return found, None


def probe(path: str) -> set[str] | None:
    """The kinds of stream ffprobe finds in the file (None: it cannot read it)."""
    ffprobe = shutil.which("ffprobe")
    assert ffprobe is not None
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell  # nosec B603
            [ffprobe, "-v", "error", "-show_entries", "stream=codec_type", "-of", "json",
             path], capture_output=True, timeout=TOOL_TIMEOUT_S, check=False)
        if done.returncode != 0:
            return None
        streams = json.loads(done.stdout or b"{}").get("streams", [])
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return {str(s.get("codec_type")) for s in streams}


def shared_picture(image: Image.Image, original_format: str, out: BinaryIO) -> str:
    """The picture re-encoded into `out` from its pixels alone: no EXIF, GPS, XMP, comment
    or colour profile comes along (it is turned upright first, since the orientation tag
    goes too). Its content type."""
    upright = ImageOps.exif_transpose(image) or image
    target = IMAGE_FORMATS[original_format][1]
    if target == "JPEG":
        mode = "RGB"
    else:
        mode = "RGBA" if "A" in upright.getbands() or upright.mode == "P" else "RGB"
    converted = upright.convert(mode)
    # A new image from the pixels: Pillow carries `info` (comments, XMP) through convert().
    clean = Image.frombytes(mode, converted.size, converted.tobytes())
    if target == "JPEG":
        clean.save(out, "JPEG", quality=90)
    else:
        clean.save(out, "PNG")
    return SHARED_TYPES[target]


def has_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def stripped_media(source: str, target: Path, extension: str) -> bool:
    """Copy the video and audio streams of `source` into `target` without the container's
    or the streams' metadata (`-map_metadata -1 -c copy`); False when ffmpeg could not."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell  # nosec B603
            # Video and audio only: data tracks (a phone's timed location) and subtitles stay out.
            [ffmpeg, "-nostdin", "-v", "error", "-y", "-i", source, "-map", "0:v?",
             "-map", "0:a?", "-dn", "-sn", "-map_metadata", "-1", "-map_chapters", "-1",
             "-c", "copy",
             "-f", FFMPEG_FORMATS.get(extension, extension), str(target)],
            capture_output=True, timeout=TOOL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and target.exists() and target.stat().st_size > 0


FFMPEG_FORMATS = {"m4a": "ipod", "3gp": "3gp", "mp4": "mp4", "mov": "mov", "webm": "webm",
                  "ogg": "ogg", "mp3": "mp3", "wav": "wav", "amr": "amr", "flac": "flac"}
