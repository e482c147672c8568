// The council's votes in the browser (issue 20, G9): the office opens a vote on an agenda
// item's draft, three members vote from their own browsers, and the result with its
// arithmetic reaches every open page live (no reload); one member changes the ballot
// before the office closes the vote; after the close the ballots are frozen. axe-core
// checks the session page with an open and with a closed vote.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { field, openSession, selectOptionByText } from '../lib/browser.mjs';
import { regionSnapshot } from '../lib/regions.mjs';
import { konventBin } from '../lib/server.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SESSION = '/gremien/sitzungen/46';
const DRAFT = '2026/05';

const textOf = (locator) => locator.evaluate((el) => el.innerText.replace(/\s+/g, ' '));

/** A single-use sign-in link (its path) for an existing account of the demo. */
function signInPath(server, email) {
  const out = execFileSync(konventBin(), ['admin', 'sign-in-link', email, '--data', server.dataDir], {
    env: { ...process.env, DATABASE_URL: '', KONVENT_PUBLIC_URL: server.baseURL, RUST_LOG: 'warn' },
  }).toString();
  return out.match(/\/anmelden\/link\/[A-Za-z0-9_-]+/)[0];
}

/** Signs `s` in through a sign-in link. */
async function signIn(s, link) {
  await s.visit(link);
  await s.load(() => s.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
  await s.page.getByRole('banner').getByRole('button', { name: 'Abmelden', exact: true }).waitFor();
}

/** Opens the session page, waits for its live connection and marks the document, so a
 * later check can tell that the page was not loaded again. */
async function openLive(s) {
  await s.visit(SESSION);
  await waitLive(s.page);
  await s.page.evaluate(() => {
    window.__notReloaded = true;
  });
}

function waitLive(page) {
  return page.waitForFunction(() => /Live verbunden/.test(document.getElementById('council-live')?.textContent ?? ''));
}

/** Waits until the vote's region on `page` shows `pattern`, without the page being reloaded. */
async function seesLive(s, voteId, pattern, who) {
  const region = s.page.locator(`#vote-${voteId}`);
  try {
    await s.page.waitForFunction(
      ([sel, source]) => new RegExp(source).test(document.querySelector(sel)?.innerText.replace(/\s+/g, ' ') ?? ''),
      [`#vote-${voteId}`, pattern.source],
      { timeout: 10_000 },
    );
  } catch (err) {
    const now = (await region.count()) ? await textOf(region) : '(no region)';
    assert.fail(`${who}: the vote region did not show ${pattern} live; it shows: ${now}`);
  }
  assert.equal(await s.page.evaluate(() => window.__notReloaded === true), true, `${who}: the page was reloaded`);
  s.assertClean(`${who} after a live change`);
}

/** The region as it is live equals the same region on a fresh load of the page. */
async function equalsReload(s, voteId, who) {
  const fresh = await s.context.newPage();
  try {
    await fresh.goto(SESSION);
    await waitLive(fresh);
    const live = await regionSnapshot(s.page, `#vote-${voteId}`);
    const reloaded = await regionSnapshot(fresh, `#vote-${voteId}`);
    assert.deepEqual(live, reloaded, `${who}: the live vote region differs from its reload`);
  } finally {
    await fresh.close();
  }
}

/** Casts `ballot` ("ja", "nein", "Enthaltung") from the member's page (a form post). */
async function vote(s, ballot) {
  const form = s.page.getByRole('group', { name: `Ihre Stimme für Ihren Sitz: ${DRAFT}` });
  await s.load(() => form.getByRole('button', { name: ballot, exact: true }).click());
  await waitLive(s.page);
  await s.page.evaluate(() => {
    window.__notReloaded = true;
  });
}

describe('a vote in a council session, live in four browsers', () => {
  let server;
  let browser;
  const sessions = [];

  serverAndBrowser(sessions, async (sv, b) => {
    server = sv;
    browser = b;
  });

  it('the office opens, three members vote and change, the office closes', { timeout: 300_000 }, async () => {
    const office = await openSession(browser, server);
    sessions.push(office);
    await signIn(office, server.signInLink);

    // The draft on session 46, a binding decision (the form's default kind).
    await office.visit('/gremien/beschluesse/neu');
    await field(office.page, 'Nummer').fill(DRAFT);
    await field(office.page, 'Titel').fill('Gemeinsamer Betrieb der Registerschnittstellen');
    await field(office.page, 'Text (Markdown)').fill('Der IT-Planungsrat beschließt den gemeinsamen Betrieb.');
    await field(office.page, 'Sitzung (Nummer)').fill('46');
    await selectOptionByText(field(office.page, 'Stand'), 'Entwurf');
    await office.load(() => office.page.getByRole('button', { name: 'Speichern', exact: true }).click());

    // Three members, each in a browser of their own, on the session page before the vote opens.
    const seats = [
      ['bund', 'Bund'],
      ['by', 'Bayern'],
      ['nw', 'Nordrhein-Westfalen'],
    ];
    const members = [];
    for (const [code, name] of seats) {
      const s = await openSession(browser, server);
      sessions.push(s);
      await signIn(s, signInPath(server, `mitglied-${code}@konvent.example`));
      await openLive(s);
      members.push({ s, name });
    }

    // The office opens the vote on the agenda item "Reporting FachMK".
    await office.visit(SESSION);
    await selectOptionByText(field(office.page, 'Beschlussentwurf'), new RegExp(`^${DRAFT} `), 'the draft');
    await selectOptionByText(field(office.page, 'Tagesordnungspunkt'), 'Reporting FachMK');
    await office.load(() => office.page.getByRole('button', { name: 'Abstimmung eröffnen', exact: true }).click());
    const voteId = Number((await office.page.locator('section.vote').first().getAttribute('id')).replace('vote-', ''));
    assert.ok(voteId > 0, 'the vote region is on the page');
    await waitLive(office.page);
    await office.page.evaluate(() => {
      window.__notReloaded = true;
    });
    const opened = await textOf(office.page.locator(`#vote-${voteId}`));
    assert.match(opened, /Abstimmung läuft/);
    assert.match(opened, /Tagesordnungspunkt: Reporting FachMK/);
    // The office holds no seat: no ballot buttons for it, but the close button.
    assert.equal(await office.page.getByRole('group', { name: `Ihre Stimme für Ihren Sitz: ${DRAFT}` }).count(), 0);

    // The vote appeared live in the members' pages, with their ballot buttons.
    for (const { s, name } of members) {
      await seesLive(s, voteId, /Abstimmung läuft/, name);
      await s.page.getByRole('group', { name: `Ihre Stimme für Ihren Sitz: ${DRAFT}` }).waitFor();
      assert.equal(await s.page.getByRole('button', { name: /^Abstimmung schließen/ }).count(), 0, `${name} may not close`);
    }
    await office.axe();
    office.assertClean('the session page with an open vote');

    // Each member votes yes; every other page follows live.
    const everybody = [{ s: office, name: 'Geschäftsstelle' }, ...members];
    for (const [i, m] of members.entries()) {
      await vote(m.s, 'ja');
      const line = new RegExp(`Stand: Bund: ja; ${i} Länder ja \\(`);
      for (const other of everybody) await seesLive(other.s, voteId, line, other.name);
    }
    const so = await textOf(office.page.locator(`#vote-${voteId}`));
    assert.match(so, /Stand: Bund: ja; 2 Länder ja \([\d,]+ % der Finanzierungsanteile\) — abgelehnt/, so);
    assert.match(so, /Bayern ja Mitglied Bayern \(Demo\)/, so);
    assert.match(so, /Hessen noch keine Stimme/, so);

    // North Rhine-Westphalia changes its ballot to no before the close.
    const nrw = members[2];
    await vote(nrw.s, 'nein');
    for (const other of everybody) {
      await seesLive(other.s, voteId, /Nordrhein-Westfalen nein Mitglied Nordrhein-Westfalen/, other.name);
      await seesLive(other.s, voteId, /Stand: Bund: ja; 1 Länder ja \(/, other.name);
    }
    await equalsReload(members[0].s, voteId, 'the Bund, open vote');

    // The office closes the vote; every page shows the frozen result live.
    await office.load(() => office.page.locator(`#vote-${voteId}`).getByRole('button', { name: /^Abstimmung schließen/ }).click());
    await office.page.evaluate(() => {
      window.__notReloaded = true;
    });
    for (const { s, name } of members) {
      await seesLive(s, voteId, /Abstimmung geschlossen/, name);
      const closed = await textOf(s.page.locator(`#vote-${voteId}`));
      assert.match(closed, /Bund: ja; 1 Länder ja \([\d,]+ % der Finanzierungsanteile\) — abgelehnt \(in der Sitzung am /, `${name}: ${closed}`);
      assert.match(closed, /Nicht erreicht: elf zustimmende Länder\./, closed);
      assert.match(closed, /Hessen nicht anwesend/, closed);
      assert.equal(await s.page.getByRole('group', { name: `Ihre Stimme für Ihren Sitz: ${DRAFT}` }).count(), 0, `${name}: no ballot form after the close`);
    }
    await office.axe();
    office.assertClean('the session page with a closed vote');
    await equalsReload(members[1].s, voteId, 'Bayern, closed vote');

    // The ballots are frozen: a ballot sent anyway is refused and changes nothing.
    const bayern = members[1].s;
    const refused = await bayern.page.evaluate(async (id) => {
      const csrf = document.getElementById('council-live').getAttribute('data-csrf');
      const body = new URLSearchParams({ csrf, ballot: 'no', zurueck: location.pathname });
      const r = await fetch(`/gremien/abstimmungen/${id}/stimme`, { method: 'POST', body, redirect: 'manual' });
      return { status: r.status, text: await r.text() };
    }, voteId);
    assert.equal(refused.status, 409, refused.text.slice(0, 400));
    assert.match(refused.text, /Diese Abstimmung ist geschlossen\./);
    // Chromium logs the refused request as a failed resource: that one was asked for.
    const expected = bayern.problems.splice(0);
    assert.ok(expected.every((p) => /status of 409/.test(p.text)), expected.map((p) => p.text).join('\n'));
    await bayern.visit(SESSION);
    const after = await textOf(bayern.page.locator(`#vote-${voteId}`));
    assert.match(after, /Bayern ja Mitglied Bayern \(Demo\)/, after);
  });
});
