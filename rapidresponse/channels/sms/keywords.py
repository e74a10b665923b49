"""Reading what people text: keywords (case- and accent-insensitive, English and Spanish),
the language of a free text, and rough structured guesses from a report's words."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum


class Keyword(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    SPANISH = "es"
    ENGLISH = "en"
    YES = "yes"


# The whole message must be the keyword (after normalising), as carriers do.
KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(["stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit",
                     "revoke", "optout", "opt out", "alto", "parar", "baja", "no mas"],
                    Keyword.OPT_OUT),
    **dict.fromkeys(["start", "unstop", "alta"], Keyword.OPT_IN),
    **dict.fromkeys(["help", "info", "ayuda"], Keyword.HELP),
    "espanol": Keyword.SPANISH,
    "english": Keyword.ENGLISH,
    **dict.fromkeys(["yes", "si"], Keyword.YES),
}
# Keywords that tell us the sender writes Spanish (to answer a stranger in their language).
SPANISH_WORDS = {"alto", "parar", "baja", "no mas", "alta", "ayuda", "si", "espanol"}


def fold(text: str) -> str:
    """Lower case, no accents, words separated by single spaces, no punctuation."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def keyword_of(text: str) -> tuple[Keyword | None, str]:
    """The keyword the whole message is, if any, and the language it is in ("" if both)."""
    folded = fold(text)
    found = KEYWORDS.get(folded)
    if found is None:
        return None, ""
    if found in (Keyword.SPANISH, Keyword.ENGLISH):
        return found, found.value
    return found, "es" if folded in SPANISH_WORDS else "en"


_ES = {"hay", "la", "el", "los", "las", "en", "esta", "estan", "migra", "agentes", "policia",
       "calle", "esquina", "con", "por", "que", "una", "un", "mi", "casa", "trabajo", "hola",
       "ahorita", "aqui", "cerca", "patrulla", "carros", "camionetas", "donde", "vi",
       "unos", "unas", "muchos", "llevaron", "detuvieron", "arrestaron", "del", "frente",
       "tienda", "escuela", "y", "de", "son", "ayer", "hoy", "gente", "oficiales"}
_EN = {"the", "is", "are", "at", "on", "in", "and", "agents", "police", "street", "near",
       "there", "hi", "hello", "car", "cars", "trucks", "outside", "my", "of", "they",
       "some", "saw", "arrested", "detained", "front", "store", "school", "people", "van",
       "vans", "officers", "corner", "by", "with", "today", "now", "here", "where"}
_ES_LETTERS = set("ñáíóú¿¡")


def guess_language(text: str, default: str) -> str:
    """English or Spanish, from the words of a text; `default` when it cannot tell."""
    if any(ch in _ES_LETTERS for ch in text.lower()):
        return "es"
    words = fold(text).split()
    es = sum(1 for w in words if w in _ES)
    en = sum(1 for w in words if w in _EN)
    if es > en:
        return "es"
    if en > es:
        return "en"
    return default


# Rough guesses for the structured fields of an SMS report; a dispatcher checks them.
_ACTIVITY_WORDS = [
    ("arrests", ("arrest", "detain", "detuv", "arrest", "llevaron", "se llevan", "esposad",
                 "handcuff", "took", "taking")),
    ("checkpoint", ("checkpoint", "reten", "traffic stop", "punto de control", "pulled over",
                    "paran carros", "revision")),
    ("home", ("door", "puerta", "casa", "house", "home", "apartment", "departamento",
              "tocando")),
    ("workplace", ("work", "trabajo", "factory", "fabrica", "job", "car wash", "carwash",
                   "restaurant", "restaurante", "obra")),
    ("staging", ("staging", "gathering", "reuniendo", "juntando", "estacionad", "parked")),
    ("patrol", ("patrol", "patrull", "waiting", "esperando", "driving", "rondando")),
]
_AGENCY_WORDS = [
    ("ice", ("ice", "migra", "inmigracion", "immigration")),
    ("cbp", ("cbp", "border patrol", "patrulla fronteriza", "border")),
    ("hsi", ("hsi", "homeland")),
    ("police", ("police", "policia", "sheriff", "lapd", "cop")),
    ("unmarked", ("unmarked", "plain clothes", "sin identificacion", "civil", "sin placas")),
]


def _has(folded: str, stem: str) -> bool:
    return re.search(rf"(^| ){re.escape(stem)}", folded) is not None


def guess_activity(text: str) -> str:
    folded = fold(text)
    for activity, stems in _ACTIVITY_WORDS:
        if any(_has(folded, stem) for stem in stems):
            return activity
    return "other"


def guess_agency(text: str) -> str:
    folded = fold(text)
    for agency, stems in _AGENCY_WORDS:
        if any(re.search(rf"(^| ){re.escape(stem)}( |$)", folded) for stem in stems):
            return agency
    return "unknown"


def guess_size(text: str) -> int | None:
    """The number of agents, when the text says "5 agents" / "5 agentes"."""
    match = re.search(r"(^| )(\d{1,3}) (agent|agente|oficial|officer|hombre|men|people|person"
                      r"|personas|ice|migra)", fold(text))
    if not match:
        return None
    value = int(match.group(2))
    return value if 1 <= value <= 1000 else None
