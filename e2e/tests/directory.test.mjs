// G1/G2: the directory of the Fachministerkonferenzen, as the demo admin uses it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { field, openSession, selectOptionByText } from '../lib/browser.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

// shared/seeds/FACTS.md, "Directory of spokespersons" (Beschluss 2022/43).
const CONFERENCES = [
  'Wirtschaftsministerkonferenz',
  'Innenministerkonferenz',
  'Finanzministerkonferenz',
  'E-Justice-Rat',
  'Umweltministerkonferenz',
  'Bauministerkonferenz',
  'Verkehrsministerkonferenz',
  'Arbeits- und Sozialministerkonferenz',
  'Gesundheitsministerkonferenz',
  'Kultusministerkonferenz',
  'Energieministerkonferenz',
  'Sportministerkonferenz',
  'Digitalministerkonferenz',
];
// The 11 distinct persons of the table (15 entries; Manke, Ulbrich, Schrödter and
// Sieveke speak for two conferences each).
const SURNAMES = [
  'Pörksen',
  'Manke',
  'Ulbrich',
  'Hagen',
  'Schubert',
  'Schrödter',
  'Sieveke',
  'Ruhose',
  'Schlömer',
  'Klement',
  'Richter',
];
const NAMES = ['Jan Pörksen', 'Martina Klement', 'Markus Richter', 'N.N.'];

const NEW_PERSON = 'Erika Mustermann';

/** Text of the element, whitespace collapsed. */
const textOf = (locator) => locator.evaluate((el) => el.innerText.replace(/\s+/g, ' '));

/**
 * The part of <main> that a heading heads: its <section> if the heading opens one,
 * else the siblings after it up to the next heading of the same or a higher level.
 * Returns { text, rows (texts of its tr/li), outside (text of main without it) } or
 * null unless exactly one heading has that name.
 */
function headedPart(page, name) {
  return page.evaluate((name) => {
    const norm = (t) => (t || '').replace(/\s+/g, ' ').trim();
    const main = document.querySelector('main');
    const heads = [...main.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter((h) => norm(h.textContent) === name);
    if (heads.length !== 1) return null;
    const h = heads[0];
    const level = Number(h.tagName[1]);
    const section = h.closest('section');
    let nodes;
    if (section && main.contains(section) && section.querySelector('h1, h2, h3, h4, h5, h6') === h) {
      nodes = [section];
    } else {
      nodes = [h];
      for (let n = h.nextElementSibling; n; n = n.nextElementSibling) {
        if (/^H[1-6]$/.test(n.tagName) && Number(n.tagName[1]) <= level) break;
        nodes.push(n);
      }
    }
    const rows = nodes.flatMap((n) => [n, ...n.querySelectorAll('tr, li')].filter((e) => /^(TR|LI)$/.test(e.tagName)).map((e) => norm(e.innerText)));
    nodes.forEach((n) => n.setAttribute('data-e2e-part', ''));
    const copy = main.cloneNode(true);
    nodes.forEach((n) => n.removeAttribute('data-e2e-part'));
    copy.querySelectorAll('[data-e2e-part]').forEach((n) => n.remove());
    return { text: norm(nodes.map((n) => n.innerText).join(' ')), rows, outside: norm(copy.textContent) };
  }, name);
}

describe('the directory of the Fachministerkonferenzen', () => {
  let server;
  const sessions = [];
  let s;

  serverAndBrowser(sessions, async (sv, browser) => {
    server = sv;
    s = await openSession(browser, server);
    sessions.push(s);
  });

  it('the demo admin signs in with the printed link, reads the directory, assigns a role and finds it in the history and the audit log', { timeout: 180_000 }, async () => {
    const { page } = s;

    // --- sign in with the link printed on stdout ---------------------------------
    assert.equal(
      new URL(server.signInLink).origin,
      server.baseURL,
      `the printed sign-in link ${server.signInLink} should point at the bound address ${server.baseURL}`,
    );
    await s.visit(server.signInLink);
    await page.getByRole('heading', { name: 'Anmelden', exact: true }).waitFor();
    await s.load(() => page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await page.getByRole('banner').getByRole('button', { name: 'Abmelden', exact: true }).waitFor();

    // --- the directory -------------------------------------------------------------
    await s.visit('/gremien/konferenzen');
    await page.getByRole('heading', { level: 1, name: 'Fachministerkonferenzen', exact: true }).waitFor();
    const directory = await textOf(page.locator('body'));
    const missing = [...CONFERENCES, ...SURNAMES, ...NAMES].filter((t) => !directory.includes(t));
    assert.deepEqual(missing, [], `/gremien/konferenzen lacks: ${missing.join(', ')}`);

    // --- a new person ----------------------------------------------------------------
    await s.visit('/gremien/personen/neu');
    await field(page, 'Name').fill(NEW_PERSON);
    await field(page, 'Funktion').fill('StS im Ministerium für Wirtschaft, Verkehr und Wohnen');
    await field(page, 'Organisation').fill('Hessen');
    await s.load(() => page.getByRole('button', { name: 'Speichern', exact: true }).click());
    assert.ok(
      (await textOf(page.locator('body'))).includes(NEW_PERSON),
      `after saving the person the page (${page.url()}) should mention ${NEW_PERSON}`,
    );

    // --- assign her as spokesperson of the VMK, replacing the vacancy -----------------
    await s.visit('/gremien/konferenzen/VMK');
    await page.getByRole('heading', { level: 1, name: 'Verkehrsministerkonferenz', exact: true }).waitFor();
    await s.load(() => page.getByRole('link', { name: 'Rolle zuweisen', exact: true }).click());
    await selectOptionByText(field(page, 'Rolle'), 'Sprecher:in', '"Sprecher:in" for "Rolle"');
    await selectOptionByText(field(page, 'Person'), NEW_PERSON, `"${NEW_PERSON}" for "Person"`);
    await field(page, 'Beginn').fill('2025-07-01');
    await field(page, 'Beschluss').fill('2025/12');
    await selectOptionByText(
      field(page, 'Ersetzt'),
      (t) => t.includes('N.N.'),
      'containing "N.N." for "Ersetzt"',
    );
    await s.load(() => page.getByRole('button', { name: 'Speichern', exact: true }).click());

    // --- back on the conference: current holder and history ---------------------------
    assert.equal(new URL(page.url()).pathname, '/gremien/konferenzen/VMK', 'saving the role should lead back to the conference');
    await page.getByRole('heading', { level: 1, name: 'Verkehrsministerkonferenz', exact: true }).waitFor();
    const history = await headedPart(page, 'Verlauf');
    assert.ok(history, 'the conference page should have exactly one heading "Verlauf"');
    assert.ok(
      history.outside.includes(NEW_PERSON),
      `the current spokespersons of the VMK should show ${NEW_PERSON}; outside "Verlauf" the page says: ${history.outside.slice(0, 800)}`,
    );
    assert.ok(
      history.rows.some((r) => r.includes('N.N.') && r.includes('01.07.2025')),
      `"Verlauf" should list the ended vacancy "N.N." with end date 01.07.2025; it says: ${history.text}`,
    );

    // --- the audit log ------------------------------------------------------------------
    await s.load(() => page.getByRole('link', { name: 'Änderungsprotokoll', exact: true }).click());
    const h1 = (await page.getByRole('heading', { level: 1 }).first().innerText()).trim();
    assert.ok(h1.startsWith('Änderungsprotokoll'), `heading 1 should start with "Änderungsprotokoll", is "${h1}"`);
    assert.ok((await textOf(page.locator('main'))).includes(NEW_PERSON), `the audit log should mention ${NEW_PERSON}`);

    // --- sign out: the role form is no longer available -----------------------------------
    await s.load(() => page.getByRole('button', { name: 'Abmelden', exact: true }).click());
    const res = await s.visit('/gremien/konferenzen/VMK/rollen/neu', { allowStatus: (st) => st < 400 || st === 401 || st === 403 });
    if (res.status() < 400) {
      await page.getByRole('heading', { name: 'Anmelden', exact: true }).waitFor({ timeout: 3_000 }).catch(() => {
        assert.fail(`signed out, /gremien/konferenzen/VMK/rollen/neu answered ${res.status()} at ${page.url()} without the sign-in page`);
      });
    }
    for (const label of ['Rolle', 'Person', 'Ersetzt']) {
      assert.equal(await field(page, label).count(), 0, `signed out, the role form (field "${label}") must not be shown`);
    }
    s.assertClean();
  });
});
