// K15+ (issue 22): networking in two browsers. Two participants fill their profiles
// (visible to the event), one finds the other in "Wer ist hier" and asks to connect,
// the other accepts by keyboard, and they exchange a direct message that arrives live
// and equals its reload. axe-core runs on every new page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { field, selectOptionByText } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { assertRegionsEqualReload } from '../lib/regions.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;

const live = (page) =>
  page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();

describe('networking', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('profile, who is here, request, accept, direct message live', { timeout: 240_000 }, async () => {
    const people = [];
    for (const [i, token] of participantTokens(server, SLUG, 2).entries()) {
      const s = await asParticipant(browser, server, token);
      sessions.push(s);
      await s.visit(`${EVENT}/profil`);
      const name = (await s.page.locator('.account .who strong').textContent()).trim();
      const { page } = s;
      await page.getByLabel('Die Teilnehmenden der Veranstaltung').check();
      await field(page, 'Organisation').fill(`Amt Nummer ${i + 1}`);
      await field(page, 'Land oder Konferenz').fill('Hessen');
      await field(page, 'Weitere Themen').fill('Cloud, Vernetzung');
      await page.getByLabel('Meine E-Mail-Adresse teilen').check();
      await s.load(() => page.getByRole('button', { name: 'Profil speichern' }).click());
      await page.getByRole('status').filter({ hasText: 'Das Profil ist gespeichert.' }).waitFor();
      people.push({ s, page, name });
    }
    const [asker, other] = people;

    // Who is here: filtered by organisation (a GET form), the other person's card.
    await asker.s.visit(`${EVENT}/teilnehmende`);
    await selectOptionByText(asker.page.getByLabel('Organisation'), 'Amt Nummer 2');
    await asker.s.load(() => asker.page.getByRole('button', { name: 'Filtern' }).click());
    const card = asker.page.locator('#people > li', { hasText: other.name });
    await card.waitFor();
    assert.equal(await asker.page.locator('#people > li').count(), 1, 'only the filtered person');
    await card.locator('summary').click();
    await card.getByLabel(/^Kurze Nachricht/).fill('Gern über Cloud sprechen?');
    await asker.s.load(() => card.getByRole('button', { name: 'Anfrage senden' }).click());
    await asker.page.getByRole('status').filter({ hasText: 'Ihre Kontaktanfrage ist gesendet.' }).waitFor();

    // The other accepts, by keyboard.
    await other.s.visit(`${EVENT}/kontakte`);
    const incoming = other.page.locator('#incoming > li', { hasText: asker.name });
    await incoming.getByText('Gern über Cloud sprechen?').waitFor();
    await incoming.getByRole('button', { name: `Annehmen: ${asker.name}` }).focus();
    await other.s.load(() => other.page.keyboard.press('Enter'));
    await other.page.locator('#contacts > li', { hasText: asker.name }).waitFor();
    await other.s.axe();

    // The asker sees the other's shared address among the contacts.
    await asker.s.visit(`${EVENT}/kontakte`);
    await asker.page.locator('#contacts > li', { hasText: other.name }).getByRole('link', { name: /@/ }).waitFor();

    // The same lists konvent-wide, reached from the account area.
    await asker.s.load(() => asker.page.getByRole('link', { name: 'Meine Kontakte', exact: true }).click());
    await asker.page.locator('#contacts > li', { hasText: other.name }).getByRole('link', { name: /@/ }).waitFor();
    await asker.s.axe();

    // Direct messages both ways, live, each equal to its reload.
    for (const p of people) {
      await p.s.visit(`${EVENT}/nachrichten`);
      await live(p.page);
    }
    const send = async (from, to, text) => {
      await selectOptionByText(from.page.getByLabel('An', { exact: true }), to.name);
      await from.page.getByRole('textbox', { name: 'Nachricht' }).fill(text);
      await from.page.getByRole('button', { name: 'Senden', exact: true }).click();
      for (const page of [from.page, to.page]) {
        await page.locator('#dm-log li', { hasText: text }).waitFor();
      }
    };
    await send(asker, other, 'Hallo, schön dass es klappt!');
    await send(other, asker, 'Gern, bis gleich in der Lounge.');
    for (const p of people) {
      await assertRegionsEqualReload(p.page, ['#dm-log'], 'direct messages between contacts');
      await p.s.axe();
      p.s.assertClean();
    }
  });
});
