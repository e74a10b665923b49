"""CAP 1.2 documents and the Atom feed, validated against the OASIS schema."""

from pathlib import Path

from lxml import etree

from rapidresponse.alerts.models import Alert
from rapidresponse.incidents import actions
from rapidresponse.incidents.models import Incident
from tests.conftest import BOYLE, make_member

SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "data" / "cap-1.2.xsd")))
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}


def confirmed_incident(verifier, *, drill=False):
    make_member("María", "es", phone="+12135550101")
    data = actions.build_report_input({"latitude": BOYLE[0], "longitude": BOYLE[1],
                                       "activity": "arrests", "agency": "ice",
                                       "is_drill": drill})
    report = actions.do_submit_report(data, source="api")
    incident = report.incident
    actions.do_record_verification(incident, verifier.user, "confirmed")
    return Incident.objects.get(pk=incident.pk)


def fetch_cap(client, alert, **headers):
    response = client.get(f"/alerts/{alert.pk}.cap", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/cap+xml")
    doc = etree.fromstring(response.content)
    SCHEMA.assertValid(doc)
    return doc


def text(doc, path):
    return doc.findtext(path, namespaces=NS)


def test_alert_is_a_valid_public_cap_alert_in_both_languages(client, zone, verifier):
    incident = confirmed_incident(verifier)
    doc = fetch_cap(client, incident.alerts.get())
    assert text(doc, "cap:status") == "Actual"
    assert text(doc, "cap:msgType") == "Alert"
    assert text(doc, "cap:scope") == "Public"
    languages = [e.text for e in doc.findall("cap:info/cap:language", NS)]
    assert languages == ["en-US", "es-US"]
    assert doc.find("cap:info/cap:area/cap:circle", NS) is not None


def test_all_clear_is_an_update_referencing_the_alert(client, zone, verifier, dispatcher):
    incident = confirmed_incident(verifier)
    original = incident.alerts.get()
    actions.do_resolve(incident, dispatcher.user)
    update = Alert.objects.get(kind="all_clear")
    original_doc = fetch_cap(client, original)
    doc = fetch_cap(client, update)
    assert text(doc, "cap:msgType") == "Update"
    sender, ident, sent = text(doc, "cap:references").split(",")
    assert (sender, ident, sent) == (text(original_doc, "cap:sender"),
                                     text(original_doc, "cap:identifier"),
                                     text(original_doc, "cap:sent"))


def test_correction_is_a_cancel(client, zone, verifier, dispatcher):
    incident = confirmed_incident(verifier)
    actions.do_send_correction(incident, dispatcher.user)
    doc = fetch_cap(client, Alert.objects.get(kind="correction"))
    assert text(doc, "cap:msgType") == "Cancel"
    assert text(doc, "cap:references")


def test_drill_is_an_exercise_hidden_from_the_public(client, zone, verifier, dispatcher):
    incident = confirmed_incident(verifier, drill=True)
    alert = incident.alerts.get()
    assert client.get(f"/alerts/{alert.pk}.cap").status_code == 404
    doc = fetch_cap(dispatcher.client, alert)
    assert text(doc, "cap:status") == "Exercise"
    assert text(doc, "cap:scope") == "Restricted"


def test_members_only_network_is_never_public(client, zone, verifier, dispatcher, settings):
    settings.ALERT_SCOPE = "restricted"
    incident = confirmed_incident(verifier)
    alert = incident.alerts.get()
    assert client.get(f"/alerts/{alert.pk}.cap").status_code == 404
    doc = fetch_cap(client, alert, **dispatcher.api())
    assert text(doc, "cap:scope") == "Restricted"
    assert text(doc, "cap:restriction")


def test_atom_feed_lists_public_alerts_with_cap_links(client, zone, verifier):
    incident = confirmed_incident(verifier)
    alert = incident.alerts.get()
    response = client.get("/feeds/alerts.atom")
    assert response.status_code == 200
    feed = etree.fromstring(response.content)
    links = [e.get("href") for e in feed.findall("atom:entry/atom:link", NS)]
    assert any(link.endswith(f"/alerts/{alert.pk}.cap") for link in links)


def test_atom_feed_hides_drills_from_the_public(client, zone, verifier, dispatcher):
    confirmed_incident(verifier, drill=True)
    public = etree.fromstring(client.get("/feeds/alerts.atom").content)
    assert public.findall("atom:entry", NS) == []
    staff = etree.fromstring(dispatcher.client.get("/feeds/alerts.atom").content)
    assert len(staff.findall("atom:entry", NS)) == 1


def test_the_public_cap_point_is_no_more_precise_than_the_public_map(client, zone, verifier):
    incident = confirmed_incident(verifier)
    doc = fetch_cap(client, incident.alerts.get())
    point, _radius = text(doc, "cap:info/cap:area/cap:circle").split(" ")
    public = client.get(f"/api/v1/incidents/{incident.pk}").json()
    assert point == f"{public['latitude']:.3f},{public['longitude']:.3f}"


def test_the_restricted_cap_point_is_finer_for_staff_and_partners(
        client, zone, verifier, dispatcher, settings):
    settings.ALERT_SCOPE = "restricted"
    incident = confirmed_incident(verifier)
    doc = fetch_cap(client, incident.alerts.get(), **dispatcher.api())
    point, _radius = text(doc, "cap:info/cap:area/cap:circle").split(" ")
    assert len(point.split(",")[0].split(".")[1]) == 4
