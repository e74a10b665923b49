"""Evidence: uploads from the API and the phone page, encryption at rest, shared copies
without metadata, the custody log, the attorney's package, zones, limits and retention."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from PIL import Image

from rapidresponse.accounts.models import AuditEntry, Role
from rapidresponse.evidence import storage
from rapidresponse.evidence.models import CustodyEntry, Evidence, Shared
from rapidresponse.incidents.models import Incident, State
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.lib import filecrypt
from tests.conftest import BOYLE, FAR, persona
from tests.zones_support import report, two_zones

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    """A phone's photo: camera make and model, and where it was taken (GPS EXIF)."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (34.0, 2.0, 2.04)
    gps[3] = "W"
    gps[4] = (118.0, 12.0, 13.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    zones = two_zones()
    return {
        "zones": zones,
        "incident": report(BOYLE),
        "responder": persona("observer", Role.RESPONDER, zones=[zones.boyle]),
        "dispatcher": persona("disp", Role.DISPATCHER, zones=[zones.boyle]),
        "coordinator": persona("coord", Role.COORDINATOR, zones=[zones.boyle]),
    }


def upload(who: Any, incident: Incident, content: bytes, name: str = "IMG_0001.jpg",
           content_type: str = "image/jpeg", **fields: str) -> Any:
    """A real multipart request to the API, as a phone app would send it."""
    return who.client.post(f"/api/v1/incidents/{incident.pk}/evidence",
                           {"file": SimpleUploadedFile(name, content, content_type), **fields},
                           **who.api())


def stored_files() -> list[Path]:
    return [p for p in storage.root().glob("*/*") if p.is_file()] \
        if storage.root().exists() else []


def test_api_upload_answers_the_sha256_of_the_bytes_received(world):
    photo = jpeg_with_gps()
    response = upload(world["responder"], world["incident"], photo, note="Two vans on Soto")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(photo).hexdigest()
    evidence = Evidence.objects.get(pk=body["id"])
    assert (evidence.kind, evidence.content_type, evidence.original_name) == (
        "photo", "image/jpeg", "IMG_0001.jpg")
    # On disk: encrypted, under a random name that is not the upload's.
    on_disk = storage.path_of(evidence.stored_name)
    assert "IMG_0001" not in str(on_disk) and photo not in on_disk.read_bytes()
    assert b"".join(storage.read(evidence.stored_name)) == photo
    # The note is encrypted too.
    assert "Soto" not in evidence.note_encrypted
    assert [(c.action, c.actor_name) for c in evidence.custody.all()] == [
        ("upload", "observer")]


def test_shared_copy_has_no_exif_nor_gps_and_its_own_sha256(world):
    photo = jpeg_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)  # the original has it
    evidence = Evidence.objects.get(pk=upload(world["responder"], world["incident"],
                                              photo).json()["id"])
    response = world["dispatcher"].client.get(f"/api/v1/evidence/{evidence.pk}/shared",
                                              **world["dispatcher"].api())
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    shared = b"".join(response.streaming_content)
    picture = Image.open(io.BytesIO(shared))
    assert picture.size == (64, 48)
    assert not picture.getexif() and not picture.getexif().get_ifd(GPS_IFD)
    assert b"PhoneMaker" not in shared and b"Exif" not in shared
    assert hashlib.sha256(shared).hexdigest() == evidence.shared_sha256 != evidence.sha256
    assert list(evidence.custody.values_list("action", "actor_name")) == [
        ("upload", "observer"), ("view", "disp")]


def test_comments_and_xmp_do_not_reach_the_shared_copy(world):
    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, "JPEG", comment=b"Corner of Soto and 1st",
                                    xmp=b"<x:xmpmeta><GPSLatitude>34.03</GPSLatitude></x:xmpmeta>")
    assert b"Soto" in out.getvalue() and b"GPSLatitude" in out.getvalue()
    evidence = Evidence.objects.get(pk=upload(world["responder"], world["incident"],
                                              out.getvalue()).json()["id"])
    shared = b"".join(storage.read(evidence.shared_name))
    assert b"Soto" not in shared and b"GPSLatitude" not in shared
    assert Image.open(io.BytesIO(shared)).size == (32, 32)


def test_the_phone_page_takes_a_real_multipart_upload_without_javascript(world):
    client, incident = world["responder"].client, world["incident"]
    page = client.get(f"/evidence/incidents/{incident.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'accept="image/*,video/*,audio/*"' in page and "capture=" in page
    photo = jpeg_with_gps()
    response = client.post(f"/evidence/incidents/{incident.pk}/",
                           {"file": SimpleUploadedFile("street.jpg", photo, "image/jpeg"),
                            "note": "from the corner"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert hashlib.sha256(photo).hexdigest() in page
    # The responder's own page and the open incidents of their zone lead here.
    assert "/evidence/" in client.get("/responder/").content.decode()
    assert f"/evidence/incidents/{incident.pk}/" in client.get("/evidence/").content.decode()


def test_a_note_alone_is_evidence(world):
    url = f"/api/v1/incidents/{world['incident'].pk}/evidence"
    response = world["responder"].client.post(url, {"note": " "}, **world["responder"].api())
    assert response.status_code == 400  # nothing at all
    assert "write a note" in response.json()["errors"]["file"]
    response = world["responder"].client.post(
        f"/api/v1/incidents/{world['incident'].pk}/evidence", {"note": "Agents left at 10:40"},
        **world["responder"].api())
    assert response.status_code == 201
    evidence = Evidence.objects.get(pk=response.json()["id"])
    assert evidence.kind == "note" and evidence.shared == Shared.NOT_NEEDED
    assert b"".join(storage.read(evidence.stored_name)) == b"Agents left at 10:40"


def test_the_type_comes_from_the_content_not_the_name(world):
    before = stored_files()
    response = upload(world["responder"], world["incident"], b"<html>not a photo</html>" * 10,
                      name="photo.jpg", content_type="image/jpeg")
    assert response.status_code == 415
    assert "photo, video or audio" in response.json()["detail"]
    # The page says the same, with the same status.
    page = world["responder"].client.post(
        f"/evidence/incidents/{world['incident'].pk}/",
        {"file": SimpleUploadedFile("x.mp4", b"MZ\x90\x00" * 100, "video/mp4")})
    assert page.status_code == 415 and "photo, video or audio" in page.content.decode()
    assert stored_files() == before and not Evidence.objects.exists()


def test_a_decompression_bomb_is_refused(world, settings):
    settings.EVIDENCE_MAX_PIXELS = 1_000_000
    bomb = io.BytesIO()
    Image.new("L", (5000, 5000)).save(bomb, "PNG")  # 25 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    response = upload(world["responder"], world["incident"], bomb.getvalue(), name="x.png",
                      content_type="image/png")
    assert response.status_code == 400
    assert "too large" in response.json()["detail"] and "1 million pixels" in \
        response.json()["detail"]
    assert not Evidence.objects.exists()


def test_a_file_over_the_size_limit_is_refused_and_not_kept(world, settings):
    settings.EVIDENCE_MAX_BYTES = 10_000
    before = stored_files()
    big = jpeg_with_gps() + b"\x00" * 20_000
    response = upload(world["responder"], world["incident"], big)
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]
    page = world["responder"].client.post(f"/evidence/incidents/{world['incident'].pk}/",
                                          {"file": SimpleUploadedFile("a.jpg", big)})
    assert page.status_code == 413
    assert stored_files() == before and not Evidence.objects.exists()


def test_another_zone_does_not_exist_and_verifiers_do_not_upload(world):
    zones = world["zones"]
    elsewhere = report(FAR)  # Van Nuys
    for who in (world["responder"], world["dispatcher"]):
        assert upload(who, elsewhere, jpeg_with_gps()).status_code == 404
    evidence_id = upload(world["responder"], world["incident"], jpeg_with_gps()).json()["id"]
    van_nuys = persona("vn", Role.DISPATCHER, zones=[zones.van_nuys])
    other_responder = persona("r2", Role.RESPONDER, zones=[zones.boyle])
    for who in (van_nuys, other_responder):  # not their zone; not their upload
        assert who.client.get(f"/api/v1/evidence/{evidence_id}/shared",
                              **who.api()).status_code == 404
    assert van_nuys.client.get(
        f"/api/v1/incidents/{world['incident'].pk}/evidence-package",
        **van_nuys.api()).status_code == 404
    verifier = persona("veri", Role.VERIFIER, zones=[zones.boyle])
    assert upload(verifier, world["incident"], jpeg_with_gps()).status_code == 403
    # The uploader sees their own shared copy.
    assert world["responder"].client.get(f"/api/v1/evidence/{evidence_id}/shared",
                                         **world["responder"].api()).status_code == 200


def test_the_attorneys_package_holds_the_originals_and_their_custody(world):
    photo = jpeg_with_gps()
    evidence_id = upload(world["responder"], world["incident"], photo).json()["id"]
    disp = world["dispatcher"]
    response = disp.client.get(f"/api/v1/incidents/{world['incident'].pk}/evidence-package",
                               **disp.api())
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    package = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(package.read("manifest.json"))
    [item] = manifest["files"]
    assert item["sha256"] == hashlib.sha256(photo).hexdigest()
    assert item["id"] == evidence_id and item["original_name"] == "IMG_0001.jpg"
    assert package.read(item["name"]) == photo
    assert [(c["action"], c["by"]) for c in item["custody"]] == [
        ("upload", "observer"), ("export", "disp")]
    assert item["uploaded_at"] and manifest["exported_by"] == "disp"
    assert AuditEntry.objects.filter(object_type="incident", object_id=world["incident"].pk,
                                     action="evidence.exported").exists()


def test_the_original_downloads_whole_and_every_access_is_logged(world):
    photo = jpeg_with_gps()
    evidence_id = upload(world["responder"], world["incident"], photo).json()["id"]
    coord = world["coordinator"]
    response = coord.client.get(f"/evidence/{evidence_id}/original/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == photo
    assert coord.client.get(f"/evidence/{evidence_id}/shared/").status_code == 200
    assert coord.client.get(
        f"/evidence/incidents/{world['incident'].pk}/package.zip").status_code == 200
    assert list(CustodyEntry.objects.filter(evidence_id=evidence_id)
                .values_list("action", "actor_name")) == [
        ("upload", "observer"), ("download", "coord"), ("view", "coord"), ("export", "coord")]
    # A responder cannot download originals (only their shared copies).
    assert world["responder"].client.get(f"/evidence/{evidence_id}/original/").status_code == 403


def test_the_custody_log_is_only_ever_added_to(world):
    evidence_id = upload(world["responder"], world["incident"], jpeg_with_gps()).json()["id"]
    entry = CustodyEntry.objects.get(evidence_id=evidence_id)
    entry.actor_name = "someone else"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        CustodyEntry.objects.filter(pk=entry.pk).update(actor_name="x")
    assert CustodyEntry.objects.get(pk=entry.pk).actor_name == "observer"


def test_the_incident_page_shows_the_evidence_and_its_timeline(world):
    evidence_id = upload(world["responder"], world["incident"], jpeg_with_gps()).json()["id"]
    page = world["dispatcher"].client.get(f"/console/incidents/{world['incident'].pk}/")
    text = page.content.decode()
    assert 'id="panel-evidence"' in text and f"/evidence/{evidence_id}/shared/" in text
    assert "Evidence uploaded" in text  # the timeline
    assert "evidence-release" not in text  # coordinators release
    page = world["coordinator"].client.get(f"/console/incidents/{world['incident'].pk}/")
    assert "evidence-release" in page.content.decode()


def test_released_and_old_evidence_is_deleted_with_its_files(world, settings):
    incident = world["incident"]
    first = Evidence.objects.get(pk=upload(world["responder"], incident,
                                           jpeg_with_gps()).json()["id"])
    files = [storage.path_of(first.stored_name), storage.path_of(first.shared_name)]
    assert all(f.exists() for f in files)
    response = world["coordinator"].client.post(f"/evidence/incidents/{incident.pk}/release/")
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.released_at is not None
    # While the evidence is kept, the incident's own rule does not delete the incident.
    Incident.objects.filter(pk=incident.pk).update(
        state=State.RESOLVED, closed_at=timezone.now(),
        last_report_at=timezone.now() - timedelta(days=settings.RETENTION_INCIDENT_DAYS + 1))
    enforce_retention()
    assert Incident.objects.filter(pk=incident.pk).exists() and Evidence.objects.exists()
    # RETENTION_RELEASED_EVIDENCE_DAYS after the release: gone, files too; then the incident.
    later = timezone.now() + timedelta(days=settings.RETENTION_RELEASED_EVIDENCE_DAYS + 1)
    with django_capture_on_commit():
        result = enforce_retention(later)
    assert result["evidence"] == 1 and not Evidence.objects.exists()
    assert not any(f.exists() for f in files)
    enforce_retention(later)
    assert not Incident.objects.filter(pk=incident.pk).exists()


def test_evidence_of_a_closed_incident_goes_after_the_retention_period(world, settings):
    incident = world["incident"]
    evidence = Evidence.objects.get(pk=upload(world["responder"], incident,
                                              jpeg_with_gps()).json()["id"])
    with django_capture_on_commit():
        enforce_retention(timezone.now() + timedelta(days=1000))
    assert Evidence.objects.filter(pk=evidence.pk).exists()  # the incident is still open
    Incident.objects.filter(pk=incident.pk).update(state=State.RESOLVED,
                                                   closed_at=timezone.now())
    with django_capture_on_commit():
        enforce_retention(timezone.now() + timedelta(days=settings.RETENTION_EVIDENCE_DAYS - 1))
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    with django_capture_on_commit():
        enforce_retention(timezone.now() + timedelta(days=settings.RETENTION_EVIDENCE_DAYS + 1))
    assert not Evidence.objects.exists()
    assert not storage.path_of(evidence.stored_name).exists()


def test_rotate_keys_rewraps_evidence_files_with_the_new_key(world, settings):
    photo = jpeg_with_gps()
    evidence = Evidence.objects.get(pk=upload(world["responder"], world["incident"],
                                              photo).json()["id"])
    old = settings.EVIDENCE_ENCRYPTION_KEY
    new = filecrypt.new_key()
    settings.EVIDENCE_ENCRYPTION_KEY = f"{new},{old}"
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "evidence files: 2 re-encrypted" in out.getvalue()
    settings.EVIDENCE_ENCRYPTION_KEY = new  # the old key is gone: everything still opens
    assert b"".join(storage.read(evidence.stored_name)) == photo


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg is not installed")
def test_video_metadata_is_stripped_with_ffmpeg(world, tmp_path):
    video = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32:d=1",
                    "-metadata", "title=Corner of Soto and 1st",
                    "-metadata", "location=+34.0339-118.2036/", "-pix_fmt", "yuv420p",
                    str(video)], check=True, timeout=120)
    content = video.read_bytes()
    assert b"Soto" in content
    response = upload(world["responder"], world["incident"], content, name="clip.mp4",
                      content_type="image/jpeg")  # a wrong type claimed: the content decides
    assert response.status_code == 201, response.content
    evidence = Evidence.objects.get(pk=response.json()["id"])
    assert (evidence.kind, evidence.shared) == ("video", Shared.READY)
    shared = b"".join(storage.read(evidence.shared_name))
    assert b"Soto" not in shared and b"+34.0339" not in shared
    assert hashlib.sha256(shared).hexdigest() == evidence.shared_sha256


@pytest.mark.skipif(not shutil.which("ffprobe"), reason="ffprobe is not installed")
def test_a_video_header_on_something_else_is_refused(world):
    fake = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"not a video " * 50
    response = upload(world["responder"], world["incident"], fake, name="clip.mp4",
                      content_type="video/mp4")
    assert response.status_code == 415 and not Evidence.objects.exists()


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg is not installed")
@pytest.mark.parametrize(("name", "content_type"), [("voice.m4a", "audio/mp4"),
                                                    ("voice.ogg", "audio/ogg")])
def test_audio_metadata_is_stripped_with_ffmpeg(world, tmp_path, name, content_type):
    recording = tmp_path / name
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:d=1",
                    "-metadata", "title=Corner of Soto and 1st", str(recording)],
                   check=True, timeout=120)
    response = upload(world["responder"], world["incident"], recording.read_bytes(),
                      name=name, content_type="application/octet-stream")
    assert response.status_code == 201, response.content
    evidence = Evidence.objects.get(pk=response.json()["id"])
    assert (evidence.kind, evidence.content_type, evidence.shared) == (
        "audio", content_type, Shared.READY)
    assert b"Soto" not in b"".join(storage.read(evidence.shared_name))


def test_without_ffmpeg_video_is_kept_with_no_shared_copy(world, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    clip = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
    response = upload(world["responder"], world["incident"], clip, name="clip.mp4",
                      content_type="video/mp4")
    assert response.status_code == 201
    evidence = Evidence.objects.get(pk=response.json()["id"])
    assert evidence.shared == Shared.NO_TOOL and not evidence.shared_name
    disp = world["dispatcher"]
    answer = disp.client.get(f"/api/v1/evidence/{evidence.pk}/shared", **disp.api())
    assert answer.status_code == 404 and "ffmpeg" in answer.json()["detail"]


def test_an_encrypted_file_cut_short_or_changed_does_not_open(tmp_path):
    key = filecrypt.new_key()
    plain = bytes(range(256)) * 1000  # several chunks
    target = tmp_path / "f"
    filecrypt.encrypt_file(io.BytesIO(plain), target, key)
    assert b"".join(filecrypt.decrypt_chunks(target, key)) == plain
    whole = target.read_bytes()
    target.write_bytes(whole[:filecrypt.HEADER + filecrypt.CHUNK + filecrypt.TAG])
    with pytest.raises(filecrypt.FileCryptError):
        b"".join(filecrypt.decrypt_chunks(target, key))
    changed = bytearray(whole)
    changed[-5] ^= 1
    target.write_bytes(bytes(changed))
    with pytest.raises(filecrypt.FileCryptError):
        b"".join(filecrypt.decrypt_chunks(target, key))
    with pytest.raises(filecrypt.FileCryptError):
        b"".join(filecrypt.decrypt_chunks(target, filecrypt.new_key()))


def django_capture_on_commit() -> Any:
    """Run on-commit callbacks (file deletions) inside the test's transaction."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def test_a_responder_sent_to_an_incident_elsewhere_may_add_evidence_to_it(world):
    from rapidresponse.dispatch.models import Assignment, AssignmentStatus, Dispatch

    incident = world["incident"]
    visitor = persona("visitor", Role.RESPONDER, zones=[world["zones"].van_nuys])
    assert upload(visitor, incident, jpeg_with_gps()).status_code == 404
    sent = Dispatch.objects.create(incident=incident, skill="legal_observer", count=1, rings=3,
                                   round_at=incident.created_at)
    going = Assignment.objects.create(dispatch=sent, staff=visitor.user.staff,
                                      status=AssignmentStatus.ASKED)
    assert upload(visitor, incident, jpeg_with_gps()).status_code == 404  # asked is not sent
    Assignment.objects.filter(pk=going.pk).update(status=AssignmentStatus.CHECKED_IN)
    assert upload(visitor, incident, jpeg_with_gps()).status_code == 201
