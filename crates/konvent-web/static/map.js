// konvent map: the venue map (K8). People walk with the arrow keys or WASD, or click where
// they want to go; walking into an area joins its room, whose chat and speaker queue open
// beside the map. The list of places is the same way in for keyboards and screen readers
// ("go there"); it works without this script too. Positions travel over the live
// connection of live.js (docs/live-protocol.md: enter_map, move, goto; you, pos, areas).
//
// The venue is drawn as a venue: a canvas holds floor, walls and furniture by the kind of
// each area (stage with rows of seats, round tables with chairs, a counter, a wall of
// boards, sofas); names and avatars lie on top of it as HTML (#map-overlay), so that they
// keep their CSS size and contrast at any scale. One tile is as many CSS pixels as lets
// the whole venue fit beside the room panel on the first screen, at least MIN_TILE.
(function () {
  "use strict";
  var live = window.konventLive;
  var canvas = document.getElementById("map-canvas");
  if (!live || !canvas || !canvas.getContext) return;
  var box = document.getElementById("map-box");
  var where = document.getElementById("map-where");
  var de = (document.documentElement.lang || "de") === "de";
  var T = de ? {
    outside: "Sie sind auf dem Weg, in keinem Raum.",
    atPinboard: "Sie stehen an der Pinnwand.", pinboardLink: "Zur Pinnwand",
    topic: "Thema: ", patron: "Patenschaft: ", people: " Personen", you: "Sie",
    entrance: "Eingang", summary: "Die Karte zeigt: ",
    joined: "Sie sind jetzt in: ", toRoom: " – zu Chat und Wortmeldungen",
    at: "bei ", here: "hier", north: " nördlich", south: " südlich", west: " westlich", east: " östlich",
    tiles: function (n) { return n === 1 ? "1 Feld" : n + " Felder"; }
  } : {
    outside: "You are on your way, in no room.",
    atPinboard: "You are at the pinboard.", pinboardLink: "To the pinboard",
    topic: "Topic: ", patron: "Patron: ", people: " people", you: "You",
    entrance: "Entrance", summary: "The map shows: ",
    joined: "You are now in: ", toRoom: " – to the chat and the speaker queue",
    at: "at ", here: "here", north: " north", south: " south", west: " west", east: " east",
    tiles: function (n) { return n === 1 ? "1 tile" : n + " tiles"; }
  };
  var MIN_TILE = 14, MAX_TILE = 32;  // CSS pixels per tile; larger maps scroll with the avatar
  var STEP_MS = 200;        // one step per 200 ms: at most 5 moves a second
  var NAME_NEAR = 3;        // others' full names show within this many tiles (and in one's area)
  var tile = 16, viewW = 1, viewH = 1;  // set by fit()
  var map = null;           // { width, height, rows, areas, spawn }
  var me = null;            // { avatar, x, y }
  var avatars = {};         // id -> { name, x, y, dx, dy }
  var path = [];            // tiles still to walk
  var held = null;          // direction of a held key
  var lastStep = 0;
  var lastArea = null;      // the area key the server last put us in
  // after a reconnect: go back to this area; at first, where "?zu=" asks (K15+)
  var wanted = canvas.getAttribute("data-zu") || null;
  var drawing = false;
  var ctx = canvas.getContext("2d");
  var overlay = document.getElementById("map-overlay");
  var labels = [];          // { area, el, count } per area, in the overlay
  var drawnView = "";       // the camera and scale the canvas was last drawn for

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

  // How large a tile is and how many are in view: the whole venue if it fits at
  // MIN_TILE or more into the column's width and the first screen's height below the map's
  // top, else a window that follows the avatar.
  function fit() {
    var stage = box.parentNode;
    var availW = Math.max(160, stage.clientWidth - 4);
    var top = box.getBoundingClientRect().top + window.scrollY;
    var availH = Math.max(18 * MIN_TILE, window.innerHeight - top - 16);
    var t = Math.floor(Math.min(availW / map.width, availH / map.height));
    tile = Math.max(MIN_TILE, Math.min(MAX_TILE, t));
    viewW = Math.min(map.width, Math.floor(availW / tile));
    viewH = Math.min(map.height, Math.floor(availH / tile));
    var dpr = window.devicePixelRatio || 1;
    canvas.style.width = viewW * tile + "px";
    canvas.style.height = viewH * tile + "px";
    canvas.width = Math.round(viewW * tile * dpr);
    canvas.height = Math.round(viewH * tile * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawnView = "";
  }

  function camera() {
    var cx = me ? me.dx : map.spawn[0], cy = me ? me.dy : map.spawn[1];
    var x0 = Math.max(0, Math.min(map.width - viewW, Math.round(cx - viewW / 2)));
    var y0 = Math.max(0, Math.min(map.height - viewH, Math.round(cy - viewH / 2)));
    return { x0: x0, y0: y0, vw: viewW, vh: viewH };
  }

  // Drawing helpers, in CSS pixels.
  function rounded(x, y, w, h, r, fill, stroke) {
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arcTo(x + w, y, x + w, y + h, r);
    ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r);
    ctx.arcTo(x, y, x + w, y, r);
    ctx.closePath();
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 1; ctx.stroke(); }
  }
  function disc(x, y, r, fill, stroke) {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fillStyle = fill;
    ctx.fill();
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 1; ctx.stroke(); }
  }
  function plant(x, y, r) {
    disc(x, y, r, "#3f6f35");
    disc(x - r * 0.3, y - r * 0.3, r * 0.55, "#5f9a4e");
  }

  // The plenary: a carpet, a raised stage with a screen and a lectern at the back, rows
  // of seats facing it with an aisle in the middle.
  function drawPlenary(x, y, w, h, t) {
    rounded(x, y, w, h, 4, "#dde6f0", "#7f93aa");
    var sx = x + t * 0.6, sw = w - t * 1.2, sh = Math.min(h * 0.38, t * 2.4);
    rounded(sx, y + t * 0.3, sw, sh, 3, "#9b6a3a");
    ctx.fillStyle = "#6e4a26";
    ctx.fillRect(sx, y + t * 0.3 + sh - t * 0.28, sw, t * 0.28);
    rounded(x + w / 2 - sw * 0.28, y + t * 0.45, sw * 0.56, t * 0.35, 2, "#f8fafc", "#475569");
    rounded(x + w / 2 + sw * 0.3, y + t * 0.3 + sh * 0.45, t * 0.6, t * 0.5, 2, "#3b2a1a");
    var seat = t * 0.5, gap = t * 0.72, top = y + t * 0.3 + sh + t * 0.45;
    for (var ry = top; ry + seat <= y + h - t * 0.2; ry += gap) {
      for (var rx = x + t * 0.7; rx + seat <= x + w - t * 0.7; rx += gap) {
        if (Math.abs(rx + seat / 2 - (x + w / 2)) < t * 0.55) continue;
        rounded(rx, ry, seat, seat * 0.8, 2, "#44627f");
      }
    }
  }

  // A topic table: a round table with chairs around it on a rug.
  function drawTable(x, y, w, h, t) {
    rounded(x + 2, y + 2, w - 4, h - 4, 8, "#e4eedf", "#8fa88a");
    var cx = x + w / 2, cy = y + h * 0.42, r = Math.min(w, h) * 0.2;
    var chairs = 8, cr = r + t * 0.62;
    for (var i = 0; i < chairs; i++) {
      var a = (i / chairs) * Math.PI * 2;
      disc(cx + Math.cos(a) * cr, cy + Math.sin(a) * cr, t * 0.3, "#44627f");
    }
    disc(cx, cy, r, "#c39767", "#7a5a37");
    disc(cx, cy, r * 0.62, "#cfa678");
  }

  // The help desk: a counter with two chairs behind it and an information sign.
  function drawHelpdesk(x, y, w, h, t) {
    rounded(x + 2, y + 2, w - 4, h - 4, 4, "#f7ebd3", "#b9935a");
    var cw = w - t * 1.6, cy = y + t * 1.1;
    disc(x + w / 2 - cw * 0.25, y + t * 0.6, t * 0.3, "#44627f");
    disc(x + w / 2 + cw * 0.25, y + t * 0.6, t * 0.3, "#44627f");
    rounded(x + t * 0.8, cy, cw, t * 0.75, 3, "#5c6b7c");
    rounded(x + t * 0.8, cy, cw, t * 0.28, 3, "#8796a8");
    disc(x + t * 0.55, y + t * 0.55, t * 0.42, "#1e4f8a");
    ctx.fillStyle = "#ffffff";
    ctx.font = "bold " + Math.round(t * 0.6) + "px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("i", x + t * 0.55, y + t * 0.58);
  }

  // The pinboard: a wall of cork boards with notes pinned to them.
  function drawPinboard(x, y, w, h, t) {
    rounded(x + 2, y + 2, w - 4, h - 4, 4, "#f3efe3", "#b8ad8c");
    var boards = Math.max(1, Math.round(w / (t * 2.7))), gap = t * 0.25;
    var bw = (w - t * 0.6 - gap * (boards - 1)) / boards, bh = Math.min(h * 0.45, t * 1.3);
    var notes = ["#fde68a", "#a7f3d0", "#bfdbfe", "#fecaca"];
    for (var i = 0; i < boards; i++) {
      var bx = x + t * 0.3 + i * (bw + gap), by = y + t * 0.25;
      rounded(bx, by, bw, bh, 2, "#c2955a", "#7d5a2e");
      for (var n = 0; n < 3; n++) {
        ctx.fillStyle = notes[(i + n) % notes.length];
        ctx.fillRect(bx + bw * (0.12 + n * 0.29), by + bh * (n % 2 ? 0.45 : 0.18), bw * 0.22, bh * 0.34);
      }
    }
  }

  // The lounge: a rug, a sofa corner around a coffee table, plants.
  function drawLounge(x, y, w, h, t) {
    rounded(x + 2, y + 2, w - 4, h - 4, 10, "#ece4f2", "#a48cb8");
    var sofa = "#7b5d93", sw = Math.min(w * 0.6, t * 6), sx = x + (w - sw) / 2, sy = y + t * 0.5;
    rounded(sx, sy, sw, t * 0.8, 4, sofa);
    rounded(sx - t * 0.1, sy, t * 0.8, Math.min(h * 0.5, t * 2.6), 4, sofa);
    rounded(sx + sw - t * 0.7, sy, t * 0.8, Math.min(h * 0.5, t * 2.6), 4, sofa);
    rounded(x + w / 2 - t * 1.1, sy + t * 1.2, t * 2.2, t * 1, 4, "#c39767", "#7a5a37");
    plant(x + t * 0.7, y + t * 0.7, t * 0.42);
    plant(x + w - t * 0.7, y + t * 0.7, t * 0.42);
  }

  // Any other room: a rug with a small meeting table and chairs.
  function drawOther(x, y, w, h, t) {
    rounded(x + 2, y + 2, w - 4, h - 4, 4, "#e7ebef", "#8e99a6");
    var tw = Math.min(w * 0.5, t * 3), th = t * 0.9, tx = x + (w - tw) / 2, ty = y + t * 0.9;
    for (var i = 0; i < 3; i++) {
      disc(tx + tw * (i + 0.5) / 3, ty - t * 0.3, t * 0.28, "#44627f");
      disc(tx + tw * (i + 0.5) / 3, ty + th + t * 0.3, t * 0.28, "#44627f");
    }
    rounded(tx, ty, tw, th, 3, "#c39767", "#7a5a37");
  }

  var furniture = {
    plenary: drawPlenary, table: drawTable, helpdesk: drawHelpdesk,
    pinboard: drawPinboard, lounge: drawLounge
  };

  // Floor, walls, the entrance and every area's furniture; only when the view changed.
  function drawVenue(cam) {
    var key = [cam.x0, cam.y0, tile, viewW, viewH].join(",");
    if (key === drawnView) return false;
    drawnView = key;
    var t = tile;
    ctx.fillStyle = "#efe8da";
    ctx.fillRect(0, 0, cam.vw * t, cam.vh * t);
    // A light tile grid: floor boards.
    ctx.strokeStyle = "rgba(120, 100, 70, 0.10)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (var gx = 0; gx <= cam.vw; gx++) { ctx.moveTo(gx * t + 0.5, 0); ctx.lineTo(gx * t + 0.5, cam.vh * t); }
    for (var gy = 0; gy <= cam.vh; gy++) { ctx.moveTo(0, gy * t + 0.5); ctx.lineTo(cam.vw * t, gy * t + 0.5); }
    ctx.stroke();
    // Walls, row by row in runs, with a lighter top where the floor lies north of them.
    for (var y = 0; y < cam.vh; y++) {
      var row = map.rows[cam.y0 + y], above = map.rows[cam.y0 + y - 1] || "";
      var x = 0;
      while (x < cam.vw) {
        if (row.charAt(cam.x0 + x) !== "#") { x++; continue; }
        var start = x;
        while (x < cam.vw && row.charAt(cam.x0 + x) === "#") x++;
        ctx.fillStyle = "#3b4049";
        ctx.fillRect(start * t, y * t, (x - start) * t, t);
        ctx.fillStyle = "#59606b";
        for (var k = start; k < x; k++) {
          if (above.charAt(cam.x0 + k) === "#") continue;
          ctx.fillRect(k * t, y * t, t, Math.max(2, t * 0.18));
        }
      }
    }
    // The entrance: a door mat where newcomers appear.
    var ex = (map.spawn[0] - cam.x0) * t, ey = (map.spawn[1] - cam.y0) * t;
    rounded(ex - t, ey + t * 0.1, t * 3, t * 0.8, 2, "#8a6b4a");
    map.areas.forEach(function (a) {
      if (a.x + a.w < cam.x0 || a.y + a.h < cam.y0 || a.x > cam.x0 + cam.vw || a.y > cam.y0 + cam.vh) return;
      var x = (a.x - cam.x0) * t, y = (a.y - cam.y0) * t;
      // An area too small for furniture (a map from Tiled may have one) is a plain rug.
      if (a.w < 3 || a.h < 3) { rounded(x + 1, y + 1, a.w * t - 2, a.h * t - 2, 3, "#e7ebef", "#8e99a6"); return; }
      (furniture[a.kind] || drawOther)(x, y, a.w * t, a.h * t, t);
    });
    ctx.textAlign = "start";
    ctx.textBaseline = "alphabetic";
    return true;
  }

  // The names of the areas (and the entrance) as labels on the map; a table is named by
  // its topic when it has one, its furniture already says it is a table.
  function makeLabels() {
    while (overlay.firstChild) overlay.removeChild(overlay.firstChild);
    labels = map.areas.map(function (a) {
      var el = document.createElement("span");
      el.className = "map-label";
      el.setAttribute("data-label", a.key);
      el.textContent = a.kind === "table" && a.topic ? a.topic : a.name;
      var count = document.createElement("span");
      count.className = "map-count";
      el.appendChild(count);
      overlay.appendChild(el);
      return { area: a, el: el, count: count };
    });
    var door = document.createElement("span");
    door.className = "map-label map-door";
    door.textContent = T.entrance;
    overlay.appendChild(door);
    labels.push({ area: null, el: door, count: null });
    countLabels();
  }
  function countLabels() {
    labels.forEach(function (l) {
      if (!l.count) return;
      var a = l.area;
      // Only where people are: the numbers of empty places would hide their furniture.
      l.count.textContent = String(a.count || 0) + (a.capacity ? " / " + a.capacity : "");
      l.count.hidden = !a.count;
      l.el.classList.toggle("map-here", a.key === lastArea);
    });
  }
  function placeLabels(cam) {
    var t = tile, h = cam.vh * t;
    labels.forEach(function (l) {
      var a = l.area, s = l.el.style;
      if (!a) {
        // The entrance label stands inside, beside the door, out of the newcomers' way.
        s.left = (map.spawn[0] - cam.x0 + 2) * t + "px";
        s.bottom = h - (map.spawn[1] - cam.y0) * t + 2 + "px";
        return;
      }
      s.left = (a.x - cam.x0 + a.w / 2) * t + "px";
      s.maxWidth = (a.w + 1.8) * t + "px";
      // On the front edge of the area, so that the furniture stays in sight and the
      // names above the people standing there do not cover it.
      s.bottom = h - (a.y - cam.y0 + a.h + 0.45) * t + "px";
    });
  }

  // Short names for the dot: the initials of the first and the last word, titles skipped.
  function initials(name) {
    var words = String(name || "").split(/\s+/).filter(function (w) { return w && !/\.$/.test(w); });
    if (!words.length) return "?";
    var first = words[0].charAt(0), last = words.length > 1 ? words[words.length - 1].charAt(0) : "";
    return (first + last).toUpperCase();
  }
  function avatarEl(a) {
    if (a.el) return a.el;
    var el = document.createElement("span");
    el.className = "map-avatar" + (a === me ? " map-me" : "");
    if (a !== me && a.id !== undefined) el.setAttribute("data-avatar", a.id);
    var dot = document.createElement("span");
    dot.className = "map-dot";
    dot.textContent = a === me ? T.you : initials(a.name);
    var name = document.createElement("span");
    name.className = "map-name";
    name.textContent = a === me ? T.you : a.name;
    el.appendChild(dot);
    el.appendChild(name);
    overlay.appendChild(el);
    a.el = el;
    a.dot = dot;
    a.label = name;
    return el;
  }
  function dropAvatar(a) {
    if (a && a.el && a.el.parentNode) a.el.parentNode.removeChild(a.el);
  }
  // Everybody else out of sight (a new connection, a full view); one's own avatar stays.
  function forgetAll() {
    Object.keys(avatars).forEach(function (id) { dropAvatar(avatars[id]); });
    avatars = {};
  }
  function placeAvatars(cam, all) {
    var t = tile, size = Math.max(24, Math.round(t * 1.35));
    var mine = me ? areaAt(me.x, me.y) : null;
    all.forEach(function (a) {
      var el = avatarEl(a);
      var x = (a.dx - cam.x0 + 0.5) * t, y = (a.dy - cam.y0 + 0.5) * t;
      el.style.transform = "translate(" + x.toFixed(1) + "px," + y.toFixed(1) + "px)";
      if (a.size !== size) {
        a.size = size;
        a.dot.style.width = a.dot.style.height = size + "px";
        a.label.style.top = -(size / 2 + 18) + "px";
      }
      // Whether the full name shows changes only when someone reaches another tile.
      var key = me ? [a.x, a.y, me.x, me.y].join(",") : "";
      if (a !== me && me && a.namedAt !== key) {
        a.namedAt = key;
        var near = Math.abs(a.x - me.x) + Math.abs(a.y - me.y) <= NAME_NEAR ||
          (mine && areaAt(a.x, a.y) === mine);
        el.classList.toggle("map-named", !!near);
      }
    });
    if (me && me.el && me.el.nextSibling) overlay.appendChild(me.el);
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
    // The view's place on the map, for tests and tools.
    canvas.setAttribute("data-view", [cam.x0, cam.y0, cam.vw, cam.vh].join(","));
    if (drawVenue(cam)) placeLabels(cam);
    placeAvatars(cam, all);
    if (moving) redraw();
  }
  function redraw() {
    if (!drawing) { drawing = true; window.requestAnimationFrame(draw); }
  }

  // What the canvas shows, in words, for the map's description.
  function summarise() {
    var el = document.getElementById("map-summary");
    if (!el) return;
    el.textContent = T.summary + map.areas.map(function (a) {
      return a.kind === "table" && a.topic ? a.name + " (" + T.topic + a.topic + ")" : a.name;
    }).join(", ") + ".";
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
  // An area's topic and patron, for the room panel.
  function about(a) {
    var parts = [];
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
  // On the box, not the canvas: a click on a person's dot walks there too.
  box.addEventListener("click", function (e) {
    if (!me || !map) return;
    var rect = canvas.getBoundingClientRect(), cam = camera();
    var x = cam.x0 + Math.floor((e.clientX - rect.left) / rect.width * cam.vw);
    var y = cam.y0 + Math.floor((e.clientY - rect.top) / rect.height * cam.vh);
    path = findPath(me, { x: x, y: y });
    box.focus({ preventScroll: true });
  });
  window.addEventListener("resize", function () {
    if (!map) return;
    fit();
    redraw();
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
        // Gone there from the list: the room's panel takes the focus once joined, so
        // that its chat is next (walking never moves the focus).
        focusPanel = key !== "pinnwand";
      }
    });
  });

  function inSight(el) {
    var r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  }

  // The room the avatar stands in: chat, speaker queue, microphone rule, video. The panel
  // stays in place beside the map; its heading says where one is ("Sie sind jetzt in: …")
  // and is the live region that announces it.
  var panel = document.getElementById("map-room");
  var focusPanel = false;
  if (panel) panel.hidden = false;
  // Where the panel stands below the map (narrow screens), a link under the map leads to
  // it; not a live region, the panel's heading already announces the room.
  var jump = null;
  if (panel) {
    jump = document.createElement("p");
    jump.className = "map-jump";
    jump.hidden = true;
    var jumpLink = document.createElement("a");
    jumpLink.href = "#map-room-h";
    jump.appendChild(jumpLink);
    box.parentNode.insertBefore(jump, box.nextSibling);
  }
  function showRoom(slug, name) {
    live.setRoom(slug);
    if (!panel) return;
    var log = document.getElementById("chat-log");
    if (log) while (log.firstChild) log.removeChild(log.firstChild);
    panel.querySelectorAll('input[name="room"]').forEach(function (i) { i.value = slug || ""; });
    panel.querySelectorAll("[data-count-room]").forEach(function (e) { e.setAttribute("data-count-room", slug || ""); });
    var title = document.getElementById("map-room-name");
    if (title) title.textContent = slug ? name || "" : title.getAttribute("data-none");
    var inWord = document.getElementById("map-room-in");
    if (inWord) inWord.hidden = !slug;
    var body = document.getElementById("map-room-body");
    if (body) body.hidden = !slug;
    panel.classList.toggle("map-in", !!slug);
    if (jump) {
      jump.firstChild.textContent = slug ? T.joined + (name || "") + T.toRoom : "";
      jump.hidden = !slug;
    }
    var area = slug ? areaByKey(slug) : null;
    var topic = document.getElementById("map-room-topic");
    if (topic) {
      var text = area ? about(area) : "";
      topic.textContent = text;
      topic.hidden = !text;
    }
    document.querySelectorAll("#map-areas li[data-area]").forEach(function (li) {
      li.classList.toggle("map-here-item", !!slug && li.getAttribute("data-area") === slug);
    });
    var link = document.getElementById("map-room-link");
    if (link && slug) link.href = link.getAttribute("data-base") + slug;
    var video = document.getElementById("map-room-video");
    if (video && slug) video.href = video.getAttribute("data-base") + slug + "/video";
    countLabels();
  }

  live.listen(function (msg) {
    switch (msg.t) {
      case "hello":
        // A new connection starts at the entrance: afterwards, back to the room.
        if (lastArea) { wanted = lastArea; lastArea = null; showRoom(null, null); }
        forgetAll();
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
        if (msg.reset) forgetAll();
        (msg.m || []).forEach(function (p) {
          if (me && p[0] === me.avatar) return;
          var a = avatars[p[0]];
          if (!a) {
            if (p.length < 4) return; // named in the next full view
            a = avatars[p[0]] = { id: p[0], name: p[3], x: p[1], y: p[2], dx: p[1], dy: p[2] };
          }
          a.x = p[1]; a.y = p[2];
        });
        (msg.g || []).forEach(function (id) { dropAvatar(avatars[id]); delete avatars[id]; });
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
        countLabels();
        redraw();
        break;
      case "joined": {
        lastArea = msg.room;
        // The panel's heading announces the room; the line under the map is for the
        // pinboard and refusals.
        announce("");
        showRoom(msg.room, msg.name);
        if (focusPanel) {
          focusPanel = false;
          var heading = document.getElementById("map-room-h");
          if (heading) {
            // Side by side: back up to the map and the panel if the list had scrolled
            // them away. Stacked (narrow screens): to the panel.
            var beside = heading.getBoundingClientRect().top < box.getBoundingClientRect().bottom;
            if (beside && (!inSight(box) || !inSight(heading))) box.closest(".map-layout").scrollIntoView({ block: "start" });
            heading.focus({ preventScroll: beside });
          }
        }
        break;
      }
      case "left":
        announce("");
        lastArea = null;
        showRoom(null, null);
        break;
      case "error":
        // Refused steps and goes (a full room or table says why); other forms' errors
        // stay beside their fields.
        if (!msg.id || gotos[msg.id]) {
          path = [];
          held = null;
          focusPanel = false;
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
      var layout = box.closest(".map-layout");
      if (layout) layout.classList.add("map-drawn");
      box.hidden = false;
      var help = document.getElementById("map-help");
      if (help) help.hidden = false;
      fit();
      makeLabels();
      summarise();
      redraw();
    });
})();
