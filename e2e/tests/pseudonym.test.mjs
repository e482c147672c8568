// Pseudonymous participation (issue 21): a participant of the Strategiekonvent (the
// demo allows pseudonyms there) chooses a pseudonym on /konvent/{e}/pseudonym with its
// plain forms, writes a chat line in the plenum; another participant sees the line under
// the pseudonym and never the real name; the moderator (the demo's organizer) sees the
// pseudonym in the room and "Pseudonym (name)" on the pseudonym page. Every page axe-clean.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { konventBin } from '../lib/server.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const PLENUM = `${EVENT}/raeume/plenum`;

function participantTokens(server, count) {
  const out = execFileSync(
    konventBin(),
    ['admin', 'load-test-sessions', '--data', server.dataDir, '--event', SLUG, '--count', String(count)],
    { env: { ...process.env, DATABASE_URL: '', RUST_LOG: 'warn' } },
  ).toString();
  const tokens = out.split('\n').map((l) => l.trim()).filter(Boolean);
  assert.equal(tokens.length, count, `load-test-sessions should print ${count} tokens`);
  return tokens;
}

async function asParticipant(browser, server, token, options) {
  const s = await openSession(browser, server, options);
  await s.context.addCookies([
    { name: 'konvent_session', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
  ]);
  return s;
}

const chatLine = (page, text) => page.locator('#chat-log > li', { hasText: text });

describe('pseudonymous participation', () => {
  let server;
  let browser;
  const sessions = [];

  serverAndBrowser(sessions, async (sv, b) => {
    server = sv;
    browser = b;
  });

  it('a participant appears under a pseudonym; the moderator sees who it is', { timeout: 180_000 }, async () => {
    const [t1, t2] = participantTokens(server, 2);
    // The pseudonym page's forms are plain forms (posted and answered with a page).
    const p1 = await asParticipant(browser, server, t1);
    const p2 = await asParticipant(browser, server, t2);
    sessions.push(p1, p2);
    await p1.visit(EVENT);
    const real = (await p1.page.locator('.account .who strong').textContent()).trim();
    await p1.load(() => p1.page.getByRole('link', { name: 'Pseudonym', exact: true }).click());

    // A name that is not allowed comes back beside the field.
    await p1.page.getByLabel('Pseudonym', { exact: true }).fill('<b>Fett</b>');
    await p1.load(() => p1.page.getByRole('button', { name: 'Pseudonym speichern' }).click(), {
      allowStatus: (s) => s === 422,
    });
    await p1.page.locator('#pseudonym-error').waitFor();
    assert.equal(await p1.page.getByLabel('Pseudonym', { exact: true }).getAttribute('aria-invalid'), 'true');

    await p1.page.getByLabel('Pseudonym', { exact: true }).fill('Nachtfalter E2E');
    await p1.load(() => p1.page.getByRole('button', { name: 'Pseudonym speichern' }).click());
    await p1.page.getByRole('status').filter({ hasText: 'Gespeichert' }).waitFor();

    // Participant 2 waits live in the plenum; participant 1 writes through the form.
    await p2.visit(PLENUM);
    await p2.page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();
    await p1.visit(PLENUM);
    await p1.page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();
    await p1.page.getByLabel('Nachricht').fill('Hallo unter Pseudonym');
    await p1.page.getByLabel('Nachricht').press('Enter');
    const seen = chatLine(p2.page, 'Hallo unter Pseudonym');
    await seen.waitFor();
    assert.match(await seen.textContent(), /Nachtfalter E2E/);
    // After a reload too, and the real name appears nowhere on the page.
    await p2.visit(PLENUM);
    assert.match(await chatLine(p2.page, 'Hallo unter Pseudonym').textContent(), /Nachtfalter E2E/);
    assert.ok(!(await p2.page.content()).includes(real), `the real name ${real} reaches another participant`);
    await p2.visit(`${EVENT}/teilnehmende`);
    assert.ok(!(await p2.page.content()).includes(real), 'not in the people list either');

    // The moderator sees the pseudonym in the room and the person behind it.
    const chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit(PLENUM);
    assert.match(await chatLine(chair.page, 'Hallo unter Pseudonym').textContent(), /Nachtfalter E2E/);
    await chair.visit(`${EVENT}/pseudonym`);
    await chair.page.getByRole('cell', { name: `Nachtfalter E2E (${real})` }).waitFor();
    await chair.visit(`${EVENT}/organisation`);
    await chair.page.getByRole('button', { name: 'Pseudonyme nicht mehr erlauben' }).waitFor();
  });
});
