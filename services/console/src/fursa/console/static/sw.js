// Keeps the class pages and the console's own files on the device, so that an educator can
// open a class and call it while the connection is down (attendance.js queues the marks).
// Pages: from the network when it answers (then kept), else the copy kept. Files: kept copy.
// The kept pages carry learners' names: they are deleted as soon as the sign-in page is asked
// for (after a sign-out, or an expired session), so the next person on a shared phone cannot
// open them offline. Calls still waiting to be sent (attendance.js) stay: they are the
// educator's work, and hold no names.
// The console names the cache after its static files (offline.py): a release that changes one
// brings a new worker, whose activation deletes the caches of earlier releases.
"use strict";
var CACHE = "fursa-console-__STATIC_FILES_DIGEST__";
var FILES = ["/static/console.css", "/static/htmx.min.js", "/static/attendance.js",
  "/static/fonts/NotoSansArabic-Regular.woff2", "/static/fonts/NotoSansArabic-Bold.woff2"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function classPage(url) {
  return url.origin === self.location.origin && /^\/(classes$|centers\/[^/]+\/classes\/)/.test(url.pathname);
}

function forgetPages() {
  return caches.open(CACHE).then(function (cache) {
    return cache.keys().then(function (kept) {
      return Promise.all(kept.filter(function (request) { return classPage(new URL(request.url)); })
        .map(function (request) { return cache.delete(request); }));
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === "/sign-in") {
    event.waitUntil(forgetPages());
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (kept) { return kept || fetch(request); }));
  } else if (classPage(url)) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (kept) { return kept || Response.error(); });
    }));
  }
});
