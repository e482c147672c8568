// K3, K6: several participants in separate browser contexts meet in the plenum of the
// Strategiekonvent: chat, raised hands in order, the floor given by the moderator, an
// announcement seen by all, and a participant whose network drops catches up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openSession } from '../lib/browser.mjs';
import { konventBin, startServer } from '../lib/server.mjs';

const EVENT = '/konvent/strategiekonvent-2025';
const PLENUM = `${EVENT}/raeume/plenum`;

/** Participant session tokens from the command line, against the server's data folder. */
function participantTokens(server, count) {
  return execFileSync(
    konventBin(),
    ['admin', 'load-test-sessions', '--data', server.dataDir, '--event', 'strategiekonvent-2025', '--count', String(count)],
    { env: { ...process.env, DATABASE_URL: '', RUST_LOG: 'warn' } },
  )
    .toString()
    .trim()
    .split('\n');
}

/**
 * A TCP proxy in front of the server whose "network" can be cut: drop() closes every
 * connection through it and refuses new ones until restore().
 */
function flakyProxy(targetPort) {
  const sockets = new Set();
  let down = false;
  const srv = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
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
        drop() {
          down = true;
          for (const sock of sockets) sock.destroy();
        },
        restore() {
          down = false;
        },
        close: () => new Promise((r) => srv.close(r)),
      });
    });
  });
}

async function asParticipant(browser, server, token) {
  const s = await openSession(browser, server);
  await s.context.addCookies([
    { name: 'konvent_session', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
  ]);
  return s;
}

const live = (page) => page.locator('#live-status').filter({ hasText: /Live verbunden/ }).waitFor();
const queueNames = (page) =>
  page.locator('#queue > li').evaluateAll((lis) => lis.map((li) => li.firstChild.textContent.trim()));

describe('a live room with several participants', () => {
  let server;
  let browser;
  let proxy;
  const sessions = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    await browser?.close().catch(() => {});
    await proxy?.close();
    await server?.stop();
  });

  it('chat, hands in order, the floor, an announcement and a reconnect', { timeout: 240_000 }, async () => {
    const tokens = participantTokens(server, 3);
    assert.equal(tokens.length, 3);
    // Participant 3 reaches the server through a proxy whose network can drop.
    proxy = await flakyProxy(server.port);
    const people = [];
    for (const [i, token] of tokens.entries()) {
      const s = await asParticipant(browser, i === 2 ? proxy : server, token);
      sessions.push(s);
      await s.visit(PLENUM);
      await live(s.page);
      const name = (await s.page.locator('.account .who strong').textContent()).trim();
      people.push({ s, page: s.page, name });
    }
    const [p1, p2, p3] = people;

    // The admin (organizer of every event) moderates the plenum.
    const chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit(PLENUM);
    await live(chair.page);
    const everybody = [...people.map((p) => p.page), chair.page];

    // Chat: one line reaches every page without a reload.
    await p1.page.getByLabel('Nachricht').fill('Guten Tag aus dem **Plenum**');
    await p1.page.getByLabel('Nachricht').press('Enter');
    for (const page of everybody) {
      await page.locator('#chat-log li', { hasText: 'Guten Tag aus dem Plenum' }).waitFor();
    }
    assert.equal(await p2.page.locator('#chat-log strong', { hasText: 'Plenum' }).count(), 1, 'Markdown-lite rendered');
    assert.equal(await p1.page.getByLabel('Nachricht').inputValue(), '', 'the field is cleared after the ack');

    // Hands: participant 2, then 3.
    await p2.page.getByRole('button', { name: 'Hand heben' }).click();
    await p2.page.getByRole('button', { name: 'Hand senken' }).waitFor();
    await p3.page.getByRole('button', { name: 'Hand heben' }).click();
    for (const page of everybody) {
      await page.locator('#queue > li').nth(1).waitFor();
      assert.deepEqual(await queueNames(page), [p2.name, p3.name]);
    }

    // The moderator gives the floor to participant 2.
    await chair.page.locator('#queue > li', { hasText: p2.name }).getByRole('button', { name: /^Wort erteilen/ }).click();
    for (const page of everybody) {
      await page.locator('#speaker', { hasText: p2.name }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('#queue > li').length === 1);
      assert.deepEqual(await queueNames(page), [p3.name]);
    }

    // An announcement from the organizers' console reaches every room page.
    const desk = await openSession(browser, server);
    sessions.push(desk);
    await desk.context.addCookies(await chair.context.cookies());
    await desk.visit(`${EVENT}/organisation`);
    await live(desk.page);
    await desk.page.getByLabel('Text der Durchsage').fill('Die Pause beginnt in fünf Minuten.');
    await desk.page.getByRole('button', { name: 'Durchsage senden' }).click();
    for (const p of people) {
      await p.page.locator('#announcements-box', { hasText: 'Die Pause beginnt in fünf Minuten.' }).waitFor();
    }

    // Participant 3's network drops; two lines are written meanwhile; back online, the
    // page resumes from its last sequence and shows each line exactly once.
    proxy.drop();
    await p3.page.locator('#live-status', { hasText: /unterbrochen|Verbinde/ }).waitFor({ timeout: 20_000 });
    for (const line of ['Erste Zeile während der Störung', 'Zweite Zeile während der Störung']) {
      await p1.page.getByLabel('Nachricht').fill(line);
      await p1.page.getByRole('button', { name: 'Senden' }).click();
      await p2.page.locator('#chat-log li', { hasText: line }).waitFor();
    }
    proxy.restore();
    for (const line of ['Erste Zeile während der Störung', 'Zweite Zeile während der Störung']) {
      await p3.page.locator('#chat-log li', { hasText: line }).waitFor({ timeout: 30_000 });
    }
    await live(p3.page);
    for (const line of ['Guten Tag aus dem', 'Erste Zeile während der Störung', 'Zweite Zeile während der Störung']) {
      assert.equal(await p3.page.locator('#chat-log li', { hasText: line }).count(), 1, `${line} exactly once`);
    }

    // Accessibility of the live pages, with their live content in place. The dropped
    // connection logged network errors on participant 3's page; those were expected.
    p3.s.problems.splice(0);
    for (const s of [p1.s, chair, desk]) {
      await s.axe();
      s.assertClean();
    }
    await p1.s.visit(EVENT);
    await p1.s.visit(`${EVENT}/fragen`);
    await p1.s.visit(`${EVENT}/nachrichten`);
  });

  it('the room works without JavaScript', { timeout: 120_000 }, async () => {
    const [token] = participantTokens(server, 1);
    const s = await openSession(browser, server);
    sessions.push(s);
    const context = await browser.newContext({ baseURL: server.baseURL, javaScriptEnabled: false, locale: 'de-DE' });
    await context.addCookies([
      { name: 'konvent_session', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
    ]);
    const page = await context.newPage();
    await page.goto(PLENUM);
    await page.getByLabel('Nachricht').fill('Ohne JavaScript geschrieben');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Senden' }).click()]);
    assert.equal(new URL(page.url()).pathname, PLENUM);
    await page.locator('#chat-log li', { hasText: 'Ohne JavaScript geschrieben' }).waitFor();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Hand heben' }).click()]);
    await page.getByRole('button', { name: 'Hand senken' }).waitFor();
    await context.close();
  });
});
