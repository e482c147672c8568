// What the walk-through of the live convention (issue 15) found, seen in the browser:
// the help desk room names its helpers, the message recipients come in groups, the
// lobby and the convention's header link "Meine Ergebnisse", form controls stand beside
// their labels (the anonymity checkbox, the organizers' "Raum anlegen" grid, number
// fields wide enough), the moderator's buttons do not touch, and the podium bundle's
// groups carry titles for the stage that the moderator can change. axe-core runs on
// every page visited.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;

/** The bounding box of a locator, asserted to be laid out. */
async function box(locator, what) {
  const b = await locator.boundingBox();
  assert.ok(b, `${what} is laid out`);
  return b;
}

/** A control and its label stand on one line: their vertical middles within `slack` px. */
async function sameLine(page, control, label, what, slack = 8) {
  const c = await box(control, `${what}: control`);
  const l = await box(label, `${what}: label`);
  const middle = (b) => b.y + b.height / 2;
  assert.ok(
    Math.abs(middle(c) - middle(l)) <= slack,
    `${what}: control (y ${c.y.toFixed(0)}–${(c.y + c.height).toFixed(0)}) and label (y ${l.y.toFixed(0)}–${(l.y + l.height).toFixed(0)}) on one line`,
  );
  return { c, l };
}

describe('the walk-through of the live convention', () => {
  let server;
  const sessions = [];
  let participant;
  let chair;

  serverAndBrowser(sessions, async (sv, browser) => {
    server = sv;
    const [token] = participantTokens(server, SLUG, 1);
    participant = await asParticipant(browser, server, token);
    sessions.push(participant);
    chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
  });

  it('the lobby and every convention page link "Meine Ergebnisse"', { timeout: 60_000 }, async () => {
    const { page } = participant;
    await participant.visit(EVENT);
    const links = page.getByRole('link', { name: 'Meine Ergebnisse', exact: true });
    assert.ok((await links.count()) >= 2, 'in the header and in the lobby navigation');
    await participant.visit(`${EVENT}/raeume/plenum`);
    await participant.load(() => page.locator('.site-header').getByRole('link', { name: 'Meine Ergebnisse' }).click());
    assert.equal(new URL(page.url()).pathname, '/meine-ergebnisse');
  });

  it('the help desk room names the helpers on duty; the recipients come in groups', { timeout: 60_000 }, async () => {
    const { page } = participant;
    await participant.visit(`${EVENT}/raeume/helpdesk`);
    const staff = page.getByRole('region', { name: 'Heute am Help Desk' });
    for (const name of ['Moritz Dittrich', 'Jürina Hildebrand']) {
      await staff.getByRole('listitem').filter({ hasText: name }).waitFor();
    }
    await participant.load(() => staff.getByRole('link', { name: 'Nachricht an den Help Desk' }).click());
    const groups = await page.locator('#dm-to optgroup').evaluateAll((gs) =>
      gs.map((g) => ({ label: g.label, options: [...g.querySelectorAll('option')].map((o) => o.textContent.trim()) })),
    );
    assert.deepEqual(groups.map((g) => g.label), ['Help Desk', 'Moderation', 'Themenpat*innen']);
    assert.ok(groups[0].options.includes('Moritz Dittrich'), JSON.stringify(groups));
    assert.ok(groups[1].options.some((o) => o.startsWith('Dr. André Göbel')), JSON.stringify(groups));
    assert.equal(groups[2].options.length, 5, JSON.stringify(groups));
  });

  it('checkboxes stand beside their labels; the room form lines up; buttons keep apart', { timeout: 90_000 }, async () => {
    // The anonymity checkbox of a podium question, its label to its right.
    const { page } = participant;
    await participant.visit(`${EVENT}/fragen`);
    const { c, l } = await sameLine(page, page.locator('#question-anonymous'), page.locator('label[for="question-anonymous"]'), 'anonymity checkbox');
    assert.ok(l.x > c.x, 'the label after the checkbox');

    // The organizers' "Raum anlegen": every label beside its own field, also after the hint.
    const o = chair.page;
    await chair.visit(`${EVENT}/organisation`);
    for (const [label, id] of [
      ['Name', '#room-name'],
      ['Kurzbezeichnung (für die Adresse)', '#room-slug'],
      ['Raumart', '#room-kind'],
      ['Kapazität (Personen)', '#room-capacity'],
    ]) {
      await sameLine(o, o.locator(id), o.locator(`label[for="${id.slice(1)}"]`), `"${label}"`);
    }
    for (const id of ['#room-capacity', '#timer-seconds']) {
      const b = await box(o.locator(id), id);
      assert.ok(b.width >= 100, `${id} is ${b.width.toFixed(0)} px wide`);
    }

    // "Hand heben" and "Wort zurücknehmen" in the moderator's plenum do not touch.
    await chair.visit(`${EVENT}/raeume/plenum`);
    const hand = await box(o.getByRole('button', { name: 'Hand heben' }), 'Hand heben');
    const back = await box(o.getByRole('button', { name: 'Wort zurücknehmen' }), 'Wort zurücknehmen');
    const gap = back.y - (hand.y + hand.height);
    assert.ok(gap >= 8, `${gap.toFixed(0)} px between the buttons`);
  });

  it('the podium bundle shows titles for the stage, and the moderator renames a group', { timeout: 90_000 }, async () => {
    const { page } = chair;
    await chair.visit(`${EVENT}/podium`);
    const titles = await page.locator('h3.podium-title').evaluateAll((hs) =>
      hs.map((h) => h.firstChild.textContent.trim()),
    );
    assert.ok(titles.length >= 5, JSON.stringify(titles));
    for (const t of titles) {
      assert.match(t, /^\p{Lu}/u, `a title starts with a capital: ${t}`);
      assert.ok(!/^[\p{Ll}]+(, [\p{Ll}]+)+$/u.test(t), `not a keyword list: ${t}`);
    }
    const first = page.locator('.podium-groups > li').first();
    await first.locator('summary').click();
    await first.getByLabel('Titel der Gruppe').fill('Daten gemeinsam nutzen');
    await chair.load(() => first.getByRole('button', { name: /^Titel speichern/ }).click());
    await page.getByRole('heading', { level: 3, name: /^Daten gemeinsam nutzen/ }).waitFor();
  });
});
