// K15+ and K16+ (issue 22) by keyboard alone: Tab, Shift+Tab, Enter, Space, the arrow
// keys in a radio group and typing, no mouse. Four participants fill their profiles; three ask the first for contact with
// a message; she declines one, accepts one, reports the third's message and blocks that
// person; two who marked the same focus topic start a follow-up group in a new small room
// of the event and send a date proposal. After every form the focus is on the status
// message that says what happened. axe-core and IBM's checker run on every page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;

/** Whether `target` is the focused element. */
const focused = (target) => target.evaluate((el) => el === document.activeElement);

/**
 * Moves the focus to `target` with Tab, or with Shift+Tab when it comes before the
 * focused element in the page.
 */
async function tabTo(page, target, what) {
  await target.waitFor();
  const back = await target.evaluate((el) => {
    const at = document.activeElement;
    if (!at || at === document.body) return false;
    return Boolean(el.compareDocumentPosition(at) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  for (let i = 0; i < 400; i++) {
    if (await focused(target)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`${back ? 'Shift+Tab' : 'Tab'} never reached ${what}`);
}

/** After a form's redirect: the focus is on the status message saying `text`. */
async function focusOnStatus(page, text) {
  const status = page.getByRole('status').filter({ hasText: text });
  await status.waitFor();
  await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'status');
  assert.ok(await focused(status), `the focus is on the status "${text}"`);
}

/** Submits the focused form control's form with Enter and checks the new page. */
const enter = (s) => s.load(() => s.page.keyboard.press('Enter'));

describe('networking by keyboard', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('request, decline, accept, report, block and a follow-up group with a date, keyboard only', { timeout: 300_000 }, async () => {
    const people = [];
    for (const [i, token] of participantTokens(server, SLUG, 4).entries()) {
      const s = await asParticipant(browser, server, token);
      sessions.push(s);
      const { page } = s;
      await s.visit(`${EVENT}/profil`);
      const name = (await page.locator('.account .who strong').textContent()).trim();
      // Tab enters the radio group at its checked button; the arrow keys choose.
      await tabTo(page, page.locator('input[name="visibility"]:checked'), 'the visibility');
      const visibility = page.getByLabel('Die Teilnehmenden der Veranstaltung');
      for (let k = 0; k < 5 && !(await visibility.isChecked()); k++) await page.keyboard.press('ArrowDown');
      assert.ok(await visibility.isChecked(), 'the arrow keys choose the visibility');
      await tabTo(page, page.getByLabel('Organisation', { exact: true }), 'Organisation');
      await page.keyboard.type(`Tastaturamt ${i + 1}`);
      if (i < 2) {
        const match = page.getByLabel('Von Menschen mit denselben Anknüpfungspunkten gefunden werden');
        await tabTo(page, match, 'the matching permission');
        await page.keyboard.press('Space');
        assert.ok(await match.isChecked(), 'Space checks the box');
      }
      await tabTo(page, page.getByRole('button', { name: 'Profil speichern' }), 'Profil speichern');
      await enter(s);
      await page.getByRole('status').filter({ hasText: 'Das Profil ist gespeichert.' }).waitFor();
      people.push({ s, page, name });
    }
    const [her, friend, stranger, spammer] = people;

    // Three ask her for contact, each with a message, from "Wer ist hier".
    const messages = new Map([
      [friend, 'Gern über Cloud sprechen?'],
      [stranger, 'Kennen wir uns?'],
      [spammer, 'Kaufen Sie jetzt Bitcoin'],
    ]);
    for (const [p, message] of messages) {
      await p.s.visit(`${EVENT}/teilnehmende`);
      const card = p.page.locator('#people > li', { hasText: her.name });
      await tabTo(p.page, card.locator('summary'), `"Kontakt anfragen: ${her.name}"`);
      await p.page.keyboard.press('Space');
      const text = card.getByLabel(/^Kurze Nachricht/);
      await tabTo(p.page, text, 'the message');
      await p.page.keyboard.type(message);
      await tabTo(p.page, card.getByRole('button', { name: 'Anfrage senden' }), 'Anfrage senden');
      await enter(p.s);
      await focusOnStatus(p.page, 'Ihre Kontaktanfrage ist gesendet.');
    }

    // She declines one, accepts one, reports the third's message and blocks its sender.
    await her.s.visit(`${EVENT}/kontakte`);
    const { page } = her;
    await tabTo(page, page.getByRole('button', { name: `Ablehnen: ${stranger.name}` }), 'Ablehnen');
    await enter(her.s);
    await focusOnStatus(page, 'Die Anfrage ist abgelehnt.');
    assert.equal(await page.locator('#incoming > li', { hasText: stranger.name }).count(), 0);

    await tabTo(page, page.getByRole('button', { name: `Annehmen: ${friend.name}` }), 'Annehmen');
    await enter(her.s);
    await focusOnStatus(page, 'Die Anfrage ist angenommen');
    await page.locator('#contacts > li', { hasText: friend.name }).waitFor();

    const spam = page.locator('#incoming > li', { hasText: spammer.name });
    await spam.getByText('Kaufen Sie jetzt Bitcoin').waitFor();
    await tabTo(page, spam.locator('summary'), `"Melden: ${spammer.name}"`);
    await page.keyboard.press('Space');
    await tabTo(page, spam.getByLabel('Grund für die Meldung an die Moderation'), 'the reason');
    await page.keyboard.type('Werbung');
    await tabTo(page, spam.getByRole('button', { name: 'An die Moderation melden' }), 'An die Moderation melden');
    await enter(her.s);
    await focusOnStatus(page, 'Ihre Meldung ist bei der Moderation.');

    await tabTo(page, page.getByRole('button', { name: `Sperren: ${spammer.name}` }).first(), 'Sperren');
    await enter(her.s);
    await focusOnStatus(page, 'Die Person ist gesperrt.');
    await page.locator('#blocked > li', { hasText: spammer.name }).waitFor();
    assert.equal(await page.locator('#incoming > li', { hasText: spammer.name }).count(), 0);

    // She and her new contact both mark the first focus topic.
    await her.s.visit('/meine-ergebnisse');
    const topic = await page.locator('main a[href^="/strategie/themen/"]').first().getAttribute('href');
    for (const p of [her, friend]) {
      await p.s.visit(topic);
      await tabTo(p.page, p.page.getByRole('button', { name: 'Hier möchte ich anknüpfen' }), 'Hier möchte ich anknüpfen');
      await enter(p.s);
      await p.page.getByRole('button', { name: 'Hier möchte ich anknüpfen', pressed: true }).waitFor();
    }

    // She starts a follow-up group with him, in a new small room of the event.
    await her.s.visit('/meine-ergebnisse');
    const point = page.locator('section', { has: page.getByRole('checkbox', { name: friend.name }) });
    assert.ok(await point.getByRole('checkbox', { name: friend.name }).isChecked(), 'the peer is chosen');
    await tabTo(page, point.getByLabel('Name der Gruppe'), 'Name der Gruppe');
    await page.keyboard.type('Tastatur-Runde');
    const room = point.getByLabel('Raum der Gruppe');
    await tabTo(page, room, 'Raum der Gruppe');
    await page.keyboard.type('Neuer');
    assert.match(await room.inputValue(), /^neu\d+$/, 'typing picks the new room');
    await tabTo(page, point.getByRole('button', { name: 'Gruppe gründen' }), 'Gruppe gründen');
    await enter(her.s);
    await focusOnStatus(page, 'Die Folgegruppe ist gegründet.');
    const group = page.locator('.groups > li', { hasText: 'Tastatur-Runde' });
    const link = group.getByRole('link').first();
    assert.match(await link.getAttribute('href'), new RegExp(`^${EVENT}/raeume/gruppe-\\d+$`));

    // She proposes a date (06.06. reads the same in every date order); no place: the room.
    await tabTo(page, group.locator('summary', { hasText: 'Termin vorschlagen' }), 'Termin vorschlagen');
    await page.keyboard.press('Space');
    const date = group.getByLabel('Datum');
    await tabTo(page, date, 'Datum');
    await page.keyboard.type('06062030');
    assert.equal(await date.inputValue(), '2030-06-06');
    const time = group.getByLabel('Uhrzeit');
    await tabTo(page, time, 'Uhrzeit');
    await page.keyboard.type('1430');
    assert.equal(await time.inputValue(), '14:30');
    const send = group.getByRole('button', { name: 'Einladung senden' });
    await tabTo(page, send, 'Einladung senden');
    // Shift+Tab goes back into the form and Tab forward again: no trap.
    await page.keyboard.press('Shift+Tab');
    assert.ok(await focused(group.getByLabel('Ort')), 'Shift+Tab goes back to the place');
    await page.keyboard.press('Tab');
    assert.ok(await focused(send), 'Tab comes back to the button');
    await enter(her.s);
    await focusOnStatus(page, 'Der Terminvorschlag ist an alle Mitglieder verschickt.');
    await page.locator('.groups > li', { hasText: 'Tastatur-Runde' }).getByText('Vorgeschlagener Termin').waitFor();

    // He finds the group with its room's link in "Meine Ergebnisse" and goes there.
    await friend.s.visit('/meine-ergebnisse');
    const his = friend.page.locator('.groups > li', { hasText: 'Tastatur-Runde' });
    const roomLink = his.getByRole('link', { name: /./ }).first();
    await tabTo(friend.page, roomLink, 'the room link');
    await enter(friend.s);
    assert.match(new URL(friend.page.url()).pathname, new RegExp(`^${EVENT}/raeume/gruppe-\\d+$`));

    for (const p of people) p.s.assertClean();
  });
});
