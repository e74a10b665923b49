"""The installable web app: the manifest, the icons, the service worker, and pages that work
offline, checked by URL and then in headless Chromium (offline for real: the browser's
network is switched off and the page reloaded)."""

from __future__ import annotations

import json
import re
import struct
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from rapidresponse.channels.push import vapid
from rapidresponse.members.models import Member
from tests.codes_support import current
from tests.conftest import make_member
from tests.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    WAIT_MS,
    new_context,
    screenshot,
)
from tests.test_browser import browser as browser  # the fixture, shared

# Signing in reads the code from the console backend's standard output.
pytestmark = pytest.mark.usefixtures("inbox")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def worker_config(client: Client) -> dict[str, Any]:
    source = client.get("/sw.js").content.decode()
    match = re.search(r"^const CONFIG = (.*);$", source, re.M)
    assert match, "the service worker has no configuration"
    return json.loads(match.group(1))


# --- the manifest -----------------------------------------------------------------------


def test_the_manifest_is_served_as_a_web_app_manifest(client, db):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"


def test_the_manifest_names_the_network(client, db, settings):
    settings.NETWORK_NAME = "Red de Respuesta del Valle"
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["name"] == "Red de Respuesta del Valle"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"


def test_the_manifest_icons_are_pngs_of_the_sizes_it_says(client, db):
    icons = client.get("/manifest.webmanifest").json()["icons"]
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in icons}
    for icon in icons:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        width, height = png_size(b"".join(response.streaming_content))
        assert f"{width}x{height}" == icon["sizes"]


def test_the_manifest_is_in_the_visitors_language(client, db):
    manifest = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="es").json()
    assert manifest["lang"] == "es"
    with translation.override("es"):
        assert manifest["shortcuts"][1]["name"] == gettext("Know your rights")
    assert manifest["shortcuts"][1]["name"] != "Know your rights"


def test_every_page_links_the_manifest_and_the_worker_script(client, db):
    page = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'data-sw="/sw.js"' in page


# --- the service worker -----------------------------------------------------------------


def test_the_service_worker_is_served_for_the_whole_site(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]


def test_the_service_worker_keeps_the_rights_and_settings_pages(client, db):
    assert worker_config(client)["pages"] == ["/rights/", "/me/"]


def test_everything_the_service_worker_keeps_exists(client, db):
    config = worker_config(client)
    for url in config["pages"] + config["assets"]:
        assert client.get(url).status_code == 200, url


# --- in the browser ---------------------------------------------------------------------

def wait_for_worker(page: Page) -> None:
    """The service worker is active and controls the page (it claims open pages)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def wait_until(page: Page, check: str, arg: Any = None) -> None:
    """Wait (at most WAIT_MS) until an async check in the page is true. (wait_for_function
    takes any Promise for true, so it cannot wait on async checks.)"""
    done = page.evaluate(f"""async (arg) => {{
      const check = {check};
      for (let i = 0; i < {WAIT_MS // 100}; i++) {{
        if (await check(arg)) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }}
      return false;
    }}""", arg)
    assert done, f"still not true: {check}"


HAS_COPY = """async (path) => {
  for (const name of await caches.keys()) {
    if (await (await caches.open(name)).match(path, {ignoreVary: true})) return true;
  }
  return false;
}"""


def kept(page: Page, path: str) -> None:
    """Wait until the worker has kept a copy of `path`."""
    wait_until(page, HAS_COPY, path)


@pytest.mark.browser
def test_the_rights_page_works_offline_in_the_visitors_language(browser, live_server):
    context = new_context(browser, live_server, PHONE, is_mobile=True, locale="es-MX")
    page = context.new_page()
    page.goto("/rights/")
    with translation.override("es"):
        heading = gettext("Know your rights")
    assert heading != "Know your rights"
    expect(page.locator("h1")).to_have_text(heading)
    wait_for_worker(page)
    kept(page, "/rights/")

    context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    screenshot(page, "rights-offline-es-phone")


@pytest.mark.browser
def test_offline_really_is_offline(browser, live_server):
    """The check above means something: offline, a page the worker did not keep fails."""
    context = new_context(browser, live_server, PHONE, is_mobile=True)
    page = context.new_page()
    page.goto("/rights/")
    wait_for_worker(page)
    context.set_offline(True)
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto("/report/")


def sign_in_in_browser(page: Page, member: Member, contact: str) -> None:
    page.goto("/me/")
    page.fill("input[name=contact]", contact)
    page.click("main form button[type=submit]")
    page.fill("input[name=code]", current().code(member))
    page.click("main form button[type=submit]")
    expect(page.locator("#me-form")).to_be_visible()


@pytest.mark.browser
def test_the_members_settings_page_works_offline(browser, live_server, db):
    member = make_member("Ana", "es", phone="+12135550123")
    context = new_context(browser, live_server, PHONE, is_mobile=True)
    page = context.new_page()
    sign_in_in_browser(page, member, "(213) 555-0123")
    wait_for_worker(page)
    page.reload()  # now through the worker, which keeps this copy
    kept(page, "/me/")

    context.set_offline(True)
    page.reload()
    expect(page.locator("#me-form")).to_be_visible()
    expect(page.locator("#me-channels")).to_contain_text("***0123")
    expect(page.locator("select[name=language]")).to_have_value("es")
    screenshot(page, "settings-offline-phone")


@pytest.mark.browser
def test_signing_out_removes_the_offline_copy_of_the_settings(browser, live_server, db):
    member = make_member("Ana", "es", phone="+12135550123")
    context = new_context(browser, live_server, PHONE, is_mobile=True)
    page = context.new_page()
    sign_in_in_browser(page, member, "+12135550123")
    wait_for_worker(page)
    page.reload()
    kept(page, "/me/")
    page.click("#me-sign-out")
    expect(page.locator("input[name=contact]")).to_be_visible()
    wait_until(page, f"async (path) => !(await ({HAS_COPY})(path))", "/me/")

    context.set_offline(True)
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto("/me/")


@pytest.mark.browser
def test_chromium_finds_the_site_installable(browser, live_server, db, tmp_path):
    # A browser profile on disk: Chromium never offers to install from a private window.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        base_url=live_server.url, viewport=PHONE, is_mobile=True)
    try:
        local = live_server.url.rstrip("/")
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(local) else route.abort())
        page = context.new_page()
        page.goto("/")
        wait_for_worker(page)
        session = context.new_cdp_session(page)
        manifest = session.send("Page.getAppManifest")
        assert not manifest.get("errors"), manifest.get("errors")
        errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
    finally:
        context.close()


SUBSCRIPTION_STANDIN = """
(() => {
  // Headless Chromium has no push service to talk to: stand in for the browser's own
  // PushManager with a subscription that has real keys (given by the test). Like a real
  // subscription it outlives a reload (kept in localStorage).
  const given = %s;
  const make = () => ({
    endpoint: given.endpoint,
    toJSON: () => given,
    unsubscribe: async () => { localStorage.removeItem("standin"); return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    const key = Array.from(new Uint8Array(options.applicationServerKey));
    localStorage.setItem("standin", JSON.stringify(key));
    return make();
  };
  PushManager.prototype.getSubscription = async function () {
    return localStorage.getItem("standin") ? make() : null;
  };
})();
"""


@pytest.mark.browser
def test_a_member_turns_on_alerts_in_this_browser(browser, live_server, db):
    from tests.test_selfservice import browser_keys

    member = make_member("Ana", "en", phone="+12135550123")
    given = {"endpoint": "https://push.example.net/send/browser-1", "keys": browser_keys()}
    context = new_context(browser, live_server, PHONE, is_mobile=True,
                          permissions=["notifications"])
    context.add_init_script(SUBSCRIPTION_STANDIN % json.dumps(given))
    page = context.new_page()
    sign_in_in_browser(page, member, "+12135550123")
    wait_for_worker(page)
    expect(page.locator("#push-panel .push-status")).to_have_text(
        "This browser does not get alerts.")
    page.click("#push-on")
    expect(page.locator("#push-contact")).to_be_visible()
    expect(page.locator("#push-panel .push-status")).to_have_text("This browser gets alerts.")
    expect(page.locator("#push-on")).to_be_hidden()
    expect(page.locator("#push-off")).to_be_visible()

    contact = member.contacts.get(kind="push")
    assert json.loads(contact.value) == [given]
    key = bytes(json.loads(page.evaluate("localStorage.getItem('standin')")))
    assert vapid.b64url(key) == vapid.keys().public_key  # what push.js gave the browser
    screenshot(page, "settings-push-on-phone")


@pytest.mark.browser
def test_a_push_message_shows_a_notification_in_its_language(browser, live_server, db):
    from rapidresponse.channels.push.webpush import payload_for
    from rapidresponse.delivery.transport import Outbound

    context = new_context(browser, live_server, PHONE, is_mobile=True,
                          permissions=["notifications"])
    page = context.new_page()
    page.goto("/rights/")
    wait_for_worker(page)
    session = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    session.on("ServiceWorker.workerRegistrationUpdated",
               lambda event: registrations.extend(event["registrations"]))
    session.send("ServiceWorker.enable")
    for _ in range(150):  # let the registration event arrive (at most WAIT_MS)
        if registrations:
            break
        page.wait_for_timeout(100)
    assert registrations, "the service worker registration was not reported"
    message = Outbound(delivery_id=1, member_id=1, channel="push", to="", to_masked="",
                       language="es", subject="Alerta verificada: Boyle Heights",
                       text="VERIFICADO: agentes de inmigración cerca de Boyle Heights.",
                       is_drill=False, kind="alert")
    session.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server.url, "registrationId": registrations[0]["registrationId"],
        "data": payload_for(message, "incident-7").decode()})
    shown = page.evaluate("""async () => {
      const registration = await navigator.serviceWorker.ready;
      for (let i = 0; i < 150; i++) {  // until the worker has shown it (at most WAIT_MS)
        const list = await registration.getNotifications();
        if (list.length) return list.map((n) => ({title: n.title, body: n.body, tag: n.tag,
                                                  lang: n.lang, url: n.data.url}));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return null;
    }""")
    assert shown == [{"title": "Alerta verificada: Boyle Heights",
                      "body": "VERIFICADO: agentes de inmigración cerca de Boyle Heights.",
                      "tag": "incident-7", "lang": "es", "url": "/map/"}]


@pytest.mark.browser
def test_a_member_turns_off_alerts_in_this_browser(browser, live_server, db):
    from rapidresponse.channels.push.subscriptions import do_subscribe, parse_subscription
    from tests.test_selfservice import browser_keys

    member = make_member("Ana", "en", phone="+12135550123")
    given = {"endpoint": "https://push.example.net/send/browser-1", "keys": browser_keys()}
    do_subscribe(member, parse_subscription(given))
    context = new_context(browser, live_server, PHONE, is_mobile=True,
                          permissions=["notifications"])
    context.add_init_script(SUBSCRIPTION_STANDIN % json.dumps(given))
    page = context.new_page()
    page.goto("/rights/")
    page.evaluate("localStorage.setItem('standin', '[]')")  # this browser is subscribed
    sign_in_in_browser(page, member, "+12135550123")
    expect(page.locator("#push-panel .push-status")).to_have_text("This browser gets alerts.")
    page.click("#push-off")
    expect(page.locator("#push-contact")).to_have_count(0)
    expect(page.locator("#push-panel .push-status")).to_have_text(
        "This browser does not get alerts.")
    assert not member.contacts.filter(kind="push").exists()


@pytest.mark.browser
def test_a_browser_turned_off_from_another_one_says_so_and_turns_on_again(
        browser, live_server, db):
    """This browser still holds its subscription, but the member turned alerts off in all
    browsers from their phone, then on again there only: this one does not get alerts."""
    from rapidresponse.channels.push.subscriptions import do_subscribe, parse_subscription
    from tests.test_selfservice import browser_keys

    member = make_member("Ana", "en", phone="+12135550123")
    here = {"endpoint": "https://updates.push.services.mozilla.com/wpush/v2/laptop",
            "keys": browser_keys()}
    phone = {"endpoint": "https://fcm.googleapis.com/fcm/send/phone", "keys": browser_keys()}
    do_subscribe(member, parse_subscription(phone))
    context = new_context(browser, live_server, PHONE, permissions=["notifications"])
    context.add_init_script(SUBSCRIPTION_STANDIN % json.dumps(here))
    page = context.new_page()
    page.goto("/rights/")
    page.evaluate("localStorage.setItem('standin', '[]')")  # the old subscription is here
    sign_in_in_browser(page, member, "+12135550123")
    expect(page.locator("#push-contact")).to_have_text(
        "1 browser gets your alerts: fcm.googleapis.com.")
    expect(page.locator("#push-panel .push-status")).to_have_text(
        "This browser does not get alerts.")
    expect(page.locator("#push-remove")).to_be_visible()
    page.click("#push-on")
    expect(page.locator("#push-contact")).to_have_text(
        "2 browsers get your alerts: fcm.googleapis.com, updates.push.services.mozilla.com.")
    expect(page.locator("#push-panel .push-status")).to_have_text("This browser gets alerts.")
    # "Turn off alerts in all browsers" stays: it is not only about this browser.
    expect(page.locator("#push-remove")).to_be_visible()
    contact = member.contacts.get(kind="push")
    assert [b["endpoint"] for b in json.loads(contact.value)] == [phone["endpoint"],
                                                                 here["endpoint"]]
