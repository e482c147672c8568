// What a public body must offer (issue 21): the accessibility statement, the page in
// plain language, the imprint and the privacy notice are linked from the footer of every
// page, show the demo's fictitious operator, and pass axe; the barrier report form
// shows its messages beside the fields and, filled in, writes a mail to the office and a
// copy to the reporter (as .eml files in DATA/outbox-files/, no mail server).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { field, openSession } from '../lib/browser.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const LEGAL = [
  ['/barrierefreiheit', 'Erklärung zur Barrierefreiheit'],
  ['/leichte-sprache', 'Leichte Sprache'],
  ['/impressum', 'Impressum'],
  ['/datenschutz', 'Datenschutz'],
];
const PAGES = ['/', '/konvent', '/gremien', '/strategie', '/anmelden', ...LEGAL.map(([p]) => p)];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function mailsTo(server, to) {
  const dir = path.join(server.dataDir, 'outbox-files');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    let names = [];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.eml'));
    } catch {}
    const found = [];
    for (const name of names) {
      const text = await readFile(path.join(dir, name), 'utf8');
      if (text.includes(`To: ${to}`)) found.push(text);
    }
    if (found.length) return found;
    await sleep(100);
  }
  assert.fail(`no mail to ${to} in outbox-files/`);
}

describe('legal pages and the barrier report form', () => {
  const sessions = [];
  let server;
  let browser;
  // The admin signed in by the test before the deletion request (the demo's sign-in
  // link works once).
  let admin;
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('every page links the four legal pages in its footer, and each passes axe', { timeout: 180_000 }, async () => {
    const s = await openSession(browser, server);
    sessions.push(s);
    const { page } = s;
    for (const path of PAGES) {
      await s.visit(path);
      const nav = page.getByRole('navigation', { name: 'Rechtliches und Barrierefreiheit' });
      for (const [href, name] of LEGAL) {
        const link = nav.getByRole('link', { name, exact: true });
        assert.equal(await link.count(), 1, `${path}: footer link "${name}"`);
        assert.equal(await link.getAttribute('href'), href);
      }
    }
    // Following each footer link lands on its page, with its heading.
    for (const [href, name] of LEGAL) {
      await s.visit('/');
      const nav = page.getByRole('navigation', { name: 'Rechtliches und Barrierefreiheit' });
      await s.load(() => nav.getByRole('link', { name, exact: true }).click());
      assert.equal(new URL(page.url()).pathname, href);
      assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), name);
    }
  });

  it('the demo shows a fictitious operator on every legal page', { timeout: 120_000 }, async () => {
    const s = await openSession(browser, server);
    sessions.push(s);
    const { page } = s;
    await s.visit('/barrierefreiheit');
    const statement = await page.getByRole('main').innerText();
    for (const expected of ['Musterstelle', 'teilweise vereinbar', '03.12.2026', 'sechs Wochen', 'barrierefreiheit@musterstelle.example']) {
      assert.ok(statement.includes(expected), `statement lacks ${expected}`);
    }
    await s.visit('/impressum');
    assert.ok((await page.getByRole('main').innerText()).includes('Erika Mustermann'));
    await s.visit('/datenschutz');
    assert.ok((await page.getByRole('main').innerText()).includes('datenschutz@musterstelle.example'));
    await s.visit('/leichte-sprache');
    const easy = await page.getByRole('main').innerText();
    assert.ok(easy.includes('hilfe@musterstelle.example'));
    assert.ok(await page.getByRole('link', { name: 'Video in Deutscher Gebärdensprache ansehen' }).count());
  });

  it('a barrier report shows its errors beside the fields, then reaches the office with a copy', { timeout: 120_000 }, async () => {
    const s = await openSession(browser, server);
    sessions.push(s);
    const { page } = s;
    await s.visit('/barrierefreiheit');
    // Empty: the messages stand beside the fields, and the page stays axe-clean.
    await s.load(() => page.getByRole('button', { name: 'Meldung senden' }).click(), {
      allowStatus: (status) => status === 422,
    });
    const email = field(page, 'Ihre E-Mail-Adresse');
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    assert.ok((await page.locator('#f-email-error').innerText()).includes('E-Mail-Adresse'));
    assert.ok((await page.locator('#f-message-error').innerText()).includes('Barriere'));
    await field(page, 'Ihr Name').fill('Erika Meldend');
    await email.fill('erika.meldend@example.org');
    await field(page, 'Betroffene Seite oder Inhalt').fill('Karte im Café');
    await field(page, 'Was ist Ihnen aufgefallen?').fill('Die Karte liest mein Screenreader nicht vor.');
    await s.load(() => page.getByRole('button', { name: 'Meldung senden' }).click());
    assert.equal((await page.getByRole('heading', { level: 1 }).innerText()).trim(), 'Meldung gesendet');
    const office = await mailsTo(server, 'barrierefreiheit@musterstelle.example');
    assert.ok(office.some((m) => m.includes('Meldung einer Barriere')), 'the office gets the report');
    const copy = await mailsTo(server, 'erika.meldend@example.org');
    assert.ok(copy.some((m) => m.includes('Kopie Ihrer Meldung')), 'the reporter gets a copy');
  });

  it('the admin reads "Meine Daten" and the retention page, both axe-clean', { timeout: 120_000 }, async () => {
    const s = await openSession(browser, server);
    sessions.push(s);
    admin = s;
    const { page } = s;
    await s.visit(server.signInLink);
    await s.load(() => page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await s.load(() => page.getByRole('link', { name: 'Meine Daten', exact: true }).click());
    assert.equal(new URL(page.url()).pathname, '/konto/daten');
    const mine = await page.getByRole('main').innerText();
    assert.ok(mine.includes('admin') || mine.includes('@'), 'the account is listed');
    const download = await page.request.get('/konto/daten.json');
    assert.equal(download.status(), 200);
    const data = await download.json();
    assert.ok(Array.isArray(data.sections.account) && data.sections.account.length === 1);
    await s.load(() => page.getByRole('link', { name: 'Aufbewahrung', exact: true }).click());
    assert.equal(new URL(page.url()).pathname, '/admin/aufbewahrung');
    assert.ok((await page.getByRole('table').innerText()).includes('180'));
  });
  it('a person asks for the deletion of their account with a confirmation, and the admins see the request; axe-clean', { timeout: 120_000 }, async () => {
    const s = admin;
    const { page } = s;
    await s.visit('/konto/daten');
    await s.load(() => page.getByRole('link', { name: 'Löschung meines Kontos beantragen' }).click());
    assert.equal(new URL(page.url()).pathname, '/konto/loeschen');
    assert.ok((await page.getByRole('main').innerText()).includes('Gelöschte Person'));
    // Without the confirmation: the message stands beside the box.
    await s.load(() => page.getByRole('button', { name: 'Löschung beantragen' }).click(), {
      allowStatus: (status) => status === 422,
    });
    const box = page.getByRole('checkbox', { name: 'Ja, mein Konto soll gelöscht werden.' });
    assert.equal(await box.getAttribute('aria-invalid'), 'true');
    await box.check();
    await s.load(() => page.getByRole('button', { name: 'Löschung beantragen' }).click());
    assert.equal(await page.getByText(/liegt der Administration vor/).count(), 1);
    await s.visit('/admin/loeschantraege');
    const table = await page.getByRole('table').innerText();
    assert.ok(table.includes('@'), 'the request is listed with its address');
    assert.equal(await page.getByRole('button', { name: /^Konto von .+ löschen$/ }).count(), 1);
  });
});
