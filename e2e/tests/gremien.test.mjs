// Gremien and Strategie after the walk-through (issue 15, items 14–20): the demo admin
// walks the session, follow-up, concern, accounts, duties and consolidation pages, a
// spokesperson her duties and a patron the consolidation; the fixes are checked where a
// person sees them. Takes e2e/screenshots/session.png (a council session at 1280×800).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { field, openSession, selectOptionByText } from '../lib/browser.mjs';
import { konventBin } from '../lib/server.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

const textOf = (locator) => locator.evaluate((el) => el.innerText.replace(/\s+/g, ' '));

/** The visible texts of a <select>'s options. */
const optionsOf = (select) =>
  select.locator('option').evaluateAll((els) => els.map((o) => ({ text: o.textContent.trim(), selected: o.selected, value: o.value })));

/** A date `days` from today as yyyy-mm-dd (the date input's value). */
function inDays(days) {
  const d = new Date(Date.now() + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}

/** Runs `konvent admin …` against the test server's data folder; returns stdout. */
function admin(server, ...args) {
  return execFileSync(konventBin(), ['admin', ...args, '--data', server.dataDir], {
    env: { ...process.env, DATABASE_URL: '', KONVENT_PUBLIC_URL: server.baseURL, RUST_LOG: 'warn' },
  })
    .toString()
    .trim();
}

/** Chromium's own accessible names (the DevTools accessibility tree) of the page's links and buttons. */
async function accessibleNames(s) {
  const cdp = await s.context.newCDPSession(s.page);
  await cdp.send('Accessibility.enable');
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  await cdp.detach();
  return nodes
    .filter((n) => ['link', 'button'].includes(n.role?.value) && n.name?.value)
    .map((n) => n.name.value);
}

describe('Gremien and Strategie after the walk-through', () => {
  let server;
  let browser;
  const sessions = [];
  let s;

  serverAndBrowser(sessions, async (sv, b) => {
    server = sv;
    browser = b;
    s = await openSession(browser, server);
    sessions.push(s);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  it('the office, a spokesperson and a patron see the fixes', { timeout: 300_000 }, async () => {
    const { page } = s;
    await s.visit(server.signInLink);
    await s.load(() => page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await page.getByRole('banner').getByRole('button', { name: 'Abmelden', exact: true }).waitFor();

    // --- 20: the cards of /gremien hold their titles at 1280 px -------------------------
    await s.visit('/gremien');
    const overflowing = await page.locator('.card').evaluateAll((cards) =>
      cards
        .map((card) => {
          const h = card.querySelector('h2');
          const c = card.getBoundingClientRect();
          const r = h.getBoundingClientRect();
          return { title: h.innerText, out: r.right > c.right + 0.5 || h.scrollWidth > h.clientWidth + 0.5 };
        })
        .filter((x) => x.out)
        .map((x) => x.title),
    );
    assert.deepEqual(overflowing, [], `card titles running past their cards: ${overflowing.join(', ')}`);

    // --- 19: the next session number is prefilled; a new session still to come ------------
    await s.visit('/gremien/sitzungen/neu');
    assert.equal(await field(page, 'Nummer').inputValue(), '49', 'the next number is prefilled');
    await field(page, 'Datum').fill(inDays(70));
    await s.load(() => page.getByRole('button', { name: 'Speichern', exact: true }).click());
    await page.getByRole('heading', { level: 1, name: '49. Sitzung des IT-Planungsrats', exact: true }).waitFor();

    // --- 14: a concern goes onto an upcoming session only --------------------------------
    await s.visit('/gremien/anliegen/neu');
    await selectOptionByText(field(page, 'Konferenz'), /\(DMK\)$/, 'the DMK');
    await field(page, 'Titel').fill('Registerzugang für die Länder');
    await field(page, 'Text (Markdown)').fill('Bitte in einer der nächsten Sitzungen behandeln.');
    await s.load(() => page.getByRole('button', { name: 'Einreichen', exact: true }).click());
    const sessions = await optionsOf(field(page, 'Sitzung'));
    assert.deepEqual(
      sessions.map((o) => o.text.replace(/ – .*/, '')),
      ['Bitte wählen', '49. Sitzung des IT-Planungsrats'],
      `only upcoming sessions are offered: ${JSON.stringify(sessions)}`,
    );
    assert.ok(sessions[0].selected, 'none preselected');
    assert.match(sessions[1].text, /^49\. Sitzung des IT-Planungsrats – [A-Z][a-z]\., \d\d\.\d\d\.\d{4}$/);
    await selectOptionByText(field(page, 'Stand'), /Tagesordnung/, 'accepted');
    await selectOptionByText(field(page, 'Sitzung'), /^49\./, 'the 49th session');
    await s.load(() => page.getByRole('button', { name: 'Speichern', exact: true }).click());
    assert.ok((await textOf(page.locator('main'))).includes('49. Sitzung des IT-Planungsrats'));

    // --- 17: a draft resolution is marked on the session and follow-up pages --------------
    await s.visit('/gremien/beschluesse/neu');
    await field(page, 'Nummer').fill('2026/03');
    await field(page, 'Titel').fill('Vertraulicher Entwurf Zielbild');
    await field(page, 'Text (Markdown)').fill('Nur für Mitglieder.');
    await field(page, 'Sitzung (Nummer)').fill('43');
    await selectOptionByText(field(page, 'Stand'), 'Entwurf');
    await field(page, 'Relevanz für Fachministerkonferenzen').fill('DMK: Betrifft die Digitalministerkonferenz');
    await s.load(() => page.getByRole('button', { name: 'Speichern', exact: true }).click());

    // --- the session page: marks, accessible names, follow-up ---------------------------
    await s.visit('/gremien/sitzungen/43');
    const draftLine = page.getByRole('listitem').filter({ hasText: 'Vertraulicher Entwurf Zielbild' }).first();
    assert.match(await textOf(draftLine), /Entwurf · vertraulich/, 'the draft carries its mark');
    const names = await accessibleNames(s);
    const stray = names.filter((n) => /\s:/.test(n));
    assert.deepEqual(stray, [], `accessible names with a space before a colon: ${stray.join(' | ')}`);
    assert.ok(names.includes('Entfernen: Reporting FachMK'), `names: ${names.join(' | ')}`);
    const followUp = await textOf(page.locator('main'));
    assert.match(followUp, /vertraulich · für Eingeladene noch nicht sichtbar/);
    assert.match(followUp, /Digitalministerkonferenz \(DMK\): Martina Klement \(Sprecher:in\)/, 'invitees are people');
    assert.ok(!followUp.includes('Geschäftsstelle und Arbeitsebene der'), followUp);
    assert.match(followUp, /Mi\., 20\.03\.2024/, 'the session date carries its weekday');

    // --- 19: the follow-up's date, time and video link are edited ------------------------
    await s.load(() => page.getByRole('link', { name: 'Termin bearbeiten', exact: true }).click());
    await field(page, 'Datum').fill('2024-04-16');
    await field(page, 'Beginn (Uhrzeit)').fill('14:00');
    await field(page, 'Ende (Uhrzeit)').fill('15:30');
    await field(page, 'Videokonferenz').fill('https://video.example/nachbesprechung-43');
    await s.load(() => page.getByRole('button', { name: 'Speichern', exact: true }).click());
    const edited = await textOf(page.locator('#nachbesprechung ~ dl').first());
    assert.match(edited, /Di\., 16\.04\.2024, 14:00–15:30 Uhr/, edited);
    assert.match(edited, /https:\/\/video\.example\/nachbesprechung-43/, edited);

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'session.png') });
    await page.setViewportSize({ width: 1280, height: 900 });

    // --- 14: a held session takes no new agenda item -------------------------------------
    assert.equal(await page.locator('#f-agenda-title').count(), 0, 'no agenda form on a held session');

    // --- 15: accounts ---------------------------------------------------------------------
    await s.visit('/admin/konten');
    await page.getByRole('columnheader', { name: 'Name', exact: true }).waitFor();
    assert.equal(await page.getByRole('columnheader', { name: 'Ihr Name' }).count(), 0);
    const roleSelect = page.locator('select[name="role"][id^="role-"]').first();
    const roles = await optionsOf(roleSelect);
    assert.equal(roles[0].text, 'Bitte wählen');
    assert.ok(roles[0].selected, `no role preselected: ${JSON.stringify(roles)}`);
    assert.equal(roles.at(-1).text, 'Administration', 'administration last');
    const scopes = await optionsOf(page.locator('select[name="scope"][id^="scope-"]').first());
    assert.ok(scopes.some((o) => o.value === 'conference:DMK'), JSON.stringify(scopes));

    // --- 18: duties ------------------------------------------------------------------------
    await s.visit('/gremien/aufgaben');
    await page.getByRole('navigation', { name: 'Seiten' }).getByText('Seite 1 von 8').waitFor();
    assert.ok((await page.getByRole('button', { name: /^Als erledigt markieren: / }).count()) === 50);
    await selectOptionByText(field(page, 'Konferenz'), 'Digitalministerkonferenz (DMK)');
    await selectOptionByText(field(page, 'Stand'), 'überfällig');
    await s.load(() => page.getByRole('button', { name: 'Anzeigen', exact: true }).click());
    const overdue = await textOf(page.locator('tbody'));
    assert.match(overdue, /2022\/43/);
    assert.match(overdue, /vor dem Beschluss – Beschluss gefasst/);
    assert.match(overdue, /offen überfällig/);

    // --- 16: consolidation, as the office -------------------------------------------------
    await s.visit('/strategie');
    const topicPath = await page.locator('main a[href^="/strategie/themen/"]').first().getAttribute('href');
    const consolidation = `${topicPath}/konsolidierung`;
    await s.visit(consolidation);
    await page.getByLabel('Text des Zielbilds (Markdown)').fill('Zielbild, Fassung für den Rat.');
    await s.load(() => page.getByRole('button', { name: 'Entwurf speichern', exact: true }).click());
    await s.load(() => page.getByRole('button', { name: 'Als vertrauliche Fassung in die Beschlussunterlagen geben', exact: true }).click());
    const resolution = page.locator('select[name="resolution"]').first();
    const offered = await optionsOf(resolution);
    assert.equal(offered[0].text, 'Bitte den Beschluss wählen');
    assert.ok(offered[0].selected, 'no resolution preselected');
    assert.ok(!offered.some((o) => o.text.startsWith('2026/03')), 'a draft resolution is not offered');
    await s.load(() => page.getByRole('button', { name: /^Mit diesem Beschluss veröffentlichen/ }).first().click(), {
      allowStatus: (st) => st === 422,
    });
    const refusal = page.locator('.field-error').first();
    assert.match(await textOf(refusal), /Bitte den veröffentlichten Beschluss wählen/);
    assert.equal(await page.locator('select[name="resolution"][aria-invalid="true"]').count(), 1, 'the refusal stands beside the choice');
    await selectOptionByText(page.locator('select[name="resolution"]').first(), /^2024\/15 /, '2024/15');
    await s.load(() => page.getByRole('button', { name: /^Mit diesem Beschluss veröffentlichen/ }).first().click());
    const current = await textOf(page.locator('ol.versions li[aria-current="true"]'));
    assert.match(current, /aktuelle Fassung/);

    // --- 16: the patron is not offered what only the office may do ------------------------
    const slug = topicPath.split('/').pop();
    const patronLink = admin(server, 'sign-in-link', `pate.${slug}@konvent.example`).match(/\/anmelden\/link\/[A-Za-z0-9_-]+/)[0];
    const patron = await openSession(browser, server);
    try {
      await patron.visit(patronLink);
      await patron.load(() => patron.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
      await patron.visit(consolidation);
      await patron.page.getByLabel('Text des Zielbilds (Markdown)').fill('Nächste Fassung.');
      await patron.load(() => patron.page.getByRole('button', { name: 'Entwurf speichern', exact: true }).click());
      await patron.load(() => patron.page.getByRole('button', { name: 'Als vertrauliche Fassung in die Beschlussunterlagen geben', exact: true }).click());
      assert.equal(await patron.page.getByRole('button', { name: /Mit diesem Beschluss veröffentlichen/ }).count(), 0);
      assert.match(await textOf(patron.page.locator('ol.versions')), /Veröffentlichen kann die Geschäftsstelle/);
      patron.assertClean();
    } finally {
      await patron.close();
    }

    // --- 18: a spokesperson is named as responsible ---------------------------------------
    const invitation = admin(server, 'invite', 'sprecherin@dmk.example', '--role', 'spokesperson', '--scope', 'conference:DMK');
    const speaker = await openSession(browser, server);
    try {
      await speaker.visit(new URL(invitation).pathname);
      await field(speaker.page, 'Ihr Name').fill('Martina Klement');
      await field(speaker.page, 'Passwort').fill('ein-sicheres-passwort');
      await field(speaker.page, 'Passwort wiederholen').fill('ein-sicheres-passwort');
      await speaker.load(() => speaker.page.getByRole('button', { name: 'Konto anlegen', exact: true }).click());
      await speaker.visit('/gremien/aufgaben');
      const row = await textOf(speaker.page.locator('tbody tr').first());
      assert.match(row, /Martina Klement \(Sie\)/, row);
      assert.match(row, /offen/);
      await speaker.page.getByRole('button', { name: /^Als erledigt markieren: / }).first().waitFor();
      speaker.assertClean();
    } finally {
      await speaker.close();
    }
    s.assertClean();
  });
});
