"""Taking phone numbers and email addresses out of text that is stored or logged: a
provider's error message often names the recipient ("The 'To' number +1213… is not valid")."""

from __future__ import annotations

import re

# Digits with the separators people write: a phone number when it has ten digits or more,
# or eight or more after a "+". Provider error codes (21211, 30005) and HTTP statuses stay.
_DIGITS = re.compile(r"\+?\(?\d(?:[ ().-]{0,2}\d)+")
_EMAIL = re.compile(r"[^\s@<>\"'(),;:]+@[^\s@<>\"'(),;:]+\.[^\s@<>\"'(),;:]+")


def _number(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(c.isdigit() for c in found)
    if digits >= 10 or (found.startswith("+") and digits >= 8):
        return "[number]"
    return found


def scrub(text: str) -> str:
    return _DIGITS.sub(_number, _EMAIL.sub("[email]", text))
