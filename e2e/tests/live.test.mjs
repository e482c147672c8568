// K3, K6: several participants in separate browser contexts meet in the plenum of the
// Strategiekonvent: chat, raised hands in order, the floor given by the moderator, an
// announcement from the organizers' console seen by all, and a participant whose
// network drops catches up without losing or doubling a line. The room also works
// without JavaScript.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { assertRegionsEqualReload } from '../lib/regions.mjs';
import { konventBin } from '../lib/server.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const PLENUM = `${EVENT}/raeume/plenum`;
/** The live regions of a room page (each one server-rendered fragment). */
const ROOM_REGIONS = ['#chat-log', '#chat-locked', '#speaker-box', '#queue-box', '#announcements-box', '#mic-rule'];
/** Where live.js keeps the last sequence it saw (docs/live-protocol.md: since=). */
const SEQ_KEY = `konvent-seq:${SLUG}:plenum`;

/** Participant session tokens from the command line, against the server's data folder. */
function participantTokens(server, count) {
  const out = execFileSync(
    konventBin(),
    ['admin', 'load-test-sessions', '--data', server.dataDir, '--event', SLUG, '--count', String(count)],
    { env: { ...process.env, DATABASE_URL: '', RUST_LOG: 'warn' } },
  ).toString();
  const tokens = out.split('\n').map((l) => l.trim()).filter(Boolean);
  assert.equal(tokens.length, count, `load-test-sessions should print ${count} tokens, printed:\n${out}`);
  return tokens;
}

/**
 * A TCP relay in front of the server. cut() ends every connection through it at once,
 * as a dropped network does. (context.setOffline(true) alone does not: Chromium keeps
 * an open WebSocket open and merely holds its frames back; it only refuses new
 * connections while offline. So the drop is both: offline, and the socket cut.)
 */
function relay(targetPort) {
  const sockets = new Set();
  const srv = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.on('error', () => {});
      sock.on('close', () => {
        sockets.delete(sock);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      resolve({
        baseURL: `http://127.0.0.1:${srv.address().port}`,
        cut() {
          for (const sock of sockets) sock.destroy();
        },
        close: () =>
          new Promise((r) => {
            for (const sock of sockets) sock.destroy();
            srv.close(r);
          }),
      });
    });
  });
}

async function asParticipant(browser, server, token, options) {
  const s = await openSession(browser, server, options);
  await s.context.addCookies([
    { name: 'konvent_session', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
  ]);
  return s;
}

const live = (page, timeout) =>
  page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor({ timeout });
/** The names in the speaker queue, in order (the text before a moderator's button). */
const queueNames = (page) =>
  page.locator('#queue > li').evaluateAll((lis) => lis.map((li) => li.firstChild.textContent.trim()));
/** The texts of the chat lines (without name, time and the report and remove forms), in order. */
const chatBodies = (page) =>
  page.locator('#chat-log > li').evaluateAll((lis) =>
    lis.map((li) => {
      const copy = li.cloneNode(true);
      copy.querySelectorAll('.who, .meta, details, form').forEach((e) => e.remove());
      return copy.textContent.replace(/\s+/g, ' ').trim();
    }),
  );
const chatLine = (page, text) => page.locator('#chat-log > li', { hasText: text });
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The moderator's button "Wort erteilen" for one person (its name ends with theirs). */
const giveFloor = (page, name) =>
  page.getByRole('button', { name: new RegExp(`^Wort erteilen\\s*:\\s*${escapeRe(name)}$`) });
/** A mark on the document: still there later = the page was never reloaded. */
const markDocument = (page) => page.evaluate(() => (window.__e2eSameDocument = true));
const sameDocument = (page) => page.evaluate(() => window.__e2eSameDocument === true);
/**
 * Waits until fn(arg) is true in the page. Polls on a timer: the default polling by
 * animation frames stalls in a background tab (the chair's room behind the console).
 */
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { polling: 20 });
const fieldCleared = (page) => until(page, () => document.getElementById('chat-text').value === '');

describe('a live room with several participants', () => {
  let server;
  let browser;
  let net3;
  let tokens;
  const sessions = [];

  serverAndBrowser(sessions, async (sv, b) => {
    server = sv;
    browser = b;
    // Three participants for the live room, a fourth for the room without JavaScript.
    tokens = participantTokens(server, 4);
  }, { cleanup: async () => {
    await net3?.close();
  } });

  it('chat, hands in order, the floor, an announcement and a reconnect', { timeout: 240_000 }, async () => {
    // Participant 3 reaches the server through a relay whose connections can be cut.
    net3 = await relay(server.port);
    const sockets1 = [];
    const sockets3 = [];
    const people = [];
    for (const [i, token] of tokens.slice(0, 3).entries()) {
      const s = await asParticipant(browser, i === 2 ? net3 : server, token);
      sessions.push(s);
      if (i === 0) s.page.on('websocket', (ws) => sockets1.push(ws));
      if (i === 2) s.page.on('websocket', (ws) => sockets3.push(ws.url()));
      await s.visit(PLENUM);
      await live(s.page);
      const name = (await s.page.locator('.account .who strong').textContent()).trim();
      people.push({ s, page: s.page, name });
    }
    const [p1, p2, p3] = people;
    assert.equal(new Set(people.map((p) => p.name)).size, 3, `three different people: ${people.map((p) => p.name)}`);

    // The demo admin (organizer of every event) signs in, opens the plenum as its
    // moderator and the organizers' console in a second tab.
    const chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit(PLENUM);
    await live(chair.page);
    await chair.page.getByRole('button', { name: 'Wort zurücknehmen' }).waitFor();
    const desk = await openSession(browser, server, { context: chair.context });
    sessions.push(desk);
    await desk.visit(`${EVENT}/organisation`);
    await live(desk.page);

    const rooms = [...people.map((p) => p.page), chair.page];
    for (const page of [...rooms, desk.page]) await markDocument(page);

    // Chat: participant 1 types a line and presses Enter; every room page shows it
    // without a reload.
    const hello = 'Guten Tag aus dem **Plenum**';
    await p1.page.getByLabel('Nachricht').fill(hello);
    await p1.page.getByLabel('Nachricht').press('Enter');
    for (const page of rooms) await chatLine(page, 'Guten Tag aus dem Plenum').first().waitFor();
    for (const page of rooms) {
      assert.equal(await chatLine(page, 'Guten Tag aus dem Plenum').count(), 1, 'the line once');
      assert.equal(await chatLine(page, 'Guten Tag aus dem Plenum').locator('strong', { hasText: 'Plenum' }).count(), 1, 'Markdown-lite rendered');
    }
    await fieldCleared(p1.page);
    // The line as it arrived equals the line after a reload, for its author and another.
    for (const page of [p1.page, p2.page, chair.page]) await assertRegionsEqualReload(page, ROOM_REGIONS, 'chat');

    // What is typed while a line is still on its way stays in the field when the
    // server acknowledges that line.
    const acked = sockets1.at(-1).waitForEvent('framereceived', {
      predicate: (f) => String(f.payload).split('\n').some((line) => JSON.parse(line).t === 'ack'),
    });
    await p1.page.evaluate(() => {
      const field = document.getElementById('chat-text');
      field.value = 'Zwischenruf';
      field.form.requestSubmit();
      field.value = 'Noch nicht fertig';
    });
    await acked;
    for (const page of rooms) await chatLine(page, 'Zwischenruf').first().waitFor();
    assert.equal(await p1.page.getByLabel('Nachricht').inputValue(), 'Noch nicht fertig', 'the draft typed meanwhile is kept');
    await p1.page.getByLabel('Nachricht').fill('');

    // Hands: participant 2, then participant 3.
    await p2.page.getByRole('button', { name: 'Hand heben' }).click();
    await p2.page.getByRole('button', { name: 'Hand senken' }).waitFor();
    await p3.page.getByRole('button', { name: 'Hand heben' }).click();
    await p3.page.getByRole('button', { name: 'Hand senken' }).waitFor();
    for (const page of rooms) {
      await page.locator('#queue > li').nth(1).waitFor();
      assert.deepEqual(await queueNames(page), [p2.name, p3.name], `queue on ${page.url()}`);
      assert.equal(await page.locator('#queue-box .empty').count(), 0, 'no "Keine Wortmeldungen."');
    }
    // Only the moderator may give the floor.
    for (const p of people) assert.equal(await p.page.getByRole('button', { name: /^Wort erteilen/ }).count(), 0);
    assert.equal(await chair.page.getByRole('button', { name: /^Wort erteilen/ }).count(), 2);
    for (const page of [p1.page, p2.page, chair.page]) await assertRegionsEqualReload(page, ROOM_REGIONS, 'hands');

    // The moderator gives the floor to participant 2.
    await giveFloor(chair.page, p2.name).click();
    for (const page of rooms) {
      await page.locator('#speaker', { hasText: p2.name }).waitFor();
      await until(page, () => document.querySelectorAll('#queue > li').length === 1);
      assert.deepEqual(await queueNames(page), [p3.name], `queue on ${page.url()}`);
      assert.equal((await page.locator('#speaker').textContent()).trim(), p2.name);
    }
    // Participant 2 has the floor and no raised hand any more; participant 3 still has.
    await p2.page.getByRole('button', { name: 'Hand heben' }).waitFor();
    await p3.page.getByRole('button', { name: 'Hand senken' }).waitFor();
    assert.equal(await giveFloor(chair.page, p3.name).count(), 1);
    for (const page of [p2.page, p3.page, chair.page]) await assertRegionsEqualReload(page, ROOM_REGIONS, 'floor');

    // An announcement from the organizers' console reaches every room page, and the
    // lobby that participant 2 has open in another tab.
    const lobby = await openSession(browser, server, { context: p2.s.context });
    sessions.push(lobby);
    await lobby.visit(EVENT);
    await live(lobby.page);
    const notice = 'Die Pause beginnt in fünf Minuten.';
    await desk.page.getByLabel('Text der Durchsage').fill(notice);
    await desk.page.getByRole('button', { name: 'Durchsage senden' }).click();
    for (const page of rooms) {
      const box = page.locator('#announcements-box');
      await box.filter({ hasText: notice }).waitFor({ state: 'visible' });
      assert.equal((await box.textContent()).trim(), `Durchsage: ${notice}`);
    }
    await until(desk.page, () => document.getElementById('announce-text').value === '');
    for (const page of [p1.page, chair.page]) await assertRegionsEqualReload(page, ROOM_REGIONS, 'announcement');
    await lobby.page.locator('#announcements li', { hasText: notice }).waitFor();
    await assertRegionsEqualReload(lobby.page, ['#announcements', '[data-empty-for="announcements"]'], 'lobby announcements');

    // Participant 3's network drops: offline, and the connection is gone. Meanwhile
    // participant 1 writes two lines (with the "Senden" button).
    const since = await p3.page.evaluate((key) => sessionStorage.getItem(key), SEQ_KEY);
    assert.match(since ?? '', /^[1-9][0-9]*$/, 'participant 3 has a last sequence number');
    const before = sockets3.length;
    await p3.s.context.setOffline(true);
    net3.cut();
    await p3.page.locator('#live-status', { hasText: /^Verbindung unterbrochen/ }).waitFor();
    const during = ['Erste Zeile während der Störung', 'Zweite Zeile während der Störung'];
    for (const line of during) {
      await p1.page.getByLabel('Nachricht').fill(line);
      await p1.page.getByRole('button', { name: 'Senden', exact: true }).click();
      for (const page of [p1.page, p2.page, chair.page]) await chatLine(page, line).first().waitFor();
      // Acknowledged (the field is cleared) before the next line is typed.
      await fieldCleared(p1.page);
    }
    for (const line of during) {
      assert.equal(await chatLine(p3.page, line).count(), 0, `participant 3 is offline and cannot have "${line}" yet`);
    }
    assert.doesNotMatch(await p3.page.locator('#live-status').textContent(), /^Live/, 'participant 3 is not live while offline');

    // Back online: the page reconnects by itself, asks for what it missed since its
    // last sequence number, and shows each line exactly once, in order.
    await p3.s.context.setOffline(false);
    for (const line of during) await chatLine(p3.page, line).first().waitFor({ timeout: 30_000 });
    await live(p3.page, 30_000);
    const reconnects = sockets3.slice(before);
    assert.ok(reconnects.length >= 1, 'participant 3 opened a new WebSocket');
    for (const url of reconnects) {
      assert.equal(new URL(url).searchParams.get('since'), since, `the reconnect resumes from seq ${since}: ${url}`);
      assert.equal(new URL(url).searchParams.get('room'), 'plenum');
    }
    const expected = ['Guten Tag aus dem Plenum', 'Zwischenruf', ...during];
    for (const page of rooms) {
      const bodies = await chatBodies(page);
      assert.deepEqual(bodies.slice(-expected.length), expected, `chat on ${page.url()}: ${JSON.stringify(bodies)}`);
      for (const line of expected) {
        assert.equal(await chatLine(page, line).count(), 1, `"${line}" exactly once on ${page.url()}`);
      }
    }
    // The room's state is still right after the reconnect.
    assert.equal((await p3.page.locator('#speaker').textContent()).trim(), p2.name);
    assert.deepEqual(await queueNames(p3.page), [p3.name]);
    await p3.page.getByRole('button', { name: 'Hand senken' }).waitFor();

    // While offline, Chromium logged its refused reconnects as console errors; those
    // (and only those) were expected.
    const refused = /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/konvent\/strategiekonvent-2025\/live\?[^']*' failed: .*ERR_INTERNET_DISCONNECTED/;
    for (let i = p3.s.problems.length - 1; i >= 0; i--) {
      if (refused.test(p3.s.problems[i].consoleText ?? '')) p3.s.problems.splice(i, 1);
    }

    // Nothing of this reloaded a page.
    for (const page of [...rooms, desk.page]) assert.ok(await sameDocument(page), `${page.url()} was not reloaded`);

    // Accessibility with the live content in place: the room (participant's and
    // moderator's view, with queue, speaker, announcement), the organizers' console.
    for (const s of [p1.s, p2.s, p3.s, chair, desk]) {
      await s.axe();
      s.assertClean();
    }
    // Participant 1 goes to the lobby (the announcement is in its list) while the
    // chair writes more lines than the room page renders (50). Back in the room, the
    // page resumes from the sequence it saw last: the lines from before the last 50
    // come too, each once and in order; the long, scrolling chat passes axe.
    await p1.s.visit(EVENT);
    await p1.page.locator('#announcements li', { hasText: notice }).waitFor();
    const many = Array.from({ length: 55 }, (_, i) => `Beitrag ${i + 1} von 55`);
    const field = chair.page.getByLabel('Nachricht');
    for (const line of many) {
      await field.fill(line);
      await field.press('Enter');
      await fieldCleared(chair.page);
    }
    await chatLine(chair.page, many.at(-1)).waitFor();
    await p1.s.visit(PLENUM);
    await live(p1.page);
    await chatLine(p1.page, many[0]).waitFor();
    const order = await p1.page.locator('#chat-log > li').evaluateAll((lis) => lis.map((li) => Number(li.dataset.seq)));
    assert.deepEqual(order, [...new Set(order)].sort((a, b) => a - b), `chat lines once each, in sequence order: ${order}`);
    const bodies = await chatBodies(p1.page);
    assert.deepEqual(bodies, many, 'the last 50 lines and the 5 before them, in order');
    await p1.s.axe();
    p1.s.assertClean();

    // Questions and messages: a message to the help desk reaches the help desk's staff
    // (the chair is an organizer) without a reload, and equals its reload on both sides.
    await p1.s.visit(`${EVENT}/fragen`);
    await chair.visit(`${EVENT}/nachrichten`);
    await live(chair.page);
    await p1.s.visit(`${EVENT}/nachrichten`);
    await live(p1.page);
    const question = 'Wo finde ich die Folien des Pitches?';
    await p1.page.getByRole('textbox', { name: 'Nachricht' }).fill(question);
    await p1.page.getByRole('button', { name: 'Senden', exact: true }).click();
    for (const page of [p1.page, chair.page]) {
      await page.locator('#dm-log li', { hasText: question }).waitFor();
      await assertRegionsEqualReload(page, ['#dm-log', '[data-empty-for="dm-log"]'], 'direct message');
    }
    await chair.visit(EVENT);
    await chair.visit(`${EVENT}/fragen`);
    for (const s of [p2.s, p3.s, desk]) s.assertClean();
  });

  it('without JavaScript, a chat line and a raised hand go through the plain forms', { timeout: 120_000 }, async () => {
    // Somebody in the room with JavaScript sees what the form posts, live.
    const watcher = await asParticipant(browser, server, tokens[0]);
    sessions.push(watcher);
    await watcher.visit(PLENUM);
    await live(watcher.page);

    const s = await asParticipant(browser, server, tokens[3], { contextOptions: { javaScriptEnabled: false } });
    sessions.push(s);
    const { page } = s;
    // axe-core cannot run here (without JavaScript its timers never fire); the same
    // markup is checked with JavaScript above. The other guards apply.
    const check = (response) => {
      assert.ok(response && response.status() < 400, `HTTP ${response?.status()} for ${page.url()}`);
      s.assertClean();
    };
    const submit = async (button) => {
      const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
      check(response);
    };
    check(await page.goto(PLENUM, { waitUntil: 'load' }));
    const name = (await page.locator('.account .who strong').textContent()).trim();
    assert.equal((await page.locator('#live-status').textContent()).trim(), '', 'live.js did not run');

    const line = 'Ohne JavaScript geschrieben';
    await page.getByLabel('Nachricht').fill(line);
    await submit(page.getByRole('button', { name: 'Senden', exact: true }));
    assert.equal(new URL(page.url()).pathname, PLENUM, 'back in the room after the post');
    assert.equal(await chatLine(page, line).count(), 1, 'the line is on the page after the redirect');
    assert.equal(await page.getByLabel('Nachricht').inputValue(), '');
    await chatLine(watcher.page, line).waitFor();

    await submit(page.getByRole('button', { name: 'Hand heben' }));
    assert.equal(new URL(page.url()).pathname, PLENUM);
    await page.getByRole('button', { name: 'Hand senken' }).waitFor();
    assert.ok((await queueNames(page)).includes(name), 'own name in the queue');
    await watcher.page.locator('#queue > li', { hasText: name }).waitFor();
    watcher.assertClean();
  });
});
