// konvent live: keeps an event's pages current over the live WebSocket
// (docs/live-protocol.md). Pages work without this script; with it, forms marked
// data-live send their command over the socket instead of reloading the page.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  if (!status || !window.WebSocket) return;
  var de = (document.documentElement.lang || "de") === "de";
  var T = de ? {
    connecting: "Verbinde …", live: "Live verbunden.",
    lost: "Verbindung unterbrochen – neuer Versuch in ", seconds: " s.",
    slow: "Verbindung zu langsam – verbinde neu …", signedOut: "Abgemeldet.",
    rights: "Ihre Rechte haben sich geändert – verbinde neu …",
    youMuted: "Sie sind beim Betreten stummgeschaltet worden (Regel ab ", people: " Personen).",
    round: "Runde ", running: " läuft.", ended: " ist beendet.",
    reload: " Bitte die Seite neu laden."
  } : {
    connecting: "Connecting …", live: "Live.",
    lost: "Connection lost – retrying in ", seconds: " s.",
    slow: "Connection too slow – reconnecting …", signedOut: "Signed out.",
    rights: "Your rights have changed – reconnecting …",
    youMuted: "You joined muted (rule from ", people: " people).",
    round: "Round ", running: " is running.", ended: " has ended.",
    reload: " Please reload the page."
  };

  var event = status.getAttribute("data-event");
  var liveUrl = status.getAttribute("data-live-url");
  var roomEl = document.querySelector("[data-room]");
  var room = roomEl ? roomEl.getAttribute("data-room") : null;
  var seqKey = "konvent-seq:" + event + ":" + (room || "");
  var epochKey = "konvent-epoch:" + event;
  var socket = null;
  var me = null;
  var backoff = 1000;
  var pending = {};
  var replaying = true;
  var reloading = false;
  var gone = false;
  var counter = 0;
  // Other scripts of a page (the map) listen to frames and send commands through this
  // connection: window.konventLive.
  var hooks = [];

  function lastSeq() {
    var v = parseInt(sessionStorage.getItem(seqKey) || "", 10);
    return isNaN(v) ? null : v;
  }
  function seen(seq) {
    var last = lastSeq();
    if (last === null || seq > last) sessionStorage.setItem(seqKey, String(seq));
  }
  function say(text) { status.textContent = text; }
  function byId(id) { return document.getElementById(id); }


  // Server-rendered fragments (docs/live-protocol.md, "Fragments"). The server renders
  // every live region with the same template for the page and for the frame; this
  // script only puts the fragments in place and resolves, for the signed-in person, the
  // parts marked data-gate (the rules of Viewer::allows in live/fragments/mod.rs).
  var csrf = status.getAttribute("data-csrf") || "";
  var mine = {};
  document.querySelectorAll("[data-mine]").forEach(function (e) {
    (e.getAttribute("data-mine") || "").split(/\s+/).forEach(function (k) { if (k) mine[k] = true; });
  });
  function allows(rule) {
    return rule.split(/\s+/).filter(Boolean).every(function (condition) {
      var i = condition.indexOf(":");
      var name = i < 0 ? condition : condition.slice(0, i), arg = i < 0 ? "" : condition.slice(i + 1);
      var ids = arg.split(",").filter(Boolean).map(Number);
      switch (name) {
        case "organizer": return !!me.organizer;
        case "staff": return !!me.staff;
        case "moderator": return !!me.organizer || (me.moderates || []).indexOf(arg) >= 0;
        case "account": return ids.indexOf(me.id) >= 0;
        case "not-account": return ids.indexOf(me.id) < 0;
        case "mine": return !!mine[arg];
        case "not-mine": return !mine[arg];
        case "until": return Date.now() < Date.parse(arg);
        default: return false;
      }
    });
  }
  function personalise(root) {
    if (!root || !me) return;
    var gated = Array.prototype.slice.call(root.querySelectorAll("[data-gate]"));
    if (root.hasAttribute && root.hasAttribute("data-gate")) gated.push(root);
    gated.forEach(function (e) {
      var hide = !allows(e.getAttribute("data-gate"));
      if (e.hidden !== hide) e.hidden = hide;
    });
    // A live fragment's forms carry no token and no way back: the page's own.
    root.querySelectorAll('input[name="csrf"]').forEach(function (i) { if (!i.value) i.value = csrf; });
    root.querySelectorAll('input[name="zurueck"]').forEach(function (i) { if (!i.value) i.value = location.pathname; });
  }
  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content.firstElementChild;
  }
  // Inserts a list's item by its data-sort key (ascending, compared as strings).
  function insertSorted(list, node) {
    var key = node.getAttribute("data-sort") || "";
    var after = null;
    for (var c = list.lastElementChild; c; c = c.previousElementSibling) {
      if ((c.getAttribute("data-sort") || "") <= key) { after = c; break; }
    }
    list.insertBefore(node, after ? after.nextSibling : list.firstChild);
  }
  // Whether a region that belongs to a room takes what happened in `evRoom`.
  function sameRoom(target, evRoom) {
    var r = target.getAttribute("data-room");
    return !r || !evRoom || r === evRoom;
  }
  function apply(ops, evRoom) {
    (ops || []).forEach(function (op) {
      var node = op.html !== undefined ? fragment(op.html) : null;
      var old;
      switch (op.op) {
        case "upsert": {
          var list = byId(op.into);
          if (!list || !node || !sameRoom(list, evRoom)) return;
          // A list of one table of a room (a café round) takes only that table's items.
          var scope = list.getAttribute("data-scope");
          if (scope && node.getAttribute("data-scope") && node.getAttribute("data-scope") !== scope) return;
          old = node.id ? byId(node.id) : null;
          if (old) old.parentNode.replaceChild(node, old); else insertSorted(list, node);
          break;
        }
        case "replace":
          old = byId(op.id);
          if (!old || !node || !sameRoom(old, evRoom)) return;
          old.parentNode.replaceChild(node, old);
          break;
        case "remove":
          old = byId(op.id);
          if (old) old.parentNode.removeChild(old);
          return;
        case "state":
          old = byId(op.id);
          if (old && sameRoom(old, evRoom)) old.setAttribute("data-state", op.state);
          return;
      }
      personalise(node);
    });
    document.querySelectorAll("[data-empty-for]").forEach(function (note) {
      var list = byId(note.getAttribute("data-empty-for"));
      if (list) note.hidden = list.children.length > 0;
    });
  }
  // Regions the clock changes (the lobby's now/next panel and programme while no item
  // the organizers started leads) name the moment in data-refresh-at; then this page is
  // fetched again and those regions are taken from it, spread over 20 s so that a full
  // lobby does not ask at once (docs/live-protocol.md, "The clock in the lobby").
  var refreshTimer = null;
  function scheduleRefresh(minWait) {
    clearTimeout(refreshTimer);
    var next = Infinity;
    document.querySelectorAll("[data-refresh-at]").forEach(function (e) {
      next = Math.min(next, Date.parse(e.getAttribute("data-refresh-at")) || Infinity);
    });
    if (next === Infinity) return;
    var wait = Math.max(next - Date.now(), minWait || 0) + Math.random() * 20000;
    refreshTimer = setTimeout(refreshRegions, Math.min(wait, 2147483647));
  }
  function refreshRegions() {
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-refresh-at]").forEach(function (old) {
          var region = old.id && fresh.getElementById(old.id);
          if (region) old.parentNode.replaceChild(document.importNode(region, true), old);
        });
        // A clock a little ahead of the server's asks again a bit later.
        scheduleRefresh(5000);
      })
      .catch(function () { scheduleRefresh(60000); });
  }
  scheduleRefresh();
  // A region the server says changed (e.g. who is here, K15+) is fetched anew from its
  // data-fragment-url, rendered by the page's own template. Not while the person works
  // in it (focus inside, a form opened): then a little later.
  var fetching = {};
  function refreshFragment(id) {
    var old = byId(id);
    var url = old && old.getAttribute("data-fragment-url");
    if (!url || fetching[id]) return;
    if (old.contains(document.activeElement) || old.querySelector("details[open]")) {
      fetching[id] = true;
      setTimeout(function () { fetching[id] = false; refreshFragment(id); }, 3000);
      return;
    }
    fetching[id] = true;
    setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then(function (html) {
          fetching[id] = false;
          var now = byId(id), node = fragment(html);
          if (!now || !node || node.id !== id) return;
          if (now.contains(document.activeElement) || now.querySelector("details[open]")) { refreshFragment(id); return; }
          now.parentNode.replaceChild(node, now);
          personalise(node);
        })
        .catch(function () { fetching[id] = false; });
    }, Math.random() * 500);
  }
  // Time-limited parts ("Ändern" for 15 minutes, an announcement's banner) expire.
  setInterval(function () { personalise(document.body); }, 30000);

  function presence(roomSlug, count, muted) {
    document.querySelectorAll('[data-count-room="' + roomSlug + '"]').forEach(function (e) {
      e.textContent = String(count);
    });
    var rule = byId("mic-rule");
    if (rule && roomSlug === room) rule.setAttribute("data-state", muted ? "muted" : "open");
  }

  // The pitch timer (fragment "timer", replaced by `timer` entries) counts down here.
  function tick() {
    var box = byId("timer");
    if (!box || !box.getAttribute("data-ends-at")) return;
    var left = Math.max(0, Math.round((Date.parse(box.getAttribute("data-ends-at")) - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    box.querySelector(".timer-clock").textContent = m + ":" + (s < 10 ? "0" : "") + s;
    box.classList.toggle("timer-over", left === 0);
  }
  setInterval(tick, 1000);

  function typing() {
    return Array.prototype.some.call(document.querySelectorAll("textarea"), function (t) {
      return t.value.trim() !== "" && !t.hasAttribute("data-keep");
    });
  }

  function onEvent(ev) {
    seen(ev.seq);
    var d = ev.data || {};
    apply(ev.dom, ev.room);
    if (ev.kind === "agenda") scheduleRefresh();
    switch (ev.kind) {
      case "round":
        // The café's regions are fragments (live/fragments/cafe.rs); this only says it.
        if (!replaying) say(T.round + d.round + (d.status === "running" ? T.running : T.ended));
        break;
    }
  }

  function onFrame(msg) {
    hooks.forEach(function (hook) { hook(msg); });
    switch (msg.t) {
      case "hello":
        me = msg.you;
        // The log's epoch: a page that resumes says which log its `since` counts in.
        if (msg.epoch) sessionStorage.setItem(epochKey, msg.epoch);
        personalise(document.body);
        break;
      case "joined":
        // The room's regions, for a page that changes rooms (the map's panel).
        apply(msg.dom, msg.room);
        presence(msg.room, msg.count, msg.count >= msg.threshold);
        if (msg.muted) say(T.live + " " + T.youMuted + msg.threshold + T.people);
        break;
      case "reload":
        // The server's log is behind what this page has seen (a database restored from
        // a backup): start over from the server's state, without the stale seq.
        sessionStorage.removeItem(seqKey);
        sessionStorage.removeItem(epochKey);
        reloading = true;
        say(msg.reason || T.reload);
        setTimeout(function () { location.reload(); }, 300);
        break;
      case "replayed":
        replaying = false;
        seen(msg.seq);
        if (status.textContent === T.connecting) say(T.live);
        break;
      case "ev":
        onEvent(msg);
        break;
      case "presence":
        presence(msg.room, msg.count, msg.muted);
        break;
      case "refresh":
        refreshFragment(msg.id);
        break;
      case "ack": {
        var sent = pending[msg.id];
        delete pending[msg.id];
        if (sent) {
          // Only what was sent: whatever was typed meanwhile stays.
          var text = sent.form.querySelector("textarea");
          if (text && text.value === sent.text && !text.hasAttribute("data-keep")) {
            text.value = "";
            draft(text);
          }
          // What the person did that a fragment shows (e.g. "Sie unterstützen diese Frage").
          var mark = sent.form.getAttribute("data-mark");
          if (mark) { mine[mark] = true; personalise(document.body); }
          var unmark = sent.form.getAttribute("data-unmark");
          if (unmark) { delete mine[unmark]; personalise(document.body); }
          // A form's server-rendered confirmation ("gespeichert").
          var done = sent.form.querySelector(".form-done");
          if (done) done.hidden = false;
          var err = sent.form.querySelector(".field-error");
          if (err) err.textContent = "";
          var reason = sent.form.querySelector('input[name="reason"]');
          if (reason) reason.value = "";
          var details = sent.form.closest("details");
          if (details) details.open = false;
        }
        break;
      }
      case "error": {
        var f = msg.id && pending[msg.id] ? pending[msg.id].form : null;
        if (msg.id) delete pending[msg.id];
        var target = f ? f.querySelector(".field-error") : null;
        if (target) target.textContent = msg.message; else say(msg.message);
        // Removed from the event: the server closes the socket and refuses a new one.
        if (msg.code === "removed") gone = true;
        break;
      }
    }
  }

  function connect() {
    say(T.connecting);
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + liveUrl;
    var params = [];
    var last = lastSeq();
    if (last !== null) params.push("since=" + last);
    var epoch = sessionStorage.getItem(epochKey);
    if (last !== null && epoch) params.push("epoch=" + encodeURIComponent(epoch));
    if (room) params.push("room=" + encodeURIComponent(room));
    var watched = document.querySelector("[data-watch]");
    if (watched) params.push("liste=" + encodeURIComponent(watched.getAttribute("data-watch")));
    if (params.length) url += "?" + params.join("&");
    socket = new WebSocket(url);
    socket.onopen = function () { backoff = 1000; replaying = true; };
    socket.onmessage = function (e) {
      // Under load the server sends several messages in one frame, one per line.
      String(e.data).split("\n").forEach(function (line) {
        var msg;
        try { msg = JSON.parse(line); } catch (err) { return; }
        onFrame(msg);
      });
    };
    socket.onclose = function (e) {
      socket = null;
      if (reloading || gone) return;
      // Signed out (in this tab or another): the page shows what is left to see.
      if (e.code === 4001) { say(T.signedOut); location.reload(); return; }
      // Rights changed: reconnect at once; the server takes the rights anew.
      if (e.code === 4003) { say(T.rights); setTimeout(connect, 200); return; }
      if (e.code === 4008) { say(T.slow); setTimeout(connect, 200); return; }
      // The server shuts down (an update): resume on another one, not all at once.
      if (e.code === 1012) { say(T.connecting); setTimeout(connect, 200 + Math.random() * 1800); return; }
      say(T.lost + Math.round(backoff / 1000) + T.seconds);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  function commandOf(form) {
    var data = new FormData(form);
    var t = data.get("t");
    var cmd = { t: t, id: "c" + Date.now().toString(36) + "-" + (counter++) };
    function str(name) { var v = data.get(name); return v === null ? null : String(v); }
    function num(name) { var v = str(name); return v === null || v === "" ? null : parseInt(v, 10); }
    switch (t) {
      case "chat": case "announce": cmd.text = str("text"); break;
      case "ask": cmd.text = str("text"); cmd.anonymous = data.get("anonymous") === "on"; break;
      case "dm":
        cmd.text = str("text");
        if (str("to") === "helpdesk") cmd.to_helpdesk = true; else cmd.to = num("to");
        break;
      case "hand": cmd.up = str("up") === "true"; break;
      case "floor": cmd.user = num("user"); break;
      case "agenda": cmd.current = num("current"); break;
      case "timer":
        cmd.action = str("action"); cmd.seconds = num("seconds"); cmd.label = str("label");
        break;
      case "upvote": cmd.question = num("question"); break;
      case "impulse": case "summary": cmd.table = num("table"); cmd.text = str("text"); break;
      case "edit_impulse": cmd.impulse = num("impulse"); cmd.text = str("text"); break;
      case "pin": cmd.text = str("text"); cmd.topic = str("topic"); break;
      case "vote_pin": cmd.pin = num("pin"); cmd.on = str("on") === "true"; break;
      case "moderate": cmd.question = num("question"); cmd.status = str("status"); break;
      case "report": case "remove":
        cmd.item = str("item"); cmd.target = num("target"); cmd.reason = str("reason") || "";
        break;
      default: return null;
    }
    return cmd;
  }

  // Forms marked data-live, wherever they are (also in fragments inserted later), send
  // their command over the socket; without a connection they post as usual.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-live")) return;
    if (!socket || socket.readyState !== 1) return;
    var cmd = commandOf(form);
    if (!cmd) return;
    e.preventDefault();
    var area = form.querySelector("textarea");
    pending[cmd.id] = { form: form, text: area ? area.value : null };
    var done = form.querySelector(".form-done");
    if (done) done.hidden = true;
    socket.send(JSON.stringify(cmd));
  });
  // Enter sends a chat line or an impulse, Shift+Enter makes a new line.
  document.addEventListener("keydown", function (e) {
    var text = e.target;
    if (e.key !== "Enter" || e.shiftKey || text.tagName !== "TEXTAREA" || !text.form) return;
    var live = text.form.getAttribute("data-live");
    if (live !== "chat" && live !== "impulse") return;
    e.preventDefault();
    if (text.form.requestSubmit) text.form.requestSubmit(); else text.form.submit();
  });
  // Unsent text survives a reload (per page and field, for this tab).
  function draftKey(text) { return "konvent-draft:" + location.pathname + ":" + (text.id || text.name); }
  function draft(text) {
    try {
      if (text.value) sessionStorage.setItem(draftKey(text), text.value);
      else sessionStorage.removeItem(draftKey(text));
    } catch (err) { /* storage full or off: the draft is only not kept */ }
  }
  document.querySelectorAll("form[data-live] textarea").forEach(function (text) {
    var kept = sessionStorage.getItem(draftKey(text));
    if (kept && !text.value) text.value = kept;
  });
  document.addEventListener("input", function (e) {
    if (e.target.tagName === "TEXTAREA" && e.target.form && e.target.form.hasAttribute("data-live")) draft(e.target);
  });
  window.konventLive = {
    // Called with every frame, before this script handles it.
    listen: function (hook) { hooks.push(hook); },
    // Whether the connection is open and said hello (a script that starts listening late
    // has missed that frame).
    ready: function () { return !!me && !!socket && socket.readyState === 1; },
    // Sends a command; false when not connected.
    send: function (cmd) {
      if (!socket || socket.readyState !== 1) return false;
      socket.send(JSON.stringify(cmd));
      return true;
    },
    // The room whose chat and speaker queue this page shows (the map changes it).
    setRoom: function (slug) { room = slug; },
    nextId: function () { return "c" + Date.now().toString(36) + "-" + (counter++); },
    say: say,
    typing: typing
  };
  connect();
})();
