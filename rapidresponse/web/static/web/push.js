// The installable app: registers the service worker on every page (so the know-your-rights
// page and the settings page work offline), and on the member's settings page turns alerts
// in this browser on and off. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // After signing out: this browser forgets its offline copy of the settings page.
  var forget = document.getElementById("forget-offline");
  if (forget && window.caches) {
    caches.keys().then(function (names) {
      names.filter(function (name) { return name.indexOf("rr-") === 0; }).forEach(function (name) {
        caches.open(name).then(function (cache) { cache.delete(forget.dataset.path); });
      });
    });
  }
  if (!("serviceWorker" in navigator)) return;
  var script = document.currentScript;
  var swUrl = (script && script.dataset.sw) || "/sw.js";
  var registered = navigator.serviceWorker.register(swUrl, { scope: "/" });
  registered.catch(function () { /* no offline copy; the site still works */ });

  var panel = document.getElementById("push-panel");
  if (!panel) return;
  var status = panel.querySelector(".push-status");
  var onButton = document.getElementById("push-on");
  var offButton = document.getElementById("push-off");
  // The member's browsers, as fingerprints of their endpoints (see Subscription.fingerprint).
  var mine = (panel.dataset.browsers || "").split(/\s+/).filter(Boolean);

  function display(element, visible) {
    if (element) element.hidden = !visible;
  }

  function show(state, text) {
    status.textContent = text || panel.dataset["msg" + state.charAt(0).toUpperCase() + state.slice(1)] || "";
    display(onButton, state === "off" || state === "denied" || state === "error");
    display(offButton, state === "on");
  }

  // The first 32 hex digits of the SHA-256 of the endpoint, as the server computes them.
  function fingerprint(endpoint) {
    if (!window.crypto || !crypto.subtle || !window.TextEncoder) return Promise.resolve(null);
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(endpoint)).then(function (hash) {
      return Array.prototype.map.call(new Uint8Array(hash), function (byte) {
        return ("0" + byte.toString(16)).slice(-2);
      }).join("").slice(0, 32);
    });
  }

  // On only if this browser is one of the member's: it may still hold a subscription that
  // the member turned off from another browser, or that a newer browser replaced.
  function state(subscription) {
    if (!subscription) return "off";
    return fingerprint(subscription.endpoint).then(function (mark) {
      return mark === null || mine.indexOf(mark) >= 0 ? "on" : "off";
    });
  }

  function keyBytes(base64url) {
    var b64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "===".slice((b64.length + 3) % 4);
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function post(url, body) {
    var token = panel.querySelector("input[name=csrfmiddlewaretoken]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (response.ok) return response;
      return response.json().catch(function () { return {}; }).then(function (data) {
        var error = new Error(data.error || "");
        error.fromServer = true;  // already in the reader's language
        throw error;
      });
    });
  }

  if (!("PushManager" in window) || !("Notification" in window)) {
    show("unsupported");
    return;
  }

  function current() {
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    });
  }

  current().then(state).then(function (now) { show(now); }, function () { show("unsupported"); });

  onButton.addEventListener("click", function () {
    onButton.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        show("denied");
        return null;
      }
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(panel.dataset.key),
        });
      }).then(function (subscription) {
        return post(panel.dataset.subscribeUrl, subscription.toJSON());
      }).then(function () {
        // The channel list on the page now includes this browser.
        window.location.reload();
      });
    }).catch(function (error) {
      show("error", error && error.fromServer ? error.message : "");
    }).then(function () { onButton.disabled = false; });
  });

  offButton.addEventListener("click", function () {
    offButton.disabled = true;
    current().then(function (subscription) {
      if (!subscription) return null;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return post(panel.dataset.unsubscribeUrl, { endpoint: endpoint });
      });
    }).then(function () {
      window.location.reload();
    }, function (error) {
      show("error", error && error.fromServer ? error.message : "");
    }).then(function () { offButton.disabled = false; });
  });
})();
