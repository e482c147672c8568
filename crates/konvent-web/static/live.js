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
    rights: "Ihre Rechte haben sich geändert – verbinde neu …", speaking: "Es spricht: ", nobody: "niemand",
    muted: function (n) { return "Hier sind " + n + " oder mehr Personen: Wer jetzt eintritt, ist zunächst stummgeschaltet."; },
    open: function (n) { return "Ab " + n + " Personen werden die Mikrofone beim Betreten automatisch stummgeschaltet."; },
    youMuted: "Sie sind beim Betreten stummgeschaltet worden (Regel ab ", people: " Personen).",
    announcement: "Durchsage: ", raise: "Hand heben", lower: "Hand senken", now: "Jetzt: ",
    votes: " Stimmen", anonymous: "anonym", edited: "geändert", hidden: "ausgeblendet",
    merged: "zusammengeführt", round: "Runde ", running: " läuft.", ended: " ist beendet.",
    reload: " Bitte die Seite neu laden.",
    pinStatus: { open: "offen", picked_up: "aufgegriffen", closed: "geschlossen" }
  } : {
    connecting: "Connecting …", live: "Live.",
    lost: "Connection lost – retrying in ", seconds: " s.",
    slow: "Connection too slow – reconnecting …", signedOut: "Signed out.",
    rights: "Your rights have changed – reconnecting …", speaking: "Speaking: ", nobody: "nobody",
    muted: function (n) { return n + " or more people are here: whoever joins now starts muted."; },
    open: function (n) { return "From " + n + " people on, microphones are muted automatically on joining."; },
    youMuted: "You joined muted (rule from ", people: " people).",
    announcement: "Announcement: ", raise: "Raise hand", lower: "Lower hand", now: "Now: ",
    votes: " votes", anonymous: "anonymous", edited: "edited", hidden: "hidden",
    merged: "merged", round: "Round ", running: " is running.", ended: " has ended.",
    reload: " Please reload the page.",
    pinStatus: { open: "open", picked_up: "picked up", closed: "closed" }
  };

  var event = status.getAttribute("data-event");
  var liveUrl = status.getAttribute("data-live-url");
  var roomEl = document.querySelector("[data-room]");
  var room = roomEl ? roomEl.getAttribute("data-room") : null;
  var seqKey = "konvent-seq:" + event + ":" + (room || "");
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
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function timeOf(at) {
    try {
      return new Date(at).toLocaleString(de ? "de-DE" : "en-GB", {
        timeZone: "Europe/Berlin", day: "2-digit", month: "2-digit", year: "numeric",
        hour: "2-digit", minute: "2-digit"
      });
    } catch (e) { return at; }
  }
  // Server-rendered, sanitised Markdown-lite (the server escapes all HTML).
  function messageItem(ev, prefix) {
    var li = el("li");
    li.setAttribute("data-seq", String(ev.seq));
    li.appendChild(el("span", "who", prefix || (ev.data.from ? ev.data.from.name : "")));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "meta", timeOf(ev.at)));
    li.appendChild(document.createTextNode(" "));
    var body = el("span", "body");
    body.innerHTML = ev.data.html || "";
    li.appendChild(body);
    return li;
  }
  // A chat line's "Melden" (and, for organizers, "Entfernen") forms: the page's own
  // markup from its template, filled in for this line.
  function chatItem(ev) {
    var li = messageItem(ev);
    var template = byId("chat-actions-template");
    if (!template) return li;
    var label = (ev.data.from ? ev.data.from.name : "") + ", " + timeOf(ev.at);
    Array.prototype.forEach.call(template.content.children, function (node) {
      var part = node.cloneNode(true);
      part.querySelectorAll('input[name="target"]').forEach(function (i) { i.value = String(ev.seq); });
      part.querySelectorAll(".visually-hidden").forEach(function (s) { s.textContent = ": " + label; });
      var input = part.querySelector('input[name="reason"]'), name = part.querySelector("label");
      if (input && name) { input.id = "report-chat-" + ev.seq; name.setAttribute("for", input.id); }
      li.appendChild(document.createTextNode(" "));
      li.appendChild(part);
      (part.tagName === "FORM" ? [part] : Array.prototype.slice.call(part.querySelectorAll("form"))).forEach(wire);
    });
    return li;
  }
  // Adds a line once, in sequence order: a replay after a longer absence (since= an old
  // seq) also brings lines older than the last ones the server rendered into the page.
  function appendOnce(list, item) {
    if (!list) return;
    var seq = item.getAttribute("data-seq");
    if (seq && list.querySelector('[data-seq="' + seq + '"]')) return;
    var n = parseInt(seq, 10), before = null;
    if (!isNaN(n)) {
      for (var c = list.lastElementChild; c; c = c.previousElementSibling) {
        var s = parseInt(c.getAttribute("data-seq"), 10);
        if (isNaN(s) || s < n) break;
        before = c;
      }
    }
    list.insertBefore(item, before);
  }

  function renderQueue(queue, speaker) {
    var list = byId("queue");
    if (list) {
      var moderator = list.getAttribute("data-moderator") === "true";
      var template = byId("give-floor-template");
      while (list.firstChild) list.removeChild(list.firstChild);
      (queue || []).forEach(function (p) {
        var li = el("li", null, p.name);
        li.setAttribute("data-user", String(p.id));
        if (moderator && template) {
          var form = template.content.firstElementChild.cloneNode(true);
          form.querySelector('input[name="user"]').value = String(p.id);
          form.querySelector(".visually-hidden").textContent = ": " + p.name;
          li.appendChild(document.createTextNode(" "));
          li.appendChild(form);
          wire(form);
        }
        list.appendChild(li);
      });
      var empty = byId("queue-empty");
      if (empty) empty.hidden = (queue || []).length > 0;
      if (me) {
        var up = (queue || []).some(function (p) { return p.id === me.id; });
        var hand = byId("hand-up");
        var button = byId("hand-button");
        if (hand && button) {
          hand.value = up ? "false" : "true";
          button.textContent = up ? button.getAttribute("data-lower") : button.getAttribute("data-raise");
        }
      }
    }
    if (speaker !== undefined) {
      var s = byId("speaker");
      if (s) s.textContent = speaker ? speaker.name : T.nobody;
    }
  }

  function presence(roomSlug, count, muted, threshold) {
    document.querySelectorAll('[data-count-room="' + roomSlug + '"]').forEach(function (e) {
      e.textContent = String(count);
    });
    var rule = byId("mic-rule");
    if (rule && roomSlug === room) {
      rule.textContent = muted ? T.muted(threshold) : T.open(threshold);
      rule.classList.toggle("notice-strong", !!muted);
    }
  }

  function updateTimer(data) {
    var box = byId("timer");
    if (!box) return;
    if (data.running && data.ends_at) {
      box.setAttribute("data-ends-at", data.ends_at);
      box.querySelector(".timer-label").textContent = data.label || "";
      box.hidden = false;
      tick();
    } else {
      box.removeAttribute("data-ends-at");
      box.hidden = true;
    }
  }
  function tick() {
    var box = byId("timer");
    if (!box || !box.getAttribute("data-ends-at")) return;
    var left = Math.max(0, Math.round((Date.parse(box.getAttribute("data-ends-at")) - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    box.querySelector(".timer-clock").textContent = m + ":" + (s < 10 ? "0" : "") + s;
    box.classList.toggle("timer-over", left === 0);
  }
  setInterval(tick, 1000);

  function question(data) {
    var list = byId("questions");
    if (!list) return;
    if (data.redacted) { removed({ item: "question", id: data.id }); return; }
    var li = list.querySelector('[data-question="' + data.id + '"]');
    if (!li) {
      li = el("li");
      li.setAttribute("data-question", String(data.id));
      li.appendChild(el("p", null, data.text));
      var meta = el("p", "meta");
      meta.appendChild(el("span", "asker", data.asker ? data.asker.name : T.anonymous));
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("span", "votes", String(data.votes)));
      meta.appendChild(document.createTextNode(T.votes));
      li.appendChild(meta);
      list.appendChild(li);
    } else {
      var votes = li.querySelector(".votes");
      if (votes) votes.textContent = String(data.votes);
    }
    li.classList.toggle("answered", data.status === "answered");
    if (data.status === "rejected") li.hidden = true;
  }

  // World Café: impulses of this table, its summary, headcounts, rounds, the pinboard.
  function impulse(ev) {
    var d = ev.data || {};
    var list = byId("impulses");
    if (!list || ev.room !== room || list.getAttribute("data-table") !== String(d.table)) return;
    var leads = list.getAttribute("data-leads") === "true";
    var li = list.querySelector('[data-impulse="' + d.id + '"]');
    if (!li) {
      // A tombstone (the impulse was hidden or removed) has no text to show.
      if ((d.hidden && !leads) || d.redacted) return;
      li = el("li");
      li.setAttribute("data-impulse", String(d.id));
      li.setAttribute("data-seq", String(ev.seq));
      li.appendChild(el("span", "body"));
      li.appendChild(document.createTextNode(" "));
      var meta = el("span", "meta");
      meta.appendChild(el("span", "who", d.author ? d.author.name : ""));
      meta.appendChild(el("span", "state"));
      li.appendChild(meta);
      appendOnce(list, li);
      var empty = byId("impulses-empty");
      if (empty) empty.hidden = true;
    }
    if (d.text !== undefined) li.querySelector(".body").textContent = d.text;
    var state = li.querySelector(".state");
    if (state) {
      var parts = [];
      if (d.edited) parts.push(T.edited);
      if (d.hidden) parts.push(T.hidden);
      if (d.merged_into) parts.push(T.merged);
      state.textContent = parts.length ? " · " + parts.join(" · ") : "";
    }
    li.classList.toggle("hidden-impulse", !!d.hidden);
    li.classList.toggle("merged-impulse", !!d.merged_into);
    if (d.hidden && !leads) li.parentNode.removeChild(li);
  }
  function pin(d) {
    var list = byId("pins");
    if (!list) return;
    if (d.redacted) { removed({ item: "pin", id: d.id }); return; }
    var li = list.querySelector('[data-pin="' + d.id + '"]');
    if (!li) {
      li = el("li", "pin");
      li.setAttribute("data-pin", String(d.id));
      li.appendChild(el("p", "pin-text", d.text));
      var meta = el("p", "meta");
      meta.appendChild(document.createTextNode(d.author + (d.topic ? " · " + d.topic : "") + " · "));
      meta.appendChild(el("span", "votes", String(d.votes)));
      meta.appendChild(document.createTextNode(T.votes + " · "));
      meta.appendChild(el("span", "pin-status"));
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", "pin-outcome"));
      li.appendChild(meta);
      list.appendChild(li);
      var empty = byId("pins-empty");
      if (empty) empty.hidden = true;
    }
    var votes = li.querySelector(".votes");
    if (votes) votes.textContent = String(d.votes);
    var status = li.querySelector(".pin-status");
    if (status) status.textContent = T.pinStatus[d.status] || d.status;
    var outcome = li.querySelector(".pin-outcome");
    if (outcome && d.outcome) outcome.textContent = d.outcome;
  }
  // An item removed by the organizers (K17): its element goes, wherever the page shows it.
  function removed(d) {
    var selector = d.item === "chat" ? '#chat-log [data-seq="' + d.id + '"]'
      : "[data-" + d.item + '="' + d.id + '"]';
    document.querySelectorAll(selector).forEach(function (e) { e.parentNode.removeChild(e); });
  }
  function typing() {
    return Array.prototype.some.call(document.querySelectorAll("textarea"), function (t) {
      return t.value.trim() !== "" && !t.hasAttribute("data-keep");
    });
  }

  function onEvent(ev) {
    seen(ev.seq);
    var d = ev.data || {};
    switch (ev.kind) {
      case "chat":
        if (d.redacted) removed({ item: "chat", id: ev.seq });
        else if (ev.room === room) appendOnce(byId("chat-log"), chatItem(ev));
        break;
      case "removed":
        removed(d);
        break;
      case "chat_lock": {
        var lock = byId("chat-locked");
        if (lock && ev.room === room) lock.hidden = !d.locked;
        break;
      }
      case "announcement": {
        var list = byId("announcements");
        if (list) {
          var item = messageItem(ev);
          if (!list.querySelector('[data-seq="' + ev.seq + '"]')) list.insertBefore(item, list.firstChild);
          var empty = byId("announcements-empty");
          if (empty) empty.hidden = true;
        }
        var banner = byId("announcements-box");
        if (banner) {
          banner.textContent = T.announcement + (d.text || "");
          banner.hidden = false;
        }
        break;
      }
      case "dm": {
        var to = d.to ? d.to.name : "Help Desk";
        appendOnce(byId("dm-log"), messageItem(ev, (d.from ? d.from.name : "") + " → " + to));
        var none = byId("dm-empty");
        if (none) none.hidden = true;
        break;
      }
      case "hand":
        if (ev.room === room) renderQueue(d.queue);
        break;
      case "floor":
        if (ev.room === room) renderQueue(d.queue, d.speaker);
        break;
      case "agenda": {
        var now = byId("agenda-now");
        if (now && d.item) now.textContent = T.now + d.item.title;
        document.querySelectorAll("[data-agenda-index]").forEach(function (row) {
          var current = d.current !== null && row.getAttribute("data-agenda-index") === String(d.current);
          row.classList.toggle("current", current);
          if (current) row.setAttribute("aria-current", "step"); else row.removeAttribute("aria-current");
        });
        break;
      }
      case "timer":
        updateTimer(d);
        break;
      case "question":
        question(d);
        break;
      case "impulse":
        impulse(ev);
        break;
      case "summary": {
        var shown = byId("table-summary");
        var list2 = byId("impulses");
        if (shown && list2 && list2.getAttribute("data-table") === String(d.table)) shown.textContent = d.text;
        break;
      }
      case "seat":
        (d.tables || []).forEach(function (t) {
          document.querySelectorAll('[data-table-count="' + t.table + '"]').forEach(function (e) {
            e.textContent = String(t.seated);
          });
        });
        break;
      case "round": {
        var line = T.round + d.round + (d.status === "running" ? T.running : T.ended);
        var table = byId("impulses");
        if (table) {
          // A table page: its round ending closes the impulse form.
          if (table.getAttribute("data-round") !== String(d.round)) break;
          var form = byId("impulse-form");
          if (form && d.status === "ended") form.hidden = true;
          say(d.status === "running" ? line + T.reload : line);
        } else if (document.querySelector("[data-round]")) {
          // The café page shows the new state (buttons, timer); never over unsent text.
          if (!replaying && !typing()) { say(line); setTimeout(function () { location.reload(); }, 600); }
          else say(line + T.reload);
        }
        break;
      }
      case "pin":
        pin(d);
        break;
    }
  }

  function onFrame(msg) {
    hooks.forEach(function (hook) { hook(msg); });
    switch (msg.t) {
      case "hello":
        me = msg.you;
        break;
      case "joined":
        (msg.chat || []).forEach(onEventChatOnly);
        renderQueue(msg.queue, msg.speaker);
        presence(msg.room, msg.count, msg.muted && msg.count >= msg.threshold, msg.threshold);
        if (msg.muted) say(T.live + " " + T.youMuted + msg.threshold + T.people);
        break;
      case "reload":
        // The server's log is behind what this page has seen (a database restored from
        // a backup): start over from the server's state, without the stale seq.
        sessionStorage.removeItem(seqKey);
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
        presence(msg.room, msg.count, msg.muted, msg.threshold);
        break;
      case "ack": {
        var sent = pending[msg.id];
        delete pending[msg.id];
        if (sent) {
          // Only what was sent: whatever was typed meanwhile stays.
          var text = sent.form.querySelector("textarea");
          if (text && text.value === sent.text && !text.hasAttribute("data-keep")) text.value = "";
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
  function onEventChatOnly(ev) {
    if (ev.kind === "chat" && !(ev.data || {}).redacted) appendOnce(byId("chat-log"), chatItem(ev));
  }

  function connect() {
    say(T.connecting);
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + liveUrl;
    var params = [];
    var last = lastSeq();
    if (last !== null) params.push("since=" + last);
    if (room) params.push("room=" + encodeURIComponent(room));
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
      case "moderate": cmd.question = num("question"); cmd.status = str("status"); break;
      case "report": case "remove":
        cmd.item = str("item"); cmd.target = num("target"); cmd.reason = str("reason") || "";
        break;
      default: return null;
    }
    return cmd;
  }

  function wire(form) {
    form.addEventListener("submit", function (e) {
      if (!socket || socket.readyState !== 1) return; // the plain form post still works
      var cmd = commandOf(form);
      if (!cmd) return;
      e.preventDefault();
      var area = form.querySelector("textarea");
      pending[cmd.id] = { form: form, text: area ? area.value : null };
      socket.send(JSON.stringify(cmd));
    });
    var text = form.querySelector("textarea");
    var live = form.getAttribute("data-live");
    if (text && (live === "chat" || live === "impulse")) {
      // Enter sends, Shift+Enter makes a new line.
      text.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) {
          e.preventDefault();
          if (form.requestSubmit) form.requestSubmit(); else form.submit();
        }
      });
    }
  }
  document.querySelectorAll("form[data-live]").forEach(wire);
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
