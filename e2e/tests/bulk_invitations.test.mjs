// A2 bulk invitations in the browser: the demo admin invites an organizer for the
// Strategiekonvent from a CSV list; she follows her mailed link, creates her account and
// lands in the lobby. From the event's console she invites two participants from a CSV
// (after a list with an error was refused row by row); both follow their mailed links,
// create their accounts and land in the event's lobby. Without a mail server the mails
// are .eml files in DATA/outbox-files/, where this test reads the links. axe-core
// checks every page on the way.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const LOBBY = `/konvent/${SLUG}`;
const PASSWORD = 'ein-langes-Passwort-2026';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The decoded text of every .eml written so far (quoted-printable undone). */
async function mails(server) {
  const dir = path.join(server.dataDir, 'outbox-files');
  let names = [];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.eml'));
  } catch {
    return [];
  }
  const texts = [];
  for (const name of names) {
    const raw = await readFile(path.join(dir, name), 'latin1');
    const bytes = Buffer.from(
      raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    );
    texts.push(bytes.toString('utf8'));
  }
  return texts;
}

/** The invitation link mailed to `to`, waiting for its mail. */
async function mailedLink(server, to) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const text of await mails(server)) {
      if (!text.includes(`To: ${to}`)) continue;
      const m = text.match(/http:\/\/127\.0\.0\.1:\d+\/einladung\/[0-9a-f]+(\?weiter=[^\s"<>]+)?/);
      if (m) return m[0];
    }
    await sleep(100);
  }
  assert.fail(`no invitation mail to ${to} in outbox-files/`);
}

/** A person with a browser of their own follows their link and creates the account. */
async function accept(browser, server, sessions, link, name) {
  const person = await openSession(browser, server);
  sessions.push(person);
  await person.visit(link);
  const nameField = person.page.getByLabel(/^Ihr Name/);
  assert.equal(await nameField.inputValue(), name, 'the name from the list is offered');
  await nameField.fill(name);
  await person.page.getByLabel(/^Passwort \(/).fill(PASSWORD);
  await person.page.getByLabel(/^Passwort wiederholen/).fill(PASSWORD);
  await person.load(() => person.page.getByRole('button', { name: 'Konto anlegen' }).click());
  assert.equal(new URL(person.page.url()).pathname, LOBBY, `${name} lands in the lobby`);
  assert.match(await person.page.locator('.who').innerText(), new RegExp(name));
  return person;
}

/** Uploads a CSV on the bulk form the page shows. */
async function upload(session, csv, opts) {
  await session.page.getByLabel('Datei (CSV oder XLSX)').setInputFiles({
    name: 'liste.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv),
  });
  await session.load(() => session.page.getByRole('button', { name: 'Prüfen und einladen' }).click(), opts);
}

/** Reloads the progress page through its link until `done` is shown. */
async function waitForProgress(session, done) {
  const deadline = Date.now() + 30_000;
  while (!(await session.page.locator('main').innerText()).includes(done)) {
    assert.ok(Date.now() < deadline, `progress never showed "${done}"`);
    await sleep(200);
    await session.visit(session.page.url());
  }
}

describe('bulk invitations', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('an organizer invites two participants from a CSV; both follow their mailed links into the lobby', { timeout: 180_000 }, async () => {
    // The demo admin invites the organizer.
    const admin = await openSession(browser, server);
    sessions.push(admin);
    await admin.visit(server.signInLink);
    await admin.load(() => admin.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await admin.visit('/admin/konten');
    await admin.load(() => admin.page.getByRole('link', { name: 'Viele Personen einladen (Liste)' }).click());
    await upload(admin, `E-Mail;Name;Rolle;Veranstaltung\norga@example.org;Olga Orga;organizer;${SLUG}\n`);
    await waitForProgress(admin, '1 von 1 Einladungen geschrieben');

    const organizer = await accept(browser, server, sessions, await mailedLink(server, 'orga@example.org'), 'Olga Orga');

    // She invites from her event's console: a list with an error first.
    await organizer.visit(`${LOBBY}/organisation`);
    await organizer.load(() => organizer.page.getByRole('link', { name: 'Teilnehmende einladen' }).click());
    await upload(organizer, 'E-Mail,Name\nanna@example.org,Anna Alt\nkaputt,Kaputt\n', { allowStatus: (s) => s === 422 });
    const problems = organizer.page.locator('#bulk-problems');
    await problems.getByText('„kaputt“ ist keine gültige E-Mail-Adresse.').waitFor();
    assert.equal((await mails(server)).length, 1, 'nothing sent for a refused list');

    await upload(organizer, 'E-Mail,Name\nanna@example.org,Anna Alt\nbernd@example.org,Bernd Berg\n');
    await waitForProgress(organizer, '2 von 2 Einladungen geschrieben');
    await waitForProgress(organizer, '2 E-Mails gesendet');

    // Both follow their links, create their accounts and land in the lobby.
    for (const [to, name] of [['anna@example.org', 'Anna Alt'], ['bernd@example.org', 'Bernd Berg']]) {
      const link = await mailedLink(server, to);
      assert.match(link, /\?weiter=/, 'the link leads into the lobby');
      const person = await accept(browser, server, sessions, link, name);
      await person.page.getByRole('heading', { level: 1 }).waitFor();
    }
  });
});
