"""English and Spanish everywhere a neighbour or a staff member reads something.

Pages, form errors, API errors and the alert texts are checked in both languages, and the
catalog itself is checked: every marked string translated, nothing fuzzy, placeholders kept,
and the committed .mo compiled from the current .po.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from gettext import GNUTranslations
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.translation.template import templatize

from rapidresponse.alerts.compose import compose
from rapidresponse.delivery.models import ConsoleMessage
from rapidresponse.incidents.models import Incident
from rapidresponse.incidents.queries import facts_of
from rapidresponse.lib import geo
from rapidresponse.members.models import Member
from tests.conftest import BOYLE, NEAR

SOURCE = Path(settings.BASE_DIR)
PO = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\{\s*\w+\s*\}\}")

# page -> (English text, Spanish text) only that page shows.
PAGES = {
    "/": ("Report activity", "Reportar actividad"),
    "/report/": ("Report immigration activity", "Reportar actividad de inmigración"),
    "/join/": ("Get verified alerts", "Recibir alertas verificadas"),
    "/leave/": ("Enter the phone number or email address you signed up with.",
                "Escriba el número de teléfono o el correo electrónico con el que se inscribió."),
    "/rights/": ("You have the right to remain silent.",
                 "Usted tiene derecho a guardar silencio."),
    "/map/": ("Verified activity", "Actividad verificada"),
}


def text_of(response: Any) -> str:
    return response.content.decode()


# --- pages -------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("path", list(PAGES))
def test_public_page_is_in_spanish_for_a_spanish_browser(client: Any, path: str) -> None:
    english, spanish = PAGES[path]
    r = client.get(path, **SPANISH)
    assert r.status_code == 200
    assert spanish in text_of(r)
    assert english not in text_of(r)
    assert '<html lang="es">' in text_of(r)


@pytest.mark.django_db
@pytest.mark.parametrize("path", list(PAGES))
def test_public_page_is_in_english_otherwise(client: Any, path: str) -> None:
    english, spanish = PAGES[path]
    r = client.get(path, **ENGLISH)
    assert r.status_code == 200
    assert english in text_of(r)
    assert spanish not in text_of(r)
    assert '<html lang="en">' in text_of(r)


@pytest.mark.django_db
def test_language_switch_keeps_spanish_for_later_pages(client: Any) -> None:
    r = client.post("/i18n/setlang/", {"language": "es", "next": "/rights/"}, **ENGLISH)
    assert r.status_code == 302
    # The browser still asks for English: the choice made on the site wins.
    r = client.get("/", **ENGLISH)
    assert "Reportar actividad" in text_of(r)


@pytest.mark.django_db
def test_each_page_offers_the_other_language(client: Any) -> None:
    english_page = text_of(client.get("/", **ENGLISH))
    spanish_page = text_of(client.get("/", **SPANISH))
    assert 'value="es" lang="es">Español</button>' in english_page
    assert 'value="en" lang="en">English</button>' in spanish_page


@pytest.mark.django_db
def test_spanish_rights_page_is_legally_accurate(client: Any) -> None:
    page = text_of(client.get("/rights/", **SPANISH))
    assert "Usted tiene derecho a guardar silencio." in page
    assert "No abra la puerta." in page
    assert "orden firmada por un juez" in page
    assert "sin importar su estatus migratorio" in page
    assert settings.HOTLINE_NUMBER in page


@pytest.mark.django_db
def test_missing_page_is_explained_in_spanish(client: Any) -> None:
    r = client.get("/no-such-page/", **SPANISH)
    assert r.status_code == 404
    assert "Página no encontrada" in text_of(r)


# --- form errors --------------------------------------------------------------------------

@pytest.mark.django_db
def test_report_errors_come_back_in_spanish(client: Any) -> None:
    r = client.post("/report/", {"size": "muchos"}, **SPANISH)
    assert r.status_code == 400
    page = text_of(r)
    assert "Por favor revise los campos marcados abajo." in page
    assert "Diga dónde: marque un punto en el mapa" in page
    assert "Elija lo que vio." in page
    assert "Escriba un número entero." in page
    assert "Choose what you saw." not in page
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_report_errors_come_back_in_english_otherwise(client: Any) -> None:
    r = client.post("/report/", {}, **ENGLISH)
    assert r.status_code == 400
    assert "Choose what you saw." in text_of(r)
    assert "Elija lo que vio." not in text_of(r)


@pytest.mark.django_db
def test_join_errors_come_back_in_spanish(client: Any) -> None:
    r = client.post("/join/", {"phone": "123"}, **SPANISH)
    assert r.status_code == 400
    page = text_of(r)
    assert "Por favor acepte recibir alertas." in page
    assert "Este número de teléfono no es válido." in page or \
        "Esto no es un número de teléfono." in page
    assert "Elija un lugar en el mapa o un vecindario." in page
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_spanish_visitor_who_joins_gets_the_code_in_spanish(client: Any, deliver: Any) -> None:
    r = client.post("/join/", {
        "phone": "+12135550177", "channels": "sms", "consent": "yes",
        "latitude_1": NEAR[0], "longitude_1": NEAR[1], "radius_1": "1000", "label_1": "home",
    }, **SPANISH)
    assert r.status_code == 302, text_of(r)
    member = Member.objects.get()
    assert member.language == "es"
    deliver()
    message = ConsoleMessage.objects.get(member=member)
    assert message.language == "es"
    assert "su código para recibir alertas es" in message.text


# --- API errors ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_api_invalid_report_is_explained_in_spanish(client: Any) -> None:
    r = client.post("/api/v1/reports", {"activity": "dancing"},
                    content_type="application/json", **SPANISH)
    assert r.status_code == 400
    body = r.json()
    assert body["detail"] == "Algunos campos no son válidos."
    assert body["errors"]["activity"] == "Elija lo que vio."
    assert body["errors"]["location"].startswith("Diga dónde")


@pytest.mark.django_db
def test_api_invalid_report_is_explained_in_english_otherwise(client: Any) -> None:
    r = client.post("/api/v1/reports", {"activity": "dancing"},
                    content_type="application/json", **ENGLISH)
    assert r.status_code == 400
    assert r.json()["errors"]["activity"] == "Choose what you saw."


@pytest.mark.django_db
def test_api_wrong_types_are_explained_per_field_in_spanish(client: Any) -> None:
    r = client.post("/api/v1/reports", {"latitude": BOYLE[0], "size": "muchos"},
                    content_type="application/json", **SPANISH)
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "Algunos campos no son válidos."
    assert body["errors"] == {"activity": "Este campo es obligatorio.",
                              "size": "Escriba un número entero."}


@pytest.mark.django_db
def test_api_body_that_is_not_json_is_explained_in_spanish(client: Any) -> None:
    r = client.post("/api/v1/reports", "{not json", content_type="application/json",
                    **SPANISH)
    assert r.status_code == 400
    assert r.json()["detail"] == "El contenido de la solicitud no es JSON válido."


@pytest.mark.django_db
def test_api_missing_token_is_explained_in_spanish(client: Any) -> None:
    r = client.get("/api/v1/incidents/1/alerts", **SPANISH)
    assert r.status_code == 401
    assert r.json()["detail"].startswith("Primero inicie sesión")


# --- staff pages --------------------------------------------------------------------------

@pytest.mark.django_db
def test_console_and_timeline_are_in_spanish_for_a_spanish_dispatcher(dispatcher: Any,
                                                                      zone: Any) -> None:
    r = dispatcher.client.post("/api/v1/reports", {"latitude": BOYLE[0],
                                                   "longitude": BOYLE[1],
                                                   "activity": "arrests", "agency": "ice"},
                               content_type="application/json")
    incident_id = r.json()["incident_id"]
    console = text_of(dispatcher.client.get("/console/", **SPANISH))
    assert "Consola de despacho" in console
    assert "Arrestos o detenciones" in console
    assert "Reportado" in console
    page = text_of(dispatcher.client.get(f"/console/incidents/{incident_id}/", **SPANISH))
    assert "Incidente creado" in page
    assert "incident.created" not in page


# --- alert texts --------------------------------------------------------------------------

def make_incident(zone: Any, **fields: Any) -> Incident:
    now = timezone.now()
    values: dict[str, Any] = {"cell": geo.cell_for(*BOYLE, 9), "zone": zone,
                              "activity": "arrests", "agency": "ice", "first_seen_at": now,
                              "last_report_at": now}
    values.update(fields)
    return Incident.objects.create(**values)


@pytest.mark.django_db
def test_spanish_alert_is_spanish_and_has_the_hotline(zone: Any) -> None:
    bodies = compose("alert", facts_of(make_incident(zone)))
    es, en = bodies["es"]["text"], bodies["en"]["text"]
    assert es != en
    assert es.startswith("VERIFICADO: Agentes de inmigración (ICE) cerca de Boyle Heights")
    assert "guardar silencio" in es
    assert "no abrir la puerta sin orden firmada por un juez" in es
    assert settings.HOTLINE_NUMBER in es
    assert bodies["es"]["subject"] == "Alerta verificada: Boyle Heights"


@pytest.mark.django_db
@pytest.mark.parametrize("kind,start", [
    ("all_clear", "ALERTA TERMINADA en Boyle Heights"),
    ("correction", "CORRECCIÓN: FALSA ALARMA en Boyle Heights"),
])
def test_spanish_follow_ups_say_what_they_are(zone: Any, kind: str, start: str) -> None:
    text = compose(kind, facts_of(make_incident(zone)))["es"]["text"]
    assert text.startswith(start)
    assert settings.HOTLINE_NUMBER in text


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["alert", "all_clear", "correction"])
def test_spanish_sms_is_about_as_short_as_english(zone: Any, kind: str) -> None:
    incident = make_incident(zone, cross_streets="Cesar Chavez Ave & Soto St")
    bodies = compose(kind, facts_of(incident))
    assert len(bodies["es"]["text"]) <= len(bodies["en"]["text"]) * 1.05


@pytest.mark.django_db
def test_spanish_drill_is_marked_as_a_drill(zone: Any) -> None:
    text = compose("alert", facts_of(make_incident(zone, is_drill=True)))["es"]["text"]
    assert text.startswith("[SIMULACRO - SOLO PRÁCTICA] VERIFICADO:")


# --- the catalog --------------------------------------------------------------------------

@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def _unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), text.strip()[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: enough for the catalogs makemessages writes."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] = ("", 0)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if current is not None and not line:
                entries.append(current)
                current = None
            continue
        if current is None:
            current = Entry(line=number)
        if line.startswith("#,"):
            current.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$', line)
        if match:
            key, index, value = match.group(1), int(match.group(2) or 0), match.group(3)
            target = (key, index)
            if key == "msgstr":
                current.msgstr[index] = ""
            else:
                setattr(current, key, "")
            line = value
        key, index = target
        if key == "msgstr":
            current.msgstr[index] += _unquote(line)
        else:
            setattr(current, key, (getattr(current, key) or "") + _unquote(line))
    if current is not None:
        entries.append(current)
    return entries


@pytest.fixture(scope="module")
def catalog() -> list[Entry]:
    if not PO.exists():
        pytest.skip(f"no Spanish catalog at {PO}: run `make messages`")
    return [e for e in parse_po(PO) if e.msgid]


def test_catalog_has_no_untranslated_or_fuzzy_entries(catalog: list[Entry]) -> None:
    untranslated = [e.msgid for e in catalog
                    if not e.msgstr or any(not text for text in e.msgstr.values())]
    fuzzy = [e.msgid for e in catalog if "fuzzy" in e.flags]
    assert len(catalog) > 200
    assert untranslated == []
    assert fuzzy == []


def test_catalog_header_is_spanish_with_plural_forms() -> None:
    if not PO.exists():
        pytest.skip(f"no Spanish catalog at {PO}: run `make messages`")
    header = next(e for e in parse_po(PO) if e.msgid == "")
    assert "fuzzy" not in header.flags
    assert "Language: es\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_plural_entries_have_both_spanish_forms(catalog: list[Entry]) -> None:
    plurals = [e for e in catalog if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr) == [0, 1], entry.msgid
        assert entry.msgstr[0] != entry.msgstr[1], entry.msgid


def test_translations_keep_every_placeholder(catalog: list[Entry]) -> None:
    wrong = []
    for entry in catalog:
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstr.values():
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                wrong.append((entry.msgid, text))
    assert wrong == []


def test_committed_mo_is_compiled_from_the_current_po(catalog: list[Entry]) -> None:
    """The .mo is committed so that running needs no gettext: it must match the .po."""
    assert MO.exists(), "run `make messages` and commit the .mo"
    with MO.open("rb") as handle:
        compiled = GNUTranslations(handle)
    stale = []
    for entry in catalog:
        if entry.msgid_plural is not None:
            got = [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            if entry.msgctxt is not None:
                got = [compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                       for n in (1, 2)]
            if got != [entry.msgstr[0], entry.msgstr[1]]:
                stale.append(entry.msgid)
        else:
            got_one = (compiled.pgettext(entry.msgctxt, entry.msgid)
                       if entry.msgctxt is not None else compiled.gettext(entry.msgid))
            if got_one != entry.msgstr[0]:
                stale.append(entry.msgid)
    assert stale == [], "the .mo is older than the .po: run `make messages`"


def test_catalog_passes_msgfmt_check(tmp_path: Path) -> None:
    if not PO.exists():
        pytest.skip(f"no Spanish catalog at {PO}: run `make messages`")
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed (apt-get install gettext)")
    result = subprocess.run(  # noqa: S603 - a fixed program on our own file
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


# --- the source ---------------------------------------------------------------------------

KEYWORDS = {  # function name -> positions of (context, singular, plural)
    "_": (None, 0, None), "gettext": (None, 0, None), "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None), "ngettext": (None, 0, 1), "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None), "pgettext_lazy": (0, 1, None), "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
STRING = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
TEMPLATE_CALL = re.compile(rf"(?<![\w.])(n?p?gettext|_)\(((?:{STRING}(?:,\s*)?)+)")


def python_sources() -> list[Path]:
    return [p for p in sorted(SOURCE.rglob("*.py")) if "migrations" not in p.parts]


def template_sources() -> list[Path]:
    return [p for p in sorted(SOURCE.rglob("*.html"))
            if "templates" in p.parts and "vendor" not in p.parts]


def marked_in_python(path: Path) -> set[tuple[str | None, str, str | None]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = (node.func.id if isinstance(node.func, ast.Name) else
                node.func.attr if isinstance(node.func, ast.Attribute) else "")
        if name not in KEYWORDS:
            continue
        positions = KEYWORDS[name]
        values = []
        for position in positions:
            if position is None:
                values.append(None)
                continue
            arg = node.args[position] if len(node.args) > position else None
            values.append(arg.value if isinstance(arg, ast.Constant)
                          and isinstance(arg.value, str) else None)
        if values[1] is not None:
            found.add((values[0], values[1], values[2]))
    return found


def marked_in_template(path: Path) -> set[tuple[str | None, str, str | None]]:
    found = set()
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in TEMPLATE_CALL.finditer(code):
        name = match.group(1)
        args = [ast.literal_eval(a) for a in re.findall(STRING, match.group(2))]
        context = args.pop(0) if name.startswith(("pgettext", "npgettext")) else None
        plural = args[1] if name.startswith(("ngettext", "npgettext")) else None
        found.add((context, args[0], plural))
    return found


def test_every_marked_string_in_the_source_has_a_spanish_translation(
        catalog: list[Entry]) -> None:
    translated = {(e.msgctxt, e.msgid) for e in catalog if all(e.msgstr.values())}
    marked: dict[tuple[str | None, str], str] = {}
    for path in python_sources():
        for context, msgid, _plural in marked_in_python(path):
            marked[(context, msgid)] = str(path.relative_to(SOURCE))
    for path in template_sources():
        for context, msgid, _plural in marked_in_template(path):
            marked[(context, msgid)] = str(path.relative_to(SOURCE))
    assert len(marked) > 200
    missing = sorted(f"{where}: {msgid!r}" for (context, msgid), where in marked.items()
                     if (context, msgid) not in translated)
    assert missing == [], "new strings: run `make messages` and translate them"


def visible_untranslated_text(source: str) -> list[str]:
    """Words a reader would see that are not inside a translate tag."""
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", source, flags=re.S)
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}|<!--.*?-->", " ", text,
                  flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    attributes = re.findall(r'\b(?:placeholder|title|alt|aria-label|data-confirm)="([^"]*)"',
                            text)
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>|&#?\w+;", " ", text, flags=re.S)
    words = re.findall(r"\S*[A-Za-z]\S*", text)
    words += [a for a in attributes if re.search(r"[A-Za-z]", re.sub(r"{%.*?%}|{{.*?}}", "", a))]
    return words


def test_visible_text_finder_notices_plain_english() -> None:
    assert visible_untranslated_text('<p>Hello {{ name }}</p><a title="Go">x</a>') == \
        ["Hello", "x", "Go"]
    assert visible_untranslated_text(
        '<p>{% translate "Hello" %}</p><a data-confirm="{% translate \'Sure?\' %}">—</a>') == []


def test_templates_show_no_text_outside_translate_tags() -> None:
    plain = {str(p.relative_to(SOURCE)): words for p in template_sources()
             if (words := visible_untranslated_text(p.read_text(encoding="utf-8")))}
    assert plain == {}
