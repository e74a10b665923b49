"""The app icons, drawn here (no image files from elsewhere): a white exclamation mark in a
white ring on the network's red. The PNGs in web/static/web/icons/ were made with

    python -m rapidresponse.channels.push.icons rapidresponse/web/static/web/icons
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

RED = (0xB3, 0x26, 0x1E)
WHITE = (0xFF, 0xFF, 0xFF)

#: file name -> (size in pixels, how much of the square the drawing fills, background?)
ICONS: dict[str, tuple[int, float, bool]] = {
    "icon-192.png": (192, 0.9, True),
    "icon-512.png": (512, 0.9, True),
    # Maskable: launchers crop to a circle or a squircle; keep the drawing in the middle 60%.
    "icon-maskable-512.png": (512, 0.62, True),
    # The small monochrome badge Android shows in the status bar: white on transparent.
    "badge-96.png": (96, 1.0, False),
}


def png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int, int]]
        ) -> bytes:
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # no filter
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def _coverage(distance: float) -> float:
    """How much of a pixel a shape covers, from the signed distance to its edge."""
    return min(1.0, max(0.0, 0.5 - distance))


def _rounded_box(px: float, py: float, cx: float, cy: float, hw: float, hh: float,
                 r: float) -> float:
    qx, qy = abs(px - cx) - hw + r, abs(py - cy) - hh + r
    return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - r


def draw(size: int, scale: float, background: bool) -> bytes:
    c = size / 2
    unit = size * scale / 2  # the drawing's radius

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        px, py = x + 0.5, y + 0.5
        ring = abs(math.hypot(px - c, py - c) - unit * 0.86) - unit * 0.07
        bar = _rounded_box(px, py, c, c - unit * 0.16, unit * 0.09, unit * 0.34, unit * 0.09)
        dot = math.hypot(px - c, py - (c + unit * 0.42)) - unit * 0.11
        ink = _coverage(min(ring, bar, dot) * 1.0)
        if background:
            r, g, b = (round(RED[i] + (WHITE[i] - RED[i]) * ink) for i in range(3))
            return (r, g, b, 255)
        return (*WHITE, round(255 * ink))

    return png(size, size, pixel)


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (size, scale, background) in ICONS.items():
        path = folder / name
        path.write_bytes(draw(size, scale, background))
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for written_path in write_all(Path(sys.argv[1])):
        print(written_path)
