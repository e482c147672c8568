// The minutes of a council session in the browser (issue 20, G11): the office generates
// the minutes of the 48th session (attendance, its agenda item with two votes), edits
// the draft, finalises and releases it; a member, told of it in konvent, then opens the
// minutes and downloads the PDF. axe-core checks every page on the way (the guards of lib/browser.mjs too).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { field, openSession } from '../lib/browser.mjs';
import { konventBin } from '../lib/server.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SESSION = '/gremien/sitzungen/48';
const REMARKS = 'Die Sitzung endete um 15:30 Uhr.';

const textOf = (locator) => locator.evaluate((el) => el.innerText.replace(/\s+/g, ' '));

/** A single-use sign-in link (its path) for an existing account of the demo. */
function signInPath(server, email) {
  const out = execFileSync(konventBin(), ['admin', 'sign-in-link', email, '--data', server.dataDir], {
    env: { ...process.env, DATABASE_URL: '', KONVENT_PUBLIC_URL: server.baseURL, RUST_LOG: 'warn' },
  }).toString();
  return out.match(/\/anmelden\/link\/[A-Za-z0-9_-]+/)[0];
}

async function signIn(s, link) {
  await s.visit(link);
  await s.load(() => s.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
  await s.page.getByRole('banner').getByRole('button', { name: 'Abmelden', exact: true }).waitFor();
}

describe('the minutes of a council session', () => {
  let server;
  let browser;
  const sessions = [];

  serverAndBrowser(sessions, async (sv, b) => {
    server = sv;
    browser = b;
  });

  it('the office generates, edits, finalises and releases; a member reads and downloads', { timeout: 300_000 }, async () => {
    const office = await openSession(browser, server);
    sessions.push(office);
    await signIn(office, server.signInLink);

    await office.visit(SESSION);
    await office.load(() => office.page.getByRole('link', { name: 'Niederschrift', exact: true }).click());
    await office.load(() => office.page.getByRole('button', { name: 'Niederschrift erzeugen', exact: true }).click());
    const status = office.page.locator('#minutes-status');
    assert.match(await textOf(status), /Fassung 1 · Entwurf/);
    // Generated from the session: the attendance and the votes with their arithmetic.
    const main = office.page.getByRole('main');
    assert.match(await textOf(main), /Anwesenheit/);
    assert.match(await textOf(main), /angenommen/);

    await office.load(() => office.page.getByRole('link', { name: 'Entwurf bearbeiten', exact: true }).click());
    await field(office.page, 'Bemerkungen').fill(REMARKS);
    await office.load(() => office.page.getByRole('button', { name: 'Speichern', exact: true }).click());
    assert.match(await textOf(main), new RegExp(REMARKS.replace(/\./g, '\\.')));

    await office.load(() => office.page.getByRole('button', { name: 'Niederschrift abschließen', exact: true }).click());
    assert.match(await textOf(status), /Fassung 1 · abgeschlossen/);
    await office.load(() => office.page.getByRole('button', { name: 'Für die Mitglieder freigeben', exact: true }).click());
    assert.match(await textOf(status), /Fassung 1 · für die Mitglieder freigegeben/);

    // A member of the council (Bayern) reads the released minutes and gets the PDF.
    const member = await openSession(browser, server);
    sessions.push(member);
    await signIn(member, signInPath(server, 'mitglied-by@konvent.example'));
    // The member was told in konvent: the notice leads to the released version.
    await member.visit('/konto/benachrichtigungen');
    await member.load(() => member.page.getByRole('link', { name: 'Die Niederschrift der 48. Sitzung (Fassung 1) wurde freigegeben.', exact: true }).click());
    assert.match(member.page.url(), /\/gremien\/sitzungen\/48\/niederschrift\/fassungen\/1$/);
    await member.visit(SESSION);
    await member.load(() => member.page.getByRole('link', { name: 'Niederschrift', exact: true }).click());
    const memberMain = member.page.getByRole('main');
    assert.match(await textOf(memberMain), new RegExp(REMARKS.replace(/\./g, '\\.')));
    assert.equal(await member.page.getByRole('button', { name: 'Niederschrift abschließen' }).count(), 0);
    const link = member.page.getByRole('link', { name: /Als PDF herunterladen/ }).first();
    const href = await link.getAttribute('href');
    const response = await member.context.request.get(new URL(href, server.baseURL).toString());
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['content-type'], 'application/pdf');
    assert.match(response.headers()['content-disposition'], /attachment/);
    const body = await response.body();
    assert.equal(body.subarray(0, 5).toString('latin1'), '%PDF-');

    // The version list leads to the same version.
    await member.load(() => member.page.getByRole('link', { name: 'Fassung 1', exact: true }).click());
    assert.match(await textOf(memberMain), new RegExp(REMARKS.replace(/\./g, '\\.')));
  });
});
