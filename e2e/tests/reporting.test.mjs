// G4: a spokesperson files the report of their conference for a council session.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { field, openSession } from '../lib/browser.mjs';
import { konventBin } from '../lib/server.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const textOf = (locator) => locator.evaluate((el) => el.innerText.replace(/\s+/g, ' '));

describe('reporting of the conferences to the council', () => {
  let server;
  const sessions = [];
  let s;

  serverAndBrowser(sessions, async (sv, browser) => {
    server = sv;
    s = await openSession(browser, server);
    sessions.push(s);
  });

  it('a spokesperson accepts an invitation, reports "no exchange" for the 47th session and the session page shows it', { timeout: 180_000 }, async () => {
    const { page } = s;
    // The office invites the DMK's spokesperson from the command line (same data folder).
    const link = execFileSync(
      konventBin(),
      ['admin', 'invite', 'sprecherin@dmk.example', '--role', 'spokesperson', '--scope', 'conference:DMK', '--data', server.dataDir],
      { env: { ...process.env, DATABASE_URL: '', KONVENT_PUBLIC_URL: server.baseURL, RUST_LOG: 'warn' } },
    )
      .toString()
      .trim();
    assert.match(link, /\/einladung\/[0-9a-f]{64}$/);

    await s.visit(link);
    await field(page, 'Ihr Name').fill('Martina Klement');
    await field(page, 'Passwort').fill('ein-sicheres-passwort');
    await field(page, 'Passwort wiederholen').fill('ein-sicheres-passwort');
    await s.load(() => page.getByRole('button', { name: 'Konto anlegen', exact: true }).click());
    await page.getByRole('banner').getByRole('button', { name: 'Abmelden', exact: true }).waitFor();

    await s.visit('/gremien/sitzungen/47');
    await page.getByRole('heading', { level: 1, name: '47. Sitzung des IT-Planungsrats', exact: true }).waitFor();
    // She may report for the DMK only.
    const links = await page.getByRole('link', { name: /^Bericht abgeben/ }).count();
    assert.equal(links, 1, 'exactly one "Bericht abgeben" link: the DMK');
    await s.load(() => page.getByRole('link', { name: /^Bericht abgeben.*Digitalministerkonferenz/ }).click());
    await s.load(() => page.getByRole('button', { name: 'Kein Austausch – kein Bericht', exact: true }).click());

    assert.equal(new URL(page.url()).pathname, '/gremien/sitzungen/47');
    const row = page.getByRole('row', { name: /Digitalministerkonferenz \(DMK\)/ });
    const text = await textOf(row);
    assert.ok(text.includes('Kein Austausch – kein Bericht'), `the DMK row should show the answer, it says: ${text}`);
    assert.ok(text.includes('Martina Klement'), `the DMK row should name who entered it: ${text}`);
    s.assertClean();
  });
});
