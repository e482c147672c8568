// K9–K11, S1–S3: a World Café with two rounds. The organizer adds and starts a round,
// participants in separate browser contexts pick tables (a full one refuses and names
// the others), an impulse appears live for the other person at the table, the
// moderator's summary opens the next round at that table, people switch tables, a pin
// is parked and picked up. axe-core runs on every page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { waitLive } from '../lib/regions.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const CAFE = `${EVENT}/cafe`;

const live = (page) =>
  page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();
const round = (page, n) => page.locator('section.round', { has: page.getByRole('heading', { name: new RegExp(`^Runde ${n}\\b`) }) });
const seatButton = (page, n, topic) =>
  round(page, n).getByRole('button', { name: new RegExp(`^Platz nehmen\\s*:\\s*${topic}$`) });

describe('a World Café with two rounds', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('tables, live impulses, a summary carried over, switching tables, a pin picked up', { timeout: 240_000 }, async () => {
    // The organizer (demo admin) adds round 3 with two seats per table and starts it.
    const chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit('/strategie');
    await chair.visit('/strategie/themen/datennutzung');
    await chair.visit('/strategie/themen/digitale-transformation/konsolidierung');
    await chair.visit(CAFE);
    await chair.page.getByLabel('Plätze pro Tisch').fill('2');
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde anlegen' }).click());
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde 3 für alle Tische starten' }).click());
    await round(chair.page, 3).locator('.timer-clock').waitFor();

    const tokens = participantTokens(server, SLUG, 3);
    const people = [];
    for (const token of tokens.slice(0, 2)) {
      const s = await asParticipant(browser, server, token);
      sessions.push(s);
      await s.visit(CAFE);
      people.push(s);
    }
    // The third's page is not live (its socket never reaches the server): it keeps what
    // it showed when it loaded, as a page without JavaScript does. (A live page turns the
    // table's row "voll" at once, as the organizer's other tab shows below.)
    const p3 = await asParticipant(browser, server, tokens[2]);
    await p3.page.routeWebSocket(/\/live/, () => {});
    sessions.push(p3);
    await p3.visit(CAFE);
    people.push(p3);
    const [p1, p2] = people;

    const watch = await openSession(browser, server, { context: chair.context });
    await watch.visit(CAFE);
    await waitLive(watch.page);
    // Two take the two seats at "Datennutzung"; each lands on the table page, live.
    for (const p of [p1, p2]) {
      await p.load(() => seatButton(p.page, 3, 'Datennutzung').click());
      await p.page.getByRole('heading', { level: 1, name: 'Datennutzung – Runde 3' }).waitFor();
      await live(p.page);
    }
    // A live café page learns it at once: the organizer's other tab shows "voll".
    await round(watch.page, 3).locator('tr', { hasText: 'Datennutzung' }).getByText('voll').waitFor();
    await watch.close();
    // The third finds the table full (her page was loaded before) and is offered the others.
    await p3.load(() => seatButton(p3.page, 3, 'Datennutzung').click(), { allowStatus: (s) => s === 409 });
    const notice = p3.page.locator('#cafe-notice');
    await notice.getByText('Dieser Tisch ist voll.').waitFor();
    assert.ok(await notice.getByText('Digitale Anwendung (0 / 2)').isVisible());
    await p3.load(() => seatButton(p3.page, 3, 'Digitale Anwendung').click());
    await p3.page.getByRole('heading', { level: 1, name: 'Digitale Anwendung – Runde 3' }).waitFor();

    // An impulse from p1 appears at p2's table without a reload, once.
    await p2.page.evaluate(() => (window.__same = true));
    const idea = 'Ein gemeinsamer Datenkatalog für Bund, Länder und Kommunen';
    await p1.page.getByLabel('Ihr Impuls').fill(idea);
    await p1.page.getByLabel('Ihr Impuls').press('Enter');
    await p2.page.locator('#impulses > li', { hasText: idea }).waitFor();
    assert.equal(await p2.page.locator('#impulses > li', { hasText: idea }).count(), 1);
    assert.ok(await p2.page.evaluate(() => window.__same === true), 'no reload');
    await p1.page.waitForFunction(() => document.getElementById('impulse-text').value === '');
    // …and not at another table.
    assert.equal(await p3.page.locator('#impulses > li', { hasText: idea }).count(), 0);

    // The moderation (here: the organizer) writes the table's summary and ends the round.
    await chair.visit(CAFE);
    await chair.load(() => round(chair.page, 3).getByRole('link', { name: 'Datennutzung' }).click());
    await chair.page.getByRole('heading', { name: 'Leitfaden für die Moderation' }).waitFor();
    const summary = 'Runde 3: Vorrang hat ein gemeinsamer Datenkatalog, gepflegt wie ein Register.';
    await waitLive(chair.page);
    await chair.page.getByRole('textbox', { name: /^Zusammenfassung/ }).fill(summary);
    // Saved over the live connection: confirmed beside the form, no page load.
    await chair.page.getByRole('button', { name: 'Zusammenfassung speichern' }).click();
    await chair.page.getByText('Zusammenfassung gespeichert').waitFor();
    assert.equal(await chair.page.getByRole('textbox', { name: /^Zusammenfassung/ }).inputValue(), summary);
    await chair.visit(CAFE);
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde 3 für alle Tische beenden' }).click());
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde anlegen' }).click());
    await chair.load(() => chair.page.getByRole('button', { name: 'Runde 4 für alle Tische starten' }).click());

    // Round 4: people switch tables. p3 comes to "Datennutzung", which opens with the
    // summary of round 3; p1 moves on to "Digitale Anwendung".
    await p3.visit(CAFE);
    await p3.load(() => seatButton(p3.page, 4, 'Datennutzung').click());
    await p3.page.getByRole('heading', { name: 'Zusammenfassung aus Runde 3' }).waitFor();
    assert.ok(await p3.page.getByText(summary).isVisible());
    await p1.visit(CAFE);
    await p1.load(() => seatButton(p1.page, 4, 'Digitale Anwendung').click());
    await p1.page.getByRole('heading', { level: 1, name: 'Digitale Anwendung – Runde 4' }).waitFor();

    // The pinboard: p2 parks a topic, p1 sees it live; the organizer picks it up.
    await p1.visit(`${EVENT}/pinnwand`);
    await live(p1.page);
    await p2.visit(`${EVENT}/pinnwand`);
    const parked = 'Open-Data-Portal der Länder gemeinsam weiterentwickeln';
    await p2.page.getByLabel('Thema für später').fill(parked);
    await p2.page.getByRole('button', { name: 'Anpinnen' }).click();
    await p1.page.locator('#pins > li', { hasText: parked }).waitFor();
    await chair.visit(`${EVENT}/pinnwand`);
    const pin = chair.page.locator('#pins > li', { hasText: parked });
    await pin.locator('summary').click();
    await pin.getByLabel(/^Entscheidung/).selectOption('picked_up');
    await pin.getByLabel(/^Wo es aufgegriffen wird/).fill('Nachbesprechung der nächsten Sitzung');
    await chair.load(() => pin.getByRole('button', { name: 'Speichern' }).click());
    await p1.page.locator('#pins > li', { hasText: parked }).locator('.pin-status', { hasText: 'aufgegriffen' }).waitFor();

    // What p1 did shows on her page.
    await p1.visit('/meine-ergebnisse');
    assert.ok(await p1.page.getByRole('cell', { name: idea }).isVisible());
    for (const s of [chair, ...people]) s.assertClean();
  });
});
