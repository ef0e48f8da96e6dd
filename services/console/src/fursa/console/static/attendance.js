// Attendance that survives a dropped connection. A session's call is first written to this
// device (IndexedDB), keyed by center, class, module and day: calling the same session again
// replaces the waiting copy, and the training service refuses a second session of that key,
// so each mark reaches it exactly once. Waiting calls are sent now, when the connection
// returns, and whenever a class page opens; what the service refused stays shown until the
// educator has read it. No token here: the session cookie is http-only, sent by the browser.
(function () {
  "use strict";
  var DB = "fursa-attendance", STORE = "calls";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), answer;
        var request = work(tx.objectStore(STORE));
        if (request) { request.onsuccess = function () { answer = request.result; }; }
        tx.oncomplete = function () { db.close(); resolve(answer); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  var all = function () { return store("readonly", function (s) { return s.getAll(); }); };
  var put = function (call) { return store("readwrite", function (s) { return s.put(call); }); };
  var forget = function (key) { return store("readwrite", function (s) { return s.delete(key); }); };

  var outbox = document.getElementById("outbox");
  var sending = false;

  function show(calls, justSent) {
    if (!outbox) { return; }
    var waiting = calls.filter(function (c) { return c.state === "waiting"; });
    var marks = waiting.reduce(function (n, c) { return n + c.marks; }, 0);
    var line = outbox.querySelector(".waiting");
    line.textContent = marks ? outbox.dataset.waiting.replace("{n}", String(marks))
      : (justSent ? outbox.dataset.sent : "");
    var list = outbox.querySelector(".conflicts");
    list.replaceChildren();
    calls.filter(function (c) { return c.state === "conflict"; }).forEach(function (c) {
      var item = document.createElement("li");
      var text = document.createElement("p");
      text.textContent = c.label + " — " + c.message;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = outbox.dataset.dismiss;
      button.addEventListener("click", function () { forget(c.key).then(refresh); });
      item.append(text, button);
      list.append(item);
    });
    outbox.hidden = !(line.textContent || list.children.length);
  }

  function refresh(justSent) { return all().then(function (calls) { show(calls, justSent); }); }

  function send() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    var sent = false;
    return all().then(function (calls) {
      var waiting = calls.filter(function (c) { return c.state === "waiting"; });
      return waiting.reduce(function (previous, call) {
        return previous.then(function () {
          return fetch(call.action, {
            method: "POST",
            body: new URLSearchParams(call.fields),
            headers: { Accept: "application/json" },
            credentials: "same-origin",
          }).then(function (response) {
            if (!response.ok) { throw new Error("not sent"); }
            return response.json();
          }).then(function (answer) {
            if (answer.status === "recorded") { sent = true; return forget(call.key); }
            call.state = "conflict";
            call.message = answer.message;
            return put(call);
          });
        });
      }, Promise.resolve());
    }).catch(function () { /* still offline: the calls wait for the next chance */ })
      .then(function () { sending = false; return refresh(sent); });
  }

  var form = document.querySelector("form.attendance");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = Array.from(new FormData(form).entries());
      var value = function (name) { return String(new FormData(form).get(name) || ""); };
      var module = form.querySelector("#module");
      var call = {
        key: [form.dataset.key, value("module"), value("held_on")].join("|"),
        action: form.action,
        fields: fields,
        marks: fields.filter(function (f) { return f[0].indexOf("mark-") === 0; }).length,
        label: module.options[module.selectedIndex].text + " · " + value("held_on"),
        state: "waiting",
      };
      put(call).then(refresh).then(send);
    });
  }

  // A call still waiting for this class shows as it was made, not as the page's defaults.
  function restore() {
    if (!form) { return Promise.resolve(); }
    return all().then(function (calls) {
      calls.filter(function (c) {
        return c.state === "waiting" && c.key.indexOf(form.dataset.key + "|") === 0;
      }).slice(-1).forEach(function (call) {
        call.fields.forEach(function (field) {
          var input = form.elements.namedItem(field[0]);
          if (input instanceof RadioNodeList) { input.value = field[1]; }
          else if (input && input.type !== "hidden") { input.value = field[1]; }
        });
      });
    });
  }

  window.addEventListener("online", send);
  if ("serviceWorker" in navigator) { navigator.serviceWorker.register("/sw.js"); }
  restore().then(send);
})();
