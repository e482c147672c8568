// konvent map: the venue map (K8) on a canvas. People walk with the arrow keys or WASD,
// or click where they want to go; walking into an area joins its room. The list of places
// beside the map is the same way in for keyboards and screen readers ("go there"); it
// works without this script too. Positions travel over the live connection of live.js
// (docs/live-protocol.md: enter_map, move, goto; you, pos, areas).
(function () {
  "use strict";
  var live = window.konventLive;
  var canvas = document.getElementById("map-canvas");
  if (!live || !canvas || !canvas.getContext) return;
  var box = document.getElementById("map-box");
  var where = document.getElementById("map-where");
  var de = (document.documentElement.lang || "de") === "de";
  var T = de ? {
    youAreAt: "Sie sind jetzt hier: ", outside: "Sie sind auf dem Weg, in keinem Raum.",
    atPinboard: "Sie stehen an der Pinnwand.", pinboardLink: "Zur Pinnwand",
    topic: "Thema: ", patron: "Patenschaft: ", people: " Personen", you: "Sie",
    at: "bei ", here: "hier", north: " nördlich", south: " südlich", west: " westlich", east: " östlich",
    tiles: function (n) { return n === 1 ? "1 Feld" : n + " Felder"; }
  } : {
    youAreAt: "You are here now: ", outside: "You are on your way, in no room.",
    atPinboard: "You are at the pinboard.", pinboardLink: "To the pinboard",
    topic: "Topic: ", patron: "Patron: ", people: " people", you: "You",
    at: "at ", here: "here", north: " north", south: " south", west: " west", east: " east",
    tiles: function (n) { return n === 1 ? "1 tile" : n + " tiles"; }
  };
  var TILE = 16;            // pixels per tile on the canvas
  var STEP_MS = 200;        // one step per 200 ms: at most 5 moves a second
  var VIEW_W = 64, VIEW_H = 40;  // tiles in view; larger maps scroll with the avatar
  var map = null;           // { width, height, rows, areas, spawn }
  var me = null;            // { avatar, x, y }
  var avatars = {};         // id -> { name, x, y, dx, dy }
  var path = [];            // tiles still to walk
  var held = null;          // direction of a held key
  var lastStep = 0;
  var lastArea = null;      // the area key the server last put us in
  var wanted = null;        // after a reconnect: go back to this area
  var drawing = false;
  var ctx = canvas.getContext("2d");

  function walkable(x, y) {
    return map && x >= 0 && y >= 0 && x < map.width && y < map.height && map.rows[y].charAt(x) !== "#";
  }
  function areaAt(x, y) {
    if (!map) return null;
    for (var i = 0; i < map.areas.length; i++) {
      var a = map.areas[i];
      if (x >= a.x && y >= a.y && x < a.x + a.w && y < a.y + a.h) return a;
    }
    return null;
  }
  function areaByKey(key) {
    if (!map) return null;
    for (var i = 0; i < map.areas.length; i++) if (map.areas[i].key === key) return map.areas[i];
    return null;
  }

  // Shortest way over walkable tiles (4 neighbours), without the start.
  function findPath(from, to) {
    if (!walkable(to.x, to.y)) return [];
    var w = map.width, seen = new Int32Array(w * map.height).fill(-1);
    var queue = [from.y * w + from.x], head = 0, goal = to.y * w + to.x;
    seen[queue[0]] = queue[0];
    while (head < queue.length) {
      var cur = queue[head++];
      if (cur === goal) break;
      var cx = cur % w, cy = (cur - cx) / w;
      [[1, 0], [-1, 0], [0, 1], [0, -1]].forEach(function (d) {
        var nx = cx + d[0], ny = cy + d[1], n = ny * w + nx;
        if (walkable(nx, ny) && seen[n] < 0) { seen[n] = cur; queue.push(n); }
      });
    }
    if (seen[goal] < 0) return [];
    var out = [];
    for (var c = goal; c !== from.y * w + from.x; c = seen[c]) out.push({ x: c % w, y: Math.floor(c / w) });
    return out.reverse();
  }

  function colorOf(kind) {
    switch (kind) {
      case "plenary": return "#dbe9f7";
      case "table": return "#e3f1df";
      case "helpdesk": return "#fbe7c6";
      case "lounge": return "#efe0f3";
      case "pinboard": return "#fff4b8";
      default: return "#e8e8e8";
    }
  }

  function camera() {
    var vw = Math.min(VIEW_W, map.width), vh = Math.min(VIEW_H, map.height);
    var cx = me ? me.dx : map.spawn[0], cy = me ? me.dy : map.spawn[1];
    var x0 = Math.max(0, Math.min(map.width - vw, Math.round(cx - vw / 2)));
    var y0 = Math.max(0, Math.min(map.height - vh, Math.round(cy - vh / 2)));
    return { x0: x0, y0: y0, vw: vw, vh: vh };
  }

  function draw() {
    drawing = false;
    if (!map) return;
    var moving = false;
    var all = Object.keys(avatars).map(function (k) { return avatars[k]; });
    if (me) all.push(me);
    all.forEach(function (a) {
      // Glide towards the last known tile.
      var ddx = a.x - a.dx, ddy = a.y - a.dy;
      if (Math.abs(ddx) > 0.01 || Math.abs(ddy) > 0.01) {
        moving = true;
        var far = Math.abs(ddx) > 3 || Math.abs(ddy) > 3;
        a.dx = far ? a.x : a.dx + ddx * 0.3;
        a.dy = far ? a.y : a.dy + ddy * 0.3;
      } else { a.dx = a.x; a.dy = a.y; }
    });
    var cam = camera();
    canvas.width = cam.vw * TILE;
    canvas.height = cam.vh * TILE;
    // The view's place on the map, for tests and tools.
    canvas.setAttribute("data-view", [cam.x0, cam.y0, cam.vw, cam.vh].join(","));
    for (var y = 0; y < cam.vh; y++) {
      var row = map.rows[cam.y0 + y];
      for (var x = 0; x < cam.vw; x++) {
        ctx.fillStyle = row.charAt(cam.x0 + x) === "#" ? "#4a4f57" : "#fafafa";
        ctx.fillRect(x * TILE, y * TILE, TILE, TILE);
      }
    }
    map.areas.forEach(function (a) {
      var px = (a.x - cam.x0) * TILE, py = (a.y - cam.y0) * TILE;
      ctx.fillStyle = colorOf(a.kind);
      ctx.fillRect(px, py, a.w * TILE, a.h * TILE);
      ctx.strokeStyle = "#6b7280";
      ctx.strokeRect(px + 0.5, py + 0.5, a.w * TILE - 1, a.h * TILE - 1);
      ctx.fillStyle = "#1f2937";
      ctx.font = "bold 11px sans-serif";
      ctx.fillText(a.name, px + 3, py + 12, a.w * TILE - 6);
      ctx.font = "10px sans-serif";
      ctx.fillText(String(a.count || 0) + (a.capacity ? " / " + a.capacity : ""), px + 3, py + 24, a.w * TILE - 6);
    });
    all.forEach(function (a) {
      var px = (a.dx - cam.x0 + 0.5) * TILE, py = (a.dy - cam.y0 + 0.5) * TILE;
      ctx.beginPath();
      ctx.arc(px, py, TILE * 0.4, 0, Math.PI * 2);
      ctx.fillStyle = a === me ? "#b91c1c" : "#1d4ed8";
      ctx.fill();
      ctx.fillStyle = "#111827";
      ctx.font = "10px sans-serif";
      ctx.fillText(a === me ? T.you : a.name, px - TILE / 2, py - TILE * 0.55);
    });
    if (moving) redraw();
  }
  function redraw() {
    if (!drawing) { drawing = true; window.requestAnimationFrame(draw); }
  }

  // The people in view as a list (names and where they stand), for everybody who does
  // not see the canvas; refreshed at most twice a second, nearest first.
  var nearList = document.getElementById("map-near");
  var nearTitle = document.getElementById("map-near-h");
  var nearDue = false;
  function whereIs(a) {
    var area = areaAt(a.x, a.y);
    if (area) return T.at + area.name;
    var parts = [], dx = a.x - me.x, dy = a.y - me.y;
    if (dy) parts.push(T.tiles(Math.abs(dy)) + (dy < 0 ? T.north : T.south));
    if (dx) parts.push(T.tiles(Math.abs(dx)) + (dx < 0 ? T.west : T.east));
    return parts.length ? parts.join(", ") : T.here;
  }
  function renderNear() {
    nearDue = false;
    if (!nearList || !me) return;
    var ids = Object.keys(avatars).sort(function (p, q) {
      var a = avatars[p], b = avatars[q];
      return (Math.abs(a.x - me.x) + Math.abs(a.y - me.y)) - (Math.abs(b.x - me.x) + Math.abs(b.y - me.y));
    }).slice(0, 20);
    while (nearList.firstChild) nearList.removeChild(nearList.firstChild);
    ids.forEach(function (id) {
      var a = avatars[id], li = document.createElement("li");
      li.setAttribute("data-avatar", id);
      li.setAttribute("data-x", String(a.x));
      li.setAttribute("data-y", String(a.y));
      li.textContent = a.name + " – " + whereIs(a);
      nearList.appendChild(li);
    });
    nearList.hidden = ids.length === 0;
    if (nearTitle) nearTitle.hidden = ids.length === 0;
  }
  function near() {
    if (!nearDue) { nearDue = true; setTimeout(renderNear, 500); }
  }

  function announce(text) { if (where) where.textContent = text; }
  function describe(a) {
    var parts = [a.name];
    if (a.topic) parts.push(T.topic + a.topic);
    if (a.patron) parts.push(T.patron + a.patron);
    return parts.join(", ");
  }

  // One step towards where the avatar should go, at most every STEP_MS.
  function walk() {
    if (!me || !map) return;
    var now = Date.now();
    if (now - lastStep < STEP_MS) return;
    var next = null;
    if (path.length) next = path.shift();
    else if (held) {
      var nx = me.x + held[0], ny = me.y + held[1];
      if (walkable(nx, ny)) next = { x: nx, y: ny };
    }
    if (!next) return;
    if (!live.send({ t: "move", x: next.x, y: next.y })) { path = []; return; }
    lastStep = now;
    me.x = next.x; me.y = next.y;
    var a = areaAt(me.x, me.y);
    var board = document.getElementById("map-pinboard");
    if (a && a.kind === "pinboard" && lastArea !== a.key) {
      lastArea = a.key;
      announce(T.atPinboard);
      if (board) board.hidden = false;
    } else if (!a && lastArea === "pinnwand") {
      lastArea = null;
      announce(T.outside);
      if (board) board.hidden = true;
    }
    redraw();
    near();
  }
  setInterval(walk, 50);

  var keys = {
    ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0],
    w: [0, -1], s: [0, 1], a: [-1, 0], d: [1, 0], W: [0, -1], S: [0, 1], A: [-1, 0], D: [1, 0]
  };
  box.addEventListener("keydown", function (e) {
    var dir = keys[e.key];
    if (!dir) return;
    e.preventDefault();
    path = [];
    held = dir;
    walk();
  });
  box.addEventListener("keyup", function (e) { if (keys[e.key]) held = null; });
  box.addEventListener("blur", function () { held = null; });
  canvas.addEventListener("click", function (e) {
    if (!me || !map) return;
    var rect = canvas.getBoundingClientRect(), cam = camera();
    var x = cam.x0 + Math.floor((e.clientX - rect.left) / rect.width * cam.vw);
    var y = cam.y0 + Math.floor((e.clientY - rect.top) / rect.height * cam.vh);
    path = findPath(me, { x: x, y: y });
    box.focus();
  });

  // The list's "go there": straight to the area over the live connection.
  var gotos = {};
  document.querySelectorAll("form[data-goto]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      var key = form.getAttribute("data-goto");
      var id = live.nextId();
      if (live.send({ t: "goto", id: id, area: key })) {
        gotos[id] = true;
        e.preventDefault();
        path = [];
      }
    });
  });

  // The room the avatar stands in: chat, speaker queue, microphone rule, video.
  var panel = document.getElementById("map-room");
  function showRoom(slug, name) {
    live.setRoom(slug);
    if (!panel) return;
    var log = document.getElementById("chat-log");
    if (log) while (log.firstChild) log.removeChild(log.firstChild);
    panel.querySelectorAll('input[name="room"]').forEach(function (i) { i.value = slug || ""; });
    panel.querySelectorAll("[data-count-room]").forEach(function (e) { e.setAttribute("data-count-room", slug || ""); });
    var title = document.getElementById("map-room-name");
    if (title) title.textContent = name || "";
    var link = document.getElementById("map-room-link");
    if (link && slug) link.href = link.getAttribute("data-base") + slug;
    var video = document.getElementById("map-room-video");
    if (video && slug) video.href = video.getAttribute("data-base") + slug + "/video";
    panel.hidden = !slug;
  }

  live.listen(function (msg) {
    switch (msg.t) {
      case "hello":
        // A new connection starts at the entrance: afterwards, back to the room.
        if (lastArea) { wanted = lastArea; lastArea = null; showRoom(null, null); }
        avatars = {};
        live.send(me ? { t: "enter_map", at: [me.x, me.y] } : { t: "enter_map" });
        break;
      case "you": {
        var first = !me;
        me = me || { avatar: msg.avatar, x: msg.x, y: msg.y, dx: msg.x, dy: msg.y, name: T.you };
        me.avatar = msg.avatar; me.x = msg.x; me.y = msg.y;
        if (first) { me.dx = me.x; me.dy = me.y; }
        if (msg.id || msg.area !== lastArea) path = [];
        if (msg.area === "pinnwand" && lastArea !== "pinnwand") {
          lastArea = "pinnwand";
          announce(T.atPinboard);
          var pin = document.getElementById("map-pinboard");
          if (pin) pin.hidden = false;
        }
        if (wanted && !msg.area) { var back = wanted; wanted = null; live.send({ t: "goto", id: live.nextId(), area: back }); }
        redraw();
        near();
        break;
      }
      case "pos":
        if (msg.reset) avatars = {};
        (msg.m || []).forEach(function (p) {
          if (me && p[0] === me.avatar) return;
          var a = avatars[p[0]];
          if (!a) {
            if (p.length < 4) return; // named in the next full view
            a = avatars[p[0]] = { name: p[3], x: p[1], y: p[2], dx: p[1], dy: p[2] };
          }
          a.x = p[1]; a.y = p[2];
        });
        (msg.g || []).forEach(function (id) { delete avatars[id]; });
        redraw();
        near();
        break;
      case "areas":
        Object.keys(msg.counts || {}).forEach(function (key) {
          var a = areaByKey(key);
          if (a) a.count = msg.counts[key];
          document.querySelectorAll('[data-area-count="' + key + '"]').forEach(function (e) {
            e.textContent = String(msg.counts[key]);
          });
        });
        redraw();
        break;
      case "joined": {
        var area = areaByKey(msg.room);
        lastArea = msg.room;
        showRoom(msg.room, msg.name);
        announce(T.youAreAt + (area ? describe(area) : msg.name) + ".");
        break;
      }
      case "left":
        if (lastArea) announce(T.outside);
        lastArea = null;
        showRoom(null, null);
        break;
      case "error":
        // Refused steps and goes (a full room or table says why); other forms' errors
        // stay beside their fields.
        if (!msg.id || gotos[msg.id]) {
          path = [];
          held = null;
          announce(msg.message);
        }
        if (msg.id) delete gotos[msg.id];
        break;
      case "ev":
        if (msg.kind === "map" && !live.typing()) setTimeout(function () { location.reload(); }, 300);
        break;
    }
  });

  // This script may run after the connection said hello (scripts load one by one).
  if (live.ready()) live.send({ t: "enter_map" });

  fetch(canvas.getAttribute("data-map-url"), { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (m) {
      map = m;
      box.hidden = false;
      var help = document.getElementById("map-help");
      if (help) help.hidden = false;
      redraw();
    });
})();
