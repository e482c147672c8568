// K1, K7, K14: the lobby of the Strategiekonvent while the organizers run it. The demo
// admin (organizer) and a participant keep the lobby open; from the organizers' console
// the organizer starts an item after the program, lets the clock lead again ("Der Uhr
// folgen"), starts and stops the pitch timer and opens the survey. After each change
// the participant's and the organizer's lobby regions (now/next, programme, timer,
// destinations) equal the same regions after a reload, the plenum shows the timer, and
// axe-core stays clean. A screenshot of the lobby at 1280×800 goes to
// e2e/screenshots/lobby.png. And a region that names the clock's next change
// (data-refresh-at) is taken from the page again once that moment has passed.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { assertRegionsEqualReload } from '../lib/regions.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const CONSOLE = `${EVENT}/organisation`;
const PLENUM = `${EVENT}/raeume/plenum`;
const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
const PITCH = 'Pitch der Zielbilder durch die Themenpaten';
const OVER = 'Das Programm ist beendet. Vielen Dank für Ihre Teilnahme!';
const LOUNGE = 'Die Lounge bleibt zur Vernetzung geöffnet.';
/** The lobby's live regions. */
const REGIONS = ['#lobby-now', '#program', '#timer', '#destinations'];

const live = (page) =>
  page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();
/** Waits until fn(arg) holds; polls on a timer (a background tab skips animation frames). */
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { polling: 50 });
const nowText = (page) => page.locator('#lobby-now').innerText();

describe('the lobby while the organizers run the event', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('now/next, programme, timer and the survey link follow the console live, as a reload shows them', { timeout: 240_000 }, async () => {
    const screen = { contextOptions: { viewport: { width: 1280, height: 800 } } };
    // The organizer: the lobby in one tab, the console in another.
    const chair = await openSession(browser, server, screen);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit(EVENT);
    await live(chair.page);
    const desk = await openSession(browser, server, { context: chair.context });
    sessions.push(desk);
    await desk.visit(CONSOLE);
    await live(desk.page);

    const [token] = participantTokens(server, SLUG, 1);
    const guest = await asParticipant(browser, server, token);
    sessions.push(guest);
    await guest.page.setViewportSize({ width: 1280, height: 800 });
    await guest.visit(EVENT);
    await live(guest.page);
    const lobbies = [guest, chair];
    const who = (s) => (s === guest ? 'participant' : 'organizer');

    // The demo convention was held in 2025: by the clock the program is over.
    for (const s of lobbies) {
      const text = await nowText(s.page);
      assert.match(text, new RegExp(OVER));
      assert.match(text, new RegExp(LOUNGE));
    }
    // The destinations come first: the map as the main one, then café, pinboard,
    // questions, help desk, the person's own results; the console only for the organizer.
    const cards = (s) => s.page.locator('#destinations li:not([hidden]) a').allInnerTexts();
    assert.deepEqual(await cards(guest), ['Auf die Karte', 'World Café', 'Postkasten & Pinnwand', 'Fragen ans Podium', 'Help Desk', 'Meine Ergebnisse']);
    assert.deepEqual((await cards(chair)).at(-1), 'Organisation');

    // 1. The organizer runs the pitches again, after the program: "Jetzt" and
    //    "Danach" change live, the lounge note goes, the programme marks the item.
    await desk.load(() => desk.page.getByRole('button', { name: new RegExp(`^Jetzt starten\\s*:\\s*${PITCH}$`) }).click());
    for (const s of lobbies) {
      await until(s.page, (item) => document.getElementById('agenda-now')?.textContent.includes(item), PITCH);
      const text = await nowText(s.page);
      assert.match(text, /Danach, 13:40 Uhr: Pause und Orientierung auf der Karte/);
      assert.doesNotMatch(text, new RegExp(LOUNGE));
      assert.equal(await s.page.locator('#program tr[aria-current="step"] td:last-child').innerText(), PITCH);
      await s.axe();
      await assertRegionsEqualReload(s.page, REGIONS, who(s));
    }

    // 2. "Der Uhr folgen": the clock leads again, and it says the program is over.
    await desk.load(() => desk.page.getByRole('button', { name: 'Der Uhr folgen' }).click());
    for (const s of lobbies) {
      await until(s.page, (over) => document.getElementById('lobby-now')?.textContent.includes(over), OVER);
      assert.match(await nowText(s.page), new RegExp(LOUNGE));
      assert.equal(await s.page.locator('#program tr[aria-current]').count(), 0);
      await assertRegionsEqualReload(s.page, REGIONS, who(s));
    }

    // 3. The pitch timer: in the lobby and in the plenum, where the pitch is watched.
    const plenum = await openSession(browser, server, { context: guest.context });
    sessions.push(plenum);
    await plenum.visit(PLENUM);
    await live(plenum.page);
    assert.ok(await plenum.page.locator('#timer').isHidden());
    await desk.page.getByLabel('Bezeichnung', { exact: true }).fill('Pitch Datennutzung');
    await desk.page.getByLabel('Dauer (Sekunden)').fill('120');
    await desk.page.getByRole('button', { name: 'Timer starten' }).click();
    for (const s of [...lobbies, plenum, desk]) {
      const timer = s.page.locator('#timer');
      await timer.filter({ hasText: 'Pitch Datennutzung' }).waitFor();
      assert.ok(await timer.isVisible());
      assert.match(await timer.locator('.timer-clock').innerText(), /^[12]:\d\d$/);
    }
    await plenum.axe();
    for (const s of lobbies) await assertRegionsEqualReload(s.page, REGIONS, who(s));
    await assertRegionsEqualReload(plenum.page, ['#timer'], 'plenum');
    await assertRegionsEqualReload(desk.page, ['#timer'], 'console');

    // 4. The survey opens: its card joins the destinations without a reload.
    await desk.load(() => desk.page.getByRole('button', { name: 'Umfrage öffnen' }).click());
    for (const s of lobbies) {
      await s.page.locator('#destinations').getByRole('link', { name: 'Feedback' }).waitFor();
      await assertRegionsEqualReload(s.page, REGIONS, who(s));
    }
    assert.deepEqual((await cards(chair)).slice(-2), ['Feedback', 'Organisation']);
    assert.ok(!(await cards(guest)).includes('Organisation'));

    // The lobby as a participant sees it, with the timer running and the survey open.
    await mkdir(SCREENSHOTS, { recursive: true });
    await guest.page.screenshot({ path: path.join(SCREENSHOTS, 'lobby.png') });

    // 5. The timer stops: gone everywhere.
    await desk.page.getByRole('button', { name: 'Timer anhalten' }).click();
    for (const s of [...lobbies, plenum, desk]) {
      await until(s.page, () => document.getElementById('timer')?.hidden === true);
    }
    for (const s of lobbies) await assertRegionsEqualReload(s.page, REGIONS, who(s));
    await assertRegionsEqualReload(plenum.page, ['#timer'], 'plenum');
    await assertRegionsEqualReload(desk.page, ['#timer'], 'console');

    for (const s of [...lobbies, plenum]) {
      await s.axe();
      s.assertClean();
    }
  });

  it('a region the clock changes is taken from the page again at the moment it names', { timeout: 120_000 }, async () => {
    // The demo's program is over, so nothing on its lobby waits for the clock. This
    // page marks its now/next panel as out of date in 3 s (data-refresh-at),
    // before live.js runs (deferred scripts run after readyState turns "interactive");
    // live.js then loads the page again (within 20 s) and takes the panel from it.
    const [token] = participantTokens(server, SLUG, 1);
    const s = await asParticipant(browser, server, token);
    sessions.push(s);
    await s.page.addInitScript((over) => {
      document.addEventListener('readystatechange', () => {
        const panel = document.getElementById('lobby-now');
        if (document.readyState !== 'interactive' || !panel) return;
        panel.setAttribute('data-refresh-at', new Date(Date.now() + 3000).toISOString());
        panel.querySelector('.now').textContent = over.replace('beendet', 'veraltet');
      });
    }, OVER);
    // Read at once (axe comes at the end): the refresh comes 3 s after the load at the earliest.
    await s.page.goto(EVENT, { waitUntil: 'domcontentloaded' });
    assert.match(await nowText(s.page), /Das Programm ist veraltet/);
    await live(s.page);
    await s.page.waitForFunction(
      (over) => document.getElementById('lobby-now').textContent.includes(over),
      OVER,
      { polling: 200, timeout: 30_000 },
    );
    assert.equal(await s.page.locator('[data-refresh-at]').count(), 0);
    await assertRegionsEqualReload(s.page, REGIONS, 'participant after the clock');
    await s.axe();
    s.assertClean();
  });
});
