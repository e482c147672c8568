// konvent council votes: keeps a session's vote regions current over its WebSocket
// (council/votes_live.rs). The server renders every region with the same template as
// the page; this script only puts a region in place, fills in the page's CSRF token
// and address, and shows the parts marked data-gate to whom they belong. Pages work
// without it (reload).
(function () {
  "use strict";
  var status = document.getElementById("council-live");
  var list = document.getElementById("votes");
  if (!status || !list || !window.WebSocket) return;
  var de = (document.documentElement.lang || "de") === "de";
  var T = de
    ? { live: "Live verbunden.", lost: "Verbindung unterbrochen – neuer Versuch …" }
    : { live: "Live.", lost: "Connection lost – retrying …" };
  var csrf = status.getAttribute("data-csrf") || "";
  var rights = { seat: status.getAttribute("data-seat") === "1", office: status.getAttribute("data-office") === "1" };
  var backoff = 1000;

  function personalise(root) {
    var gated = Array.prototype.slice.call(root.querySelectorAll("[data-gate]"));
    gated.forEach(function (e) { e.hidden = !rights[e.getAttribute("data-gate")]; });
    root.querySelectorAll('input[name="csrf"]').forEach(function (i) { if (!i.value) i.value = csrf; });
    root.querySelectorAll('input[name="zurueck"]').forEach(function (i) { if (!i.value) i.value = location.pathname; });
  }
  function put(msg) {
    if (msg.t !== "vote") return;
    var old = document.getElementById("vote-" + msg.id);
    if (old && Number(old.getAttribute("data-version")) > msg.version) return;
    var t = document.createElement("template");
    t.innerHTML = msg.html;
    var region = t.content.firstElementChild;
    if (!region) return;
    personalise(region);
    if (old) old.replaceWith(region); else list.appendChild(region);
  }
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + status.getAttribute("data-live-url");
    var socket = new WebSocket(url);
    socket.onopen = function () { backoff = 1000; status.textContent = T.live; };
    socket.onmessage = function (e) {
      try { put(JSON.parse(e.data)); } catch (err) { /* a frame we do not know */ }
    };
    socket.onclose = function () {
      status.textContent = T.lost;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }
  connect();
})();
