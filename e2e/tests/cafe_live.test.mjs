// K9, K10 and issue 15: the World Café's live regions equal their reload. The organizer
// starts a round while two participants watch the café page (no reload, nothing typed is
// lost), both take a seat ("Am Tisch" names both, the count agrees), impulses arrive
// live, the author edits within the quarter of an hour (the other sees no "Ändern"),
// the moderation merges and hides, saves the summary (confirmed beside the form), and
// ends the round. After every change each region equals the same region after a
// reload, for the author and for the other participant; axe-core runs on every page.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { assertRegionsEqualReload, waitLive } from '../lib/regions.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const CAFE = `${EVENT}/cafe`;
const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

const round = (page, n) => page.locator('section.round', { has: page.getByRole('heading', { name: new RegExp(`^Runde ${n}\\b`) }) });
const seatButton = (page, n, topic) =>
  round(page, n).getByRole('button', { name: new RegExp(`^Platz nehmen\\s*:\\s*${topic}$`) });
const impulse = (page, text) => page.locator('#impulses > li', { hasText: text });
/** Marks the document: still true afterwards means the page did not reload. */
const mark = (page) => page.evaluate(() => (window.__same = true));
const same = async (page) => assert.ok(await page.evaluate(() => window.__same === true), 'no reload');

describe('the World Café live', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('rounds, seats, impulses, moderation and the summary equal their reload', { timeout: 300_000 }, async () => {
    const chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit(CAFE);
    // The demo's rounds have ended: folded away, and none of them offers a start.
    assert.equal(await chair.page.getByRole('button', { name: /^Runde [12] für alle Tische starten$/ }).count(), 0);
    await chair.page.getByText('Beendete Runden (2)').waitFor();
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde anlegen' }).click());
    await chair.page.getByRole('button', { name: 'Runde 3 für alle Tische starten' }).waitFor();

    const [t1, t2] = participantTokens(server, SLUG, 2);
    const p1 = await asParticipant(browser, server, t1);
    const p2 = await asParticipant(browser, server, t2);
    sessions.push(p1, p2);
    for (const p of [p1, p2]) {
      await p.visit(CAFE);
      await waitLive(p.page);
      await mark(p.page);
    }

    // The organizer starts round 3: the participants' café pages show it first, with
    // its end time and "Platz nehmen", without a reload.
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde 3 für alle Tische starten' }).click());
    for (const p of [p1, p2]) {
      await seatButton(p.page, 3, 'Datennutzung').waitFor();
      await round(p.page, 3).locator('.timer-clock').waitFor();
      await same(p.page);
      const first = await p.page.locator('#cafe-rounds section.round').first().getAttribute('id');
      assert.equal(first, await round(p.page, 3).getAttribute('id'), 'the running round comes first');
      await assertRegionsEqualReload(p.page, '#cafe-rounds', 'round started');
      await p.axe();
    }

    // p1 takes a seat: p2's café page counts her at once.
    await p1.load(() => seatButton(p1.page, 3, 'Datennutzung').click());
    await p1.page.getByRole('heading', { level: 1, name: 'Datennutzung – Runde 3' }).waitFor();
    const tableId = p1.page.url().split('/').pop();
    const people = `#table-people-${tableId}`;
    await waitLive(p1.page);
    await mark(p1.page);
    await round(p2.page, 3).locator(`#cafe-table-${tableId}`).getByText('1 / 25').waitFor();
    await assertRegionsEqualReload(p2.page, '#cafe-rounds', 'p1 seated');

    // p2 takes a seat too: p1's "Am Tisch" names both, and the count agrees.
    await p2.load(() => seatButton(p2.page, 3, 'Datennutzung').click());
    await waitLive(p2.page);
    await mark(p2.page);
    await p1.page.locator(people).getByText('2 / 25').waitFor();
    assert.equal(await p1.page.locator(`${people} li`).count(), 2, '"Am Tisch" lists both');
    for (const p of [p1, p2]) await assertRegionsEqualReload(p.page, people, 'both seated');
    await same(p1.page);

    // The café at 1280×800 with the running round on top.
    await chair.page.setViewportSize({ width: 1280, height: 800 });
    await chair.visit(CAFE);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await chair.page.screenshot({ path: path.join(SCREENSHOTS, 'cafe.png') });
    await chair.page.setViewportSize({ width: 1280, height: 900 });

    // p1 gives an impulse: it arrives at p2's page; p1 sees "Ändern", p2 does not.
    const idea = 'Ein gemeinsamer Datenkatalog für Bund, Länder und Kommunen';
    await p1.page.getByLabel('Ihr Impuls').fill(idea);
    await p1.page.getByLabel('Ihr Impuls').press('Enter');
    await impulse(p2.page, idea).waitFor();
    await p1.page.waitForFunction(() => document.getElementById('impulse-text').value === '');
    await impulse(p1.page, idea).locator('summary', { hasText: 'Ändern' }).waitFor();
    assert.equal(await impulse(p2.page, idea).locator('summary', { hasText: 'Ändern' }).isVisible(), false, 'only the author may change it');
    assert.ok(await impulse(p2.page, idea).locator('summary', { hasText: 'Melden' }).isVisible(), 'the other may report it');
    for (const p of [p1, p2]) await assertRegionsEqualReload(p.page, '#impulses', 'impulse added');

    // p1 changes it within the quarter of an hour; p2 reads the new text.
    const better = 'Ein gemeinsamer Datenkatalog, gepflegt wie ein Register';
    await impulse(p1.page, idea).locator('summary', { hasText: 'Ändern' }).click();
    await impulse(p1.page, idea).getByRole('textbox', { name: 'Impuls' }).fill(better);
    await impulse(p1.page, idea).getByRole('button', { name: 'Speichern' }).click();
    await impulse(p2.page, better).locator('.meta', { hasText: 'geändert' }).waitFor();
    await impulse(p1.page, better).locator('.meta', { hasText: 'geändert' }).waitFor();
    for (const p of [p1, p2]) await assertRegionsEqualReload(p.page, '#impulses', 'impulse edited');

    // p2 adds one more; the moderation (the organizer) merges it into p1's and hides p1's.
    const more = 'Register der Länder vernetzen';
    await p2.page.getByLabel('Ihr Impuls').fill(more);
    await p2.page.getByLabel('Ihr Impuls').press('Enter');
    await impulse(p1.page, more).waitFor();
    await chair.visit(`${EVENT}/cafe/tische/${tableId}`);
    await waitLive(chair.page);
    const merge = chair.page.locator('details.merge');
    await merge.locator('summary').click();
    await merge.getByLabel('Impuls', { exact: true }).selectOption({ label: more });
    await merge.getByLabel('Zusammenführen mit').selectOption({ label: better });
    await chair.load(() => merge.getByRole('button', { name: 'Zusammenführen' }).click());
    for (const p of [p1, p2]) {
      await impulse(p.page, more).locator('.meta', { hasText: 'zusammengeführt' }).waitFor();
      await assertRegionsEqualReload(p.page, '#impulses', 'impulse merged');
    }
    await chair.load(() => impulse(chair.page, better).getByRole('button', { name: /^Ausblenden/ }).click());
    for (const p of [p1, p2]) {
      await impulse(p.page, better).waitFor({ state: 'detached' });
      await assertRegionsEqualReload(p.page, '#impulses', 'impulse hidden');
    }
    // The moderation still sees that it is there, hidden, and may show it again.
    await chair.page.locator('#impulses > li.hidden-impulse').getByRole('button', { name: /^Wieder einblenden/ }).waitFor();

    // The summary: saved over the socket, confirmed beside the form, live at the table.
    await waitLive(chair.page);
    const summary = 'Runde 3: Vorrang hat ein gemeinsamer Datenkatalog, gepflegt wie ein Register.';
    await mark(chair.page);
    await chair.page.getByRole('textbox', { name: /^Zusammenfassung/ }).fill(summary);
    await chair.page.getByRole('button', { name: 'Zusammenfassung speichern' }).click();
    await chair.page.getByText('Zusammenfassung gespeichert').waitFor();
    await same(chair.page);
    for (const p of [p1, p2]) {
      await p.page.locator(`#summary-${tableId}`).getByText(summary).waitFor();
      await assertRegionsEqualReload(p.page, `#summary-${tableId}`, 'summary saved');
    }
    await chair.axe();

    // The organizer ends the round: the table pages close the impulse form, no reload.
    const draft = 'Noch nicht abgeschickt';
    await p2.page.getByLabel('Ihr Impuls').fill(draft);
    await chair.visit(CAFE);
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde 3 für alle Tische beenden' }).click());
    for (const p of [p1, p2]) {
      await p.page.locator(`#table-round-${tableId}[data-state="ended"]`).waitFor({ state: 'attached' });
      await p.page.getByText('Diese Runde läuft gerade nicht').waitFor();
      assert.equal(await p.page.getByLabel('Ihr Impuls').isVisible(), false, 'no impulses after the round');
      await same(p.page);
    }
    assert.equal(await p2.page.getByLabel('Ihr Impuls').inputValue(), draft, 'typed text stays');
    // (The draft is p2's own, not the region's: a reload would not have it.)
    await p2.page.evaluate(() => (document.getElementById('impulse-text').value = ''));
    for (const p of [p1, p2]) {
      for (const region of [`#table-round-${tableId}`, '#impulses', people]) {
        await assertRegionsEqualReload(p.page, region, 'round ended');
      }
      await p.axe();
    }

    // Round 4 at the same topic shares the table's room: an impulse given there does not
    // stray onto the round-3 page p1 still has open.
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde anlegen' }).click());
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde 4 für alle Tische starten' }).click());
    await chair.load(() => round(chair.page, 4).getByRole('link', { name: 'Datennutzung' }).click());
    await waitLive(chair.page);
    const next = 'Ein Impuls aus Runde 4';
    await chair.page.getByLabel('Ihr Impuls').fill(next);
    await chair.page.getByLabel('Ihr Impuls').press('Enter');
    await impulse(chair.page, next).waitFor();
    await p1.page.locator(`#table-round-${tableId}[data-state="ended"]`).waitFor({ state: 'attached' });
    await p1.page.waitForTimeout(500); // the same frame reached p1's socket by now
    assert.equal(await impulse(p1.page, next).count(), 0, 'round 4 stays at round 4');
    await assertRegionsEqualReload(p1.page, '#impulses', 'another round');
    for (const s of [chair, p1, p2]) s.assertClean();
  });
});
