from tests.conftest import BOYLE, make_member


def test_public_report_reaches_a_new_incident(client, zone):
    response = client.post("/report/", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "arrests", "agency": "ice"})
    assert response.status_code == 302
    from rapidresponse.incidents.models import Incident

    incident = Incident.objects.get()
    assert incident.state == "reported"
    assert incident.zone == zone


def test_member_is_created_with_encrypted_phone(db):
    member = make_member("Ana", "es", phone="(213) 555-0123")
    contact = member.contacts.get()
    assert contact.value == "+12135550123"
    assert "2135550123" not in contact.value_encrypted
