"""Importing members: the command, the coordinator's web page and the API, with bad rows
reported by line and every good row kept."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from rapidresponse.lib import geo
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import Member
from tests.conftest import make_member

HEADER = "name,phone,email,language,latitude,longitude,radius_m,channels"

GOOD_ROWS = [
    "Ana,(213) 555-0101,,es,34.0339,-118.2036,1000,sms",
    "James,+1 818 555 0102,James@Example.COM,en,34.1867,-118.4490,2500,sms;email",
    "Rosa,,rosa@example.com,es,34.0450,-118.2500,,email",
]

# (row, reason): each bad row with the reason a coordinator must see for it.
BAD_ROWS = {
    "bad phone": ("Bad,555-01,,en,34.03,-118.20,1000,sms",
                  "phone: This phone number is not valid."),
    "not a phone": ("Bad,call me,,en,34.03,-118.20,1000,sms",
                    "phone: This is not a phone number."),
    "bad language": ("Bad,+12135550150,,fr,34.03,-118.20,1000,sms",
                     "language: Choose one of these languages: en, es."),
    "missing lat/long": ("Bad,+12135550151,,en,,,1000,sms",
                         "place: latitude and longitude are required."),
    "missing longitude": ("Bad,+12135550152,,en,34.03,,1000,sms",
                          "place: Choose a place on the map or a neighbourhood."),
    "latitude out of the world": ("Bad,+12135550153,,en,134.03,-118.20,1000,sms",
                                  "place: Choose a place on the map or a neighbourhood."),
    "radius too large": ("Bad,+12135550154,,en,34.03,-118.20,50000,sms",
                         "place: The radius must be between 200 and 5000 metres."),
    "radius too small": ("Bad,+12135550155,,en,34.03,-118.20,10,sms",
                         "place: The radius must be between 200 and 5000 metres."),
    "radius not a number": ("Bad,+12135550156,,en,34.03,-118.20,inf,sms",
                            "place: The radius must be a number of metres."),
    "unknown channel": ("Bad,+12135550157,,en,34.03,-118.20,1000,sms;fax",
                        "channels: Unknown channel: fax. Use sms, signal or email."),
    "channel with no contact": ("Bad,+12135550158,,en,34.03,-118.20,1000,sms;email",
                                "channels: No contact given for channel: email."),
    "no contact at all": ("Bad,,,en,34.03,-118.20,1000,",
                          "phone: Give a phone number or an email address."),
}


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def imported_names() -> list[str]:
    return sorted(Member.objects.values_list("name", flat=True))


# --- the command ---------------------------------------------------------------------------


def run_import(tmp_path: Path, text: str | bytes) -> tuple[str, str, int]:
    path = tmp_path / "members.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_members", str(path), stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return out.getvalue(), err.getvalue(), code


def test_command_imports_every_good_row(db, tmp_path):
    out, err, code = run_import(tmp_path, csv_text(*GOOD_ROWS))
    assert code == 0, err
    assert "Imported 3 members" in out
    assert imported_names() == ["Ana", "James", "Rosa"]


def test_imported_rows_keep_language_channels_and_radius(db, tmp_path):
    run_import(tmp_path, csv_text(*GOOD_ROWS))
    james = Member.objects.get(name="James")
    assert james.language == "en" and james.status == Member.Status.ACTIVE
    assert dict(james.contacts.values_list("kind", "enabled")) == {"sms": True, "email": True}
    assert james.contacts.get(kind="email").value == "James@example.com"
    area = james.watch_areas.get()
    assert (area.radius_m, area.cell) == (2500, geo.cell_for(34.1867, -118.4490, 8))


def test_empty_radius_means_the_default(db, tmp_path):
    run_import(tmp_path, csv_text(*GOOD_ROWS))
    assert Member.objects.get(name="Rosa").watch_areas.get().radius_m == 1000


def test_channels_left_empty_mean_every_contact_given(db, tmp_path):
    run_import(tmp_path, csv_text("Ana,+12135550101,ana@example.com,es,34.03,-118.20,1000,"))
    assert sorted(Member.objects.get().contacts.filter(enabled=True)
                  .values_list("kind", flat=True)) == ["email", "sms"]


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_command_reports_a_bad_row_by_line_and_keeps_the_others(db, tmp_path, case):
    row, reason = BAD_ROWS[case]
    out, err, code = run_import(tmp_path, csv_text(GOOD_ROWS[0], row, GOOD_ROWS[1]))
    assert code == 1
    assert f"line 3: {reason}" in err
    assert "1 rows were not imported" in err
    assert "Imported 2 members" in out
    assert imported_names() == ["Ana", "James"]


def test_command_reports_every_bad_row_in_one_file(db, tmp_path):
    rows = [GOOD_ROWS[0], *(row for row, _ in BAD_ROWS.values()), GOOD_ROWS[1]]
    _out, err, _code = run_import(tmp_path, csv_text(*rows))
    for number, (_row, reason) in enumerate(BAD_ROWS.values(), start=3):
        assert f"line {number}: {reason}" in err
    assert imported_names() == ["Ana", "James"]


def test_a_phone_twice_in_the_file_is_reported_on_the_second_line(db, tmp_path):
    again = "Ana Again,213-555-0101,,es,34.03,-118.20,1000,sms"
    _out, err, _code = run_import(tmp_path, csv_text(GOOD_ROWS[0], GOOD_ROWS[1], again))
    assert "line 4: contact: The same phone number or email is on line 2." in err
    assert imported_names() == ["Ana", "James"]


def test_an_email_twice_in_the_file_is_reported_whatever_its_case(db, tmp_path):
    again = "Rosa Again,,ROSA@example.com,es,34.03,-118.20,1000,email"
    _out, err, _code = run_import(tmp_path, csv_text(GOOD_ROWS[2], again))
    assert "line 3: contact: The same phone number or email is on line 2." in err


def test_a_phone_already_on_the_list_is_reported(db, tmp_path):
    make_member("Earlier", "en", phone="+12135550101")
    _out, err, _code = run_import(tmp_path, csv_text(*GOOD_ROWS))
    assert ("line 2: contact: This phone number or email is already on the list." in err)
    assert imported_names() == ["Earlier", "James", "Rosa"]


def test_line_numbers_count_blank_lines(db, tmp_path):
    text = HEADER + "\n" + GOOD_ROWS[0] + "\n\n" + BAD_ROWS["bad language"][0] + "\n"
    _out, err, _code = run_import(tmp_path, text)
    assert "line 4: language:" in err


def test_a_row_with_a_line_break_in_a_quoted_name_is_reported_where_it_starts(db, tmp_path):
    text = csv_text(GOOD_ROWS[0], '"Two\nLines",+12135550160,,fr,34.03,-118.20,1000,sms',
                    GOOD_ROWS[1])
    _out, err, _code = run_import(tmp_path, text)
    assert "line 3: language:" in err
    assert imported_names() == ["Ana", "James"]


def test_windows_line_endings_and_a_byte_order_mark_are_fine(db, tmp_path):
    text = "\ufeff" + "\r\n".join([HEADER, *GOOD_ROWS]) + "\r\n"
    _out, err, code = run_import(tmp_path, text.encode("utf-8"))
    assert code == 0, err
    assert imported_names() == ["Ana", "James", "Rosa"]


def test_old_mac_line_endings_are_read(db, tmp_path):
    _out, err, code = run_import(tmp_path, "\r".join([HEADER, *GOOD_ROWS]) + "\r")
    assert code == 0, err
    assert imported_names() == ["Ana", "James", "Rosa"]


def test_headers_in_another_order_and_case_are_understood(db, tmp_path):
    text = "Phone, Latitude ,LONGITUDE,Name,Email\n+12135550101,34.03,-118.20,Ana,\n"
    _out, err, code = run_import(tmp_path, text)
    assert code == 0, err
    assert imported_names() == ["Ana"]


def test_command_refuses_a_file_that_is_not_utf8(db, tmp_path):
    text = csv_text("José,+12135550101,,es,34.03,-118.20,1000,sms").encode("latin-1")
    with pytest.raises(CommandError, match="is not UTF-8 text"):
        run_import(tmp_path, text)
    assert not Member.objects.exists()


def test_command_names_the_missing_columns(db, tmp_path):
    _out, err, code = run_import(tmp_path, "name,phone,email\nAna,+12135550101,\n")
    assert code == 1
    assert "line 1: Missing columns: latitude, longitude." in err
    assert not Member.objects.exists()


def test_command_refuses_a_file_that_does_not_exist(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_members", str(tmp_path / "nope.csv"))


def test_a_line_that_is_not_csv_is_reported_and_earlier_rows_kept(db, tmp_path):
    huge = "x" * 200_000
    _out, err, code = run_import(tmp_path, csv_text(GOOD_ROWS[0], f"{huge},+1213555,,,,,,"))
    assert code == 1
    assert "line 3: " in err and "CSV" in err
    assert imported_names() == ["Ana"]


# --- the coordinator's web page ------------------------------------------------------------


def upload(client: Any, content: str | bytes, **extra: Any) -> Any:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post("/console/members/", {"file": SimpleUploadedFile(
        "members.csv", data, content_type="text/csv")}, **extra)


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_coordinator_imports_a_list_on_the_web(coordinator):
    response = upload(coordinator.client, csv_text(*GOOD_ROWS))
    assert response.status_code == 200
    assert "3 members imported." in page_text(response)
    assert imported_names() == ["Ana", "James", "Rosa"]


def test_web_import_lists_bad_rows_by_line_and_keeps_the_others(coordinator):
    rows = [GOOD_ROWS[0], BAD_ROWS["bad phone"][0], GOOD_ROWS[1],
            BAD_ROWS["unknown channel"][0]]
    response = upload(coordinator.client, csv_text(*rows))
    assert response.status_code == 200
    text = page_text(response)
    assert "2 members imported." in text
    assert "<td>3</td><td>phone: This phone number is not valid.</td>" in text
    assert "<td>5</td><td>channels: Unknown channel: fax. Use sms, signal or email.</td>" in text
    assert {"Ana", "James"} <= set(imported_names())


def test_web_import_in_spanish_explains_bad_rows_in_spanish(coordinator):
    response = upload(coordinator.client, csv_text(BAD_ROWS["bad language"][0]),
                      HTTP_ACCEPT_LANGUAGE="es")
    with translation.override("es"):
        expected = translation.gettext("Choose one of these languages: %(langs)s.") % {
            "langs": "en, es"}
    assert expected != "Choose one of these languages: en, es."
    assert expected in page_text(response)


def test_web_import_refuses_a_file_that_is_not_utf8(coordinator):
    response = upload(coordinator.client, csv_text(
        "José,+12135550101,,es,34.03,-118.20,1000,sms").encode("latin-1"))
    assert response.status_code == 400
    assert "The file must be CSV text in UTF-8." in page_text(response)
    assert not Member.objects.filter(name__startswith="Jos").exists()


def test_web_import_names_the_missing_columns(coordinator):
    response = upload(coordinator.client, "name,phone\nAna,+12135550101\n")
    assert response.status_code == 400
    assert "Missing columns: email, latitude, longitude." in page_text(response)
    assert not Member.objects.filter(name="Ana").exists()


def test_web_import_without_a_file_asks_for_one(coordinator):
    response = coordinator.client.post("/console/members/", {})
    assert response.status_code == 400
    assert "Choose a CSV file to import." in page_text(response)


def test_web_import_of_a_line_that_is_not_csv_is_a_clear_error(coordinator):
    response = upload(coordinator.client, csv_text(GOOD_ROWS[0], "x" * 200_000 + ",1"))
    assert response.status_code == 200
    assert "1 member imported." in page_text(response)
    assert "<td>3</td>" in page_text(response)


def test_dispatcher_cannot_import(dispatcher):
    response = upload(dispatcher.client, csv_text(*GOOD_ROWS))
    assert response.status_code == 403
    assert not Member.objects.filter(name="Ana").exists()


def test_dispatcher_does_not_see_the_members_page(dispatcher):
    make_member("Ana", "es", phone="+12135550101")
    response = dispatcher.client.get("/console/members/")
    assert response.status_code == 403
    assert "Import a list" not in page_text(response)


def test_outsider_is_sent_to_sign_in_and_nothing_is_imported(outsider):
    response = upload(outsider, csv_text(*GOOD_ROWS))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not Member.objects.exists()


def test_outsider_does_not_see_the_members_page(outsider):
    response = outsider.get("/console/members/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- the API -------------------------------------------------------------------------------

API_MEMBER = {"name": "Ana", "phone": "(213) 555-0101", "email": "ana@example.com",
              "language": "es", "latitude": 34.0339, "longitude": -118.2036, "radius_m": 1500,
              "channels": ["sms", "email"]}


def post_member(client: Any, persona: Any, **fields: Any) -> Any:
    body = {**API_MEMBER, **fields}
    return client.post("/api/v1/members", body, content_type="application/json",
                       **persona.api())


def test_api_creates_a_member_and_returns_its_id(client, coordinator):
    response = post_member(client, coordinator)
    assert response.status_code == 201, response.content
    member = Member.objects.get(pk=response.json()["id"])
    assert (member.name, member.language, member.source) == ("Ana", "es", "api")
    assert member.contacts.get(kind="sms").value == "+12135550101"
    assert member.watch_areas.get().radius_m == 1500


def test_api_channels_list_chooses_where_alerts_go(client, coordinator):
    response = post_member(client, coordinator, channels=["email"])
    member = Member.objects.get(pk=response.json()["id"])
    assert dict(member.contacts.values_list("kind", "enabled")) == {"sms": False,
                                                                   "email": True}


API_BAD = {
    "bad phone": ({"phone": "555-01"}, "phone", "This phone number is not valid."),
    "bad language": ({"language": "fr"}, "language", "Choose one of these languages: en, es."),
    "missing lat/long": ({"latitude": None, "longitude": None}, "place",
                         "latitude and longitude are required."),
    "radius out of range": ({"radius_m": 9000}, "place",
                            "The radius must be between 200 and 5000 metres."),
    "unknown channel": ({"channels": ["pigeon"]}, "channels",
                        "Unknown channel: pigeon. Use sms, signal or email."),
    "channel with no contact": ({"email": "", "channels": ["sms", "email"]}, "channels",
                                "No contact given for channel: email."),
}


@pytest.mark.parametrize("case", sorted(API_BAD))
def test_api_refuses_a_bad_member_with_the_field_and_reason(client, coordinator, case):
    fields, name, reason = API_BAD[case]
    response = post_member(client, coordinator, **fields)
    assert response.status_code == 400
    assert response.json()["errors"][name] == reason
    assert find_contact("sms", "+12135550101") is None


def test_api_refuses_a_phone_already_on_the_list(client, coordinator):
    make_member("Earlier", "en", phone="+12135550101")
    response = post_member(client, coordinator)
    assert response.status_code == 400
    assert response.json()["errors"]["contact"] == (
        "This phone number or email is already on the list.")


def test_api_refuses_a_latitude_that_is_not_a_number(client, coordinator):
    response = post_member(client, coordinator, latitude="north")
    assert 400 <= response.status_code < 500
    assert not Member.objects.filter(name="Ana").exists()


def test_api_refuses_a_dispatcher(client, dispatcher):
    response = post_member(client, dispatcher)
    assert response.status_code == 403
    assert not Member.objects.filter(name="Ana").exists()


def test_api_refuses_someone_without_a_token(client, db):
    response = client.post("/api/v1/members", API_MEMBER, content_type="application/json")
    assert response.status_code == 401
    assert not Member.objects.exists()
