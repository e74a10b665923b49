/* The service worker, served at /sw.js (rapidresponse/channels/push/pwa.py fills CONFIG in).
 *
 * Offline: the know-your-rights page and the member's own settings page are kept, in the
 * language they were last seen in, with the CSS and scripts they use. Those pages are asked
 * from the network first and from the copy only when the network fails; everything else goes
 * to the network as if there were no worker.
 *
 * Push: a message is JSON {title, body, url, tag, lang}; it is shown as a notification, and a
 * tap opens `url` (a page of this site).
 */
"use strict";

const CONFIG = __RR_CONFIG__;
const CACHE = "rr-" + CONFIG.version;
const KEPT = new Set([...CONFIG.pages, ...CONFIG.assets]);

// A page the server marks "X-RR-Offline: skip" (the sign-in form shown when a session ran
// out) must not replace the copy kept before.
function keepable(response) {
  return response.ok && response.type === "basic" &&
    response.headers.get("X-RR-Offline") !== "skip";
}

async function keep(cache, url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
    if (keepable(response)) await cache.put(url, response);
  } catch (error) {
    // Offline while installing: the page is kept the next time it is opened.
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all([...KEPT].map((url) => keep(cache, url)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("rr-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function networkFirst(event, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(event.request);
    if (keepable(response)) event.waitUntil(cache.put(key, response.clone()));
    return response;
  } catch (error) {
    const kept = await cache.match(key, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(event, key) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(key, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(event.request);
  if (response.ok) event.waitUntil(cache.put(key, response.clone()));
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.search !== "") return;
  if (CONFIG.pages.includes(url.pathname)) {
    event.respondWith(networkFirst(event, url.pathname));
  } else if (CONFIG.assets.includes(url.pathname)) {
    event.respondWith(cacheFirst(event, url.pathname));
  }
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data.text() };
  }
  const options = {
    body: data.body || "",
    lang: data.lang || "",
    icon: CONFIG.icon,
    badge: CONFIG.badge,
    data: { url: data.url || "/" },
  };
  if (data.tag) {
    options.tag = data.tag;
    options.renotify = true;  // a follow-up replaces the alert and still rings
  }
  event.waitUntil(self.registration.showNotification(data.title || CONFIG.name, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let target = new URL((event.notification.data && event.notification.data.url) || "/",
                       self.location.origin);
  if (target.origin !== self.location.origin) target = new URL("/", self.location.origin);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (client.url === target.href && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(target.href);
  })());
});
