// K8: the venue map. Three participants in separate browser contexts open the demo
// Strategiekonvent's map: they see each other move; one walks to a topic table (keys,
// then a click on the canvas) and is in its room; another reaches the same table with
// the keyboard through the list of places; the room's chat connects them. The organizer
// uploads a broken Tiled map, which is refused with reasons while the map stays.
// axe-core runs on every page, also after the room panel opened. At 1280×800 the map and
// the room one joined are in sight together, the venue's labels and people's names are
// legible, and a screenshot of it goes to e2e/screenshots/map.png.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const MAP = `${EVENT}/karte`;
const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

const live = (page) =>
  page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();

/** The people a page lists as near, by avatar id: "x,y". */
const nearby = (page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('#map-near li')].map((li) => [
        li.dataset.avatar,
        `${li.dataset.x},${li.dataset.y}`,
      ]),
    ),
  );

async function step(page, key, times) {
  await page.locator('#map-box').focus();
  for (let i = 0; i < times; i++) {
    await page.keyboard.press(key);
    await page.waitForTimeout(260);
  }
}

describe('the venue map', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('people see each other move, walk or go to a table, and meet in its room', { timeout: 180_000 }, async () => {
    const people = [];
    for (const token of participantTokens(server, SLUG, 3)) {
      const s = await asParticipant(browser, server, token);
      sessions.push(s);
      await s.visit(EVENT);
      // The lobby leads to the map.
      await s.load(() => s.page.getByRole('link', { name: 'Auf die Karte', exact: true }).click());
      await live(s.page);
      await s.page.locator('#map-box').waitFor();
      people.push(s);
    }
    const [p1, p2, p3] = people;

    // All three came in at the entrance: each lists the two others near.
    for (const p of people) {
      await p.page.waitForFunction(() => document.querySelectorAll('#map-near li').length === 2);
    }

    // p1 walks a few steps north with the arrow keys; p2 and p3 see it move.
    const before2 = await nearby(p2.page);
    await step(p1.page, 'ArrowUp', 3);
    await p2.page.waitForFunction(
      (was) =>
        [...document.querySelectorAll('#map-near li')].some(
          (li) => was[li.dataset.avatar] && was[li.dataset.avatar] !== `${li.dataset.x},${li.dataset.y}`,
        ),
      before2,
    );
    const moved = Object.entries(await nearby(p2.page)).filter(([id, at]) => before2[id] !== at);
    assert.equal(moved.length, 1, 'exactly one person moved');
    // …and p1 sees p2 when p2 takes a step with W (WASD).
    const before1 = await nearby(p1.page);
    await step(p2.page, 'w', 1);
    await p1.page.waitForFunction(
      (was) =>
        [...document.querySelectorAll('#map-near li')].some(
          (li) => was[li.dataset.avatar] && was[li.dataset.avatar] !== `${li.dataset.x},${li.dataset.y}`,
        ),
      before1,
    );

    // p1 clicks on a topic table on the canvas and walks there (path around walls).
    const map = await p1.page.evaluate((url) => fetch(url).then((r) => r.json()), `${MAP}.json`);
    const table = map.areas.find((a) => a.kind === 'table');
    assert.ok(table, 'the demo map has topic tables');
    const canvas = p1.page.locator('#map-canvas');
    const box = await canvas.boundingBox();
    const [x0, y0, vw, vh] = (await canvas.getAttribute('data-view')).split(',').map(Number);
    const tx = table.x + Math.floor(table.w / 2);
    const ty = table.y + Math.floor(table.h / 2);
    assert.ok(tx >= x0 && tx < x0 + vw && ty >= y0 && ty < y0 + vh, 'the table is in view');
    await p1.page.mouse.click(
      box.x + ((tx - x0 + 0.5) * box.width) / vw,
      box.y + ((ty - y0 + 0.5) * box.height) / vh,
    );
    await p1.page.locator('#map-room-h', { hasText: `Sie sind jetzt in: ${table.name}` }).waitFor({ timeout: 30_000 });
    assert.ok(await p1.page.locator('#chat-log').isVisible(), "the room's chat opened");
    assert.notEqual(
      await p1.page.evaluate(() => document.activeElement?.id),
      'map-room-h',
      'walking leaves the focus on the map',
    );
    await p1.axe();

    // p3 reaches the same table without the canvas: the list's button, by keyboard.
    const escaped = table.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const go = p3.page.getByRole('button', { name: new RegExp(`^Hierhin gehen\\s*:\\s*${escaped}$`) });
    await go.focus();
    await p3.page.keyboard.press('Enter');
    await p3.page.locator('#map-room-h', { hasText: `Sie sind jetzt in: ${table.name}` }).waitFor();
    assert.equal(p3.page.url().endsWith('/karte'), true, 'no page change: the map stays');
    // Both are in the table's room: headcount 2 in the list of p2, who stayed outside.
    await p2.page.locator(`[data-area-count="${table.key}"]`, { hasText: /^2$/ }).waitFor();

    // The room's chat connects them.
    const hello = 'Hallo am Tisch – wer moderiert heute?';
    await p1.page.getByLabel('Nachricht', { exact: true }).fill(hello);
    await p1.page.getByLabel('Nachricht', { exact: true }).press('Enter');
    await p3.page.locator('#chat-log li', { hasText: hello }).waitFor();
    assert.equal(await p2.page.locator('#chat-log li', { hasText: hello }).count(), 0, 'not outside the room');
    await p3.axe();
    for (const p of people) p.assertClean();
  });

  it('shows the map and the joined room together at 1280×800, with legible names', { timeout: 120_000 }, async () => {
    const people = [];
    for (const token of participantTokens(server, SLUG, 2)) {
      const s = await asParticipant(browser, server, token);
      sessions.push(s);
      await s.page.setViewportSize({ width: 1280, height: 800 });
      await s.visit(MAP);
      await live(s.page);
      await s.page.locator('#map-box').waitFor();
      people.push(s);
    }
    const [me, other] = people;
    const page = me.page;
    const map = await page.evaluate((url) => fetch(url).then((r) => r.json()), `${MAP}.json`);
    const inView = async (locator, what) => {
      const b = await locator.boundingBox();
      assert.ok(b, `${what} is shown`);
      assert.ok(b.y >= 0 && b.y + b.height <= 800 && b.x >= 0 && b.x + b.width <= 1280, `${what} is in the viewport: ${JSON.stringify(b)}`);
    };
    // On arrival the whole venue is on the first screen, beside the room panel.
    await inView(page.locator('#map-box'), 'the map');
    await inView(page.locator('#map-room-h'), "the room panel's heading");
    assert.equal(await page.locator('#map-room-h').innerText(), 'Sie sind in keinem Raum.');

    // Every area has a label of at least 12 px on the drawing, and the entrance one.
    const labels = await page.locator('#map-overlay .map-label').evaluateAll((els) =>
      els.map((el) => ({
        text: el.innerText,
        px: Math.min(...[el, ...el.querySelectorAll('*')].map((e) => parseFloat(getComputedStyle(e).fontSize))),
      })),
    );
    assert.equal(labels.length, map.areas.length + 1, JSON.stringify(labels));
    for (const l of labels) assert.ok(l.px >= 12, `label "${l.text}" is ${l.px} px`);
    const plenum = map.areas.find((a) => a.kind === 'plenary');
    assert.ok(labels.some((l) => l.text.startsWith(plenum.name)), 'the stage is named');
    for (const t of map.areas.filter((a) => a.kind === 'table')) {
      assert.ok(labels.some((l) => l.text.startsWith(t.topic ?? t.name)), `table ${t.name} is named`);
    }

    // The drawing's text alternative names every place.
    assert.match(await page.locator('#map-box').getAttribute('aria-describedby'), /\bmap-summary\b/);
    const summary = await page.locator('#map-summary').textContent();
    for (const a of map.areas) assert.ok(summary.includes(a.name), `the map's description names ${a.name}`);

    // Avatars carry names: one's own says "Sie", the other person nearby at the entrance
    // has initials in the dot and the full name beside it, as the list of people says.
    const theirName = await other.page.locator('.account .who strong').innerText();
    const listed = page.locator('#map-near li', { hasText: `${theirName} – ` });
    await listed.waitFor();
    const theirId = await listed.getAttribute('data-avatar');
    const mine = page.locator('#map-overlay .map-avatar.map-me');
    assert.equal(await mine.locator('.map-dot').innerText(), 'Sie');
    const theirs = page.locator(`#map-overlay .map-avatar[data-avatar="${theirId}"]`);
    await theirs.locator('.map-name', { hasText: theirName }).waitFor();
    const initials = theirName.split(/\s+/).filter((w) => !w.endsWith('.'));
    assert.equal(
      await theirs.locator('.map-dot').innerText(),
      (initials[0][0] + (initials.length > 1 ? initials.at(-1)[0] : '')).toUpperCase(),
    );
    const namePx = await theirs.locator('.map-name').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(namePx >= 12, `names are ${namePx} px`);

    // The last place of the list, far down the page, by keyboard: the page comes back to
    // the map, and the panel beside it says where one is now, with the focus on it.
    const last = map.areas.filter((a) => a.kind !== 'pinboard').at(-1);
    const go = page.locator(`form[data-goto="${last.key}"] button`);
    await go.focus();
    await page.keyboard.press('Enter');
    const heading = page.locator('#map-room-h', { hasText: `Sie sind jetzt in: ${last.name}` });
    await heading.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'map-room-h');
    await inView(heading, "the room panel's heading");
    await inView(page.locator('#map-box'), 'the map');
    await inView(page.locator('#chat-text'), "the room's chat");
    assert.match(await page.locator(`#map-overlay .map-label[data-label="${last.key}"]`).getAttribute('class'), /map-here/);

    // The other person comes too and says hello: the screenshot shows a venue in use.
    await other.page.locator(`form[data-goto="${last.key}"] button`).click();
    await other.page.locator('#map-room-h', { hasText: `Sie sind jetzt in: ${last.name}` }).waitFor();
    await other.page.getByLabel('Nachricht', { exact: true }).fill('Guten Morgen in die Runde!');
    await other.page.getByLabel('Nachricht', { exact: true }).press('Enter');
    await page.locator('#chat-log li', { hasText: 'Guten Morgen in die Runde!' }).waitFor();
    await theirs.locator('.map-name', { hasText: theirName }).waitFor();
    await page.waitForTimeout(400);
    await me.axe();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'map.png') });

    // On a narrow screen the panel stacks below the map; a link under the map leads to it.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const mapBox = await page.locator('#map-box').boundingBox();
    const panelBox = await page.locator('#map-room').boundingBox();
    assert.ok(panelBox.y >= mapBox.y + mapBox.height, 'the panel is below the map');
    assert.ok(mapBox.x + mapBox.width <= 390, 'the map fits the narrow screen');
    const jump = page.getByRole('link', { name: `Sie sind jetzt in: ${last.name} – zu Chat und Wortmeldungen` });
    await jump.click();
    await page.waitForFunction(() => document.activeElement?.id === 'map-room-h');
    await inView(heading, "the room panel's heading");
    await me.axe();
    for (const p of people) p.assertClean();
  });

  it('refuses a broken Tiled map with its reasons and keeps the map', { timeout: 60_000 }, async () => {
    const chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit(MAP);
    const before = await chair.page.evaluate((url) => fetch(url).then((r) => r.text()), `${MAP}.json`);
    const broken = JSON.stringify({
      type: 'map', orientation: 'orthogonal', infinite: false, width: 20, height: 10, tilewidth: 32, tileheight: 32,
      tilesets: [{ firstgid: 1, source: 'fehlt.tsj' }],
      layers: [
        { type: 'tilelayer', name: 'Boden', width: 20, height: 10, data: new Array(200).fill(1) },
        { type: 'objectgroup', name: 'Bereiche', objects: [
          { name: 'Tisch 9', x: 32, y: 32, width: 128, height: 128, properties: [{ name: 'room', type: 'string', value: 'tisch-9' }] },
        ] },
      ],
    });
    await chair.page.locator('#karte-file').setInputFiles({ name: 'kaputt.tmj', mimeType: 'application/json', buffer: Buffer.from(broken) });
    await chair.load(() => chair.page.getByRole('button', { name: 'Karte hochladen' }).click(), { allowStatus: (s) => s === 422 });
    const problems = chair.page.locator('#map-problems');
    await problems.getByText('Die bisherige Karte bleibt in Gebrauch.').waitFor();
    assert.match(await problems.innerText(), /fehlt\.tsj/);
    assert.match(await problems.innerText(), /tisch-9/);
    const after = await chair.page.evaluate((url) => fetch(url).then((r) => r.text()), `${MAP}.json`);
    assert.equal(after, before, 'the map in use is unchanged');
  });
});
