"""How many SMS segments a text takes, and the GSM-7 form of a text for the SMS channel.

An SMS is encoded in GSM-7 when every character is in the GSM 03.38 alphabet, otherwise in
UCS-2. GSM-7: 160 septets in one message; a longer text is split into segments of 153
septets (the rest carries the concatenation header), and the characters of the extension
table (``^{}\\[~]|€`` and form feed) take two septets each, never split across segments.
UCS-2: 70 UTF-16 code units in one message, 67 per segment otherwise; a character outside
the Basic Multilingual Plane (an emoji) takes two units, never split across segments.

Spanish accents á, í, ó, ú are not in GSM-7 (é, ñ, ü, ¿ and ¡ are): one of them turns a whole
alert into UCS-2, more than doubling its segments. ``sms_text`` therefore writes them without
the accent for the SMS channel only (email and push keep the original text): a Spanish alert
stays readable and within two segments.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# Characters outside GSM-7 with a readable GSM-7 form (the rest: accents dropped by NFKD).
_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2026": "...",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2022": "-", "\u00b7": "-",
    "\t": " ", "ç": "c",
}


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)

    @property
    def per_segment(self) -> int:
        if self.encoding == "GSM-7":
            return GSM_SINGLE if self.segments <= 1 else GSM_MULTI
        return UCS2_SINGLE if self.segments <= 1 else UCS2_MULTI


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def _pack(sizes: list[int], single: int, multi: int) -> int:
    """Segments needed for characters of the given sizes, never splitting a character."""
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


def count_segments(text: str) -> SegmentCount:
    if is_gsm7(text):
        sizes = [2 if ch in GSM_EXTENSION else 1 for ch in text]
        return SegmentCount("GSM-7", _pack(sizes, GSM_SINGLE, GSM_MULTI), sum(sizes))
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SegmentCount("UCS-2", _pack(sizes, UCS2_SINGLE, UCS2_MULTI), sum(sizes))


def _to_gsm_char(ch: str) -> str:
    if ch in GSM_BASIC or ch in GSM_EXTENSION:
        return ch
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    stripped = "".join(c for c in unicodedata.normalize("NFKD", ch)
                       if not unicodedata.combining(c))
    return stripped if stripped and is_gsm7(stripped) else ch


@lru_cache(maxsize=64)  # a fan-out sends one text to many: worked out once
def sms_text(text: str) -> str:
    """The text as the SMS channel sends it: in GSM-7 when it can be written in GSM-7 by
    dropping accents and using plain quotes and dashes; otherwise (an emoji, another
    alphabet) unchanged, since it will be UCS-2 anyway and then keeps every accent."""
    if is_gsm7(text):
        return text
    converted = "".join(_to_gsm_char(ch) for ch in text)
    return converted if is_gsm7(converted) else text


def estimated_cost_cents(recipients: int, segments: int, cents_per_segment: float) -> float:
    return recipients * segments * cents_per_segment


def format_dollars(cents: float) -> str:
    """Cents as dollars, rounded up to the cent: an estimate should not undersell."""
    return f"${math.ceil(round(cents, 6)) / 100:,.2f}"
