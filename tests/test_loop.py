"""The verified-alert loop through the API, end to end, with the worker's delivery loop."""

from rapidresponse.delivery.models import ConsoleMessage
from tests.conftest import BOYLE, FAR, make_member


def test_report_verify_alert_resolve(client, zone, dispatcher, verifier, deliver):
    near_es = make_member("María", "es", phone="+12135550101")
    far_en = make_member("James", "en", phone="+18185550104", at=FAR)

    r = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "arrests", "agency": "ice"},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    incident_id = r.json()["incident_id"]

    r = client.post(f"/api/v1/incidents/{incident_id}/request-verification",
                    **dispatcher.api())
    assert r.status_code == 200, r.content
    assert r.json()["verifiers_asked"] == 1
    deliver()
    dispatch = ConsoleMessage.objects.get(member=verifier.staff.member)
    assert f"/verify/{incident_id}/" in dispatch.text

    r = client.post(f"/api/v1/incidents/{incident_id}/verification",
                    {"outcome": "confirmed"}, content_type="application/json",
                    **verifier.api())
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "confirmed"
    deliver()
    got = list(ConsoleMessage.objects.filter(member=near_es))
    assert len(got) == 1
    assert got[0].language == "es"
    assert "VERIFICADO" in got[0].text or "VERIFIED" in got[0].text
    assert not ConsoleMessage.objects.filter(member=far_en).exists()

    alerts = client.get(f"/api/v1/incidents/{incident_id}/alerts", **dispatcher.api()).json()
    assert len(alerts) == 1
    deliveries = client.get(f"/api/v1/alerts/{alerts[0]['id']}/deliveries",
                            **dispatcher.api()).json()
    member_ids = {d["member_id"] for d in deliveries["deliveries"]}
    assert near_es.pk in member_ids and far_en.pk not in member_ids

    r = client.post(f"/api/v1/incidents/{incident_id}/resolve", **dispatcher.api())
    assert r.status_code == 200, r.content
    deliver()
    assert ConsoleMessage.objects.filter(member=near_es).count() == 2
    assert not ConsoleMessage.objects.filter(member=far_en).exists()
