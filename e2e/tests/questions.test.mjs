// K11, K13 (issue 15, items 3 and 4): podium questions and the pinboard, live. Two
// participants and the organizer: a question asked anonymously waits for approval (its
// asker sees that, nobody else sees it), is approved and supported; a second click from
// another tab is refused beside the button; a question rejected after its approval
// leaves the others' pages; a pin is parked, voted for, the vote taken
// back, and picked up. After every change each page's list equals its reload, for the
// author and for the other participant; axe-core runs after the live changes too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { assertRegionsEqualReload } from '../lib/regions.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const QUESTIONS = `${EVENT}/fragen`;
const PINBOARD = `${EVENT}/pinnwand`;

const live = (page) =>
  page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A button whose accessible name is `label: text` (the text is visually hidden). */
const button = (scope, label, text) =>
  scope.getByRole('button', { name: new RegExp(`^${escapeRe(label)}\\s*:\\s*${escapeRe(text)}$`) });
const question = (page, text) => page.locator('#questions > li', { hasText: text });
const pin = (page, text) => page.locator('#pins > li', { hasText: text });
/** The order of `texts` among a list's items (their first paragraph); the demo has more. */
const order = (page, list, texts) =>
  page
    .locator(`#${list} > li > p:first-child`)
    .evaluateAll((ps) => ps.map((p) => p.textContent.trim()))
    .then((all) => all.filter((t) => texts.includes(t)));
/** A mark on the document: still there later = the page was never reloaded. */
const markDocument = (page) => page.evaluate(() => (window.__e2eSameDocument = true));
const sameDocument = (page) => page.evaluate(() => window.__e2eSameDocument === true);
/** Waits until fn(arg) is true in the page (polling on a timer, also in a background tab). */
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { polling: 20 });

describe('questions and pins, live', () => {
  let server;
  let browser;
  const sessions = [];
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('ask, approve, support; pin, vote, take back, decide — each page equals its reload', { timeout: 240_000 }, async () => {
    const people = [];
    for (const token of participantTokens(server, SLUG, 2)) {
      const s = await asParticipant(browser, server, token);
      sessions.push(s);
      await s.visit(QUESTIONS);
      await live(s.page);
      const name = (await s.page.locator('.account .who strong').textContent()).trim();
      people.push({ s, page: s.page, name });
    }
    const [p1, p2] = people;
    const chair = await openSession(browser, server);
    sessions.push(chair);
    await chair.visit(server.signInLink);
    await chair.load(() => chair.page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await chair.visit(QUESTIONS);
    await live(chair.page);
    const all = [p1.page, p2.page, chair.page];
    for (const page of all) await markDocument(page);
    const sameAsReload = async (label, pages, region = '#questions') => {
      for (const page of pages) await assertRegionsEqualReload(page, region, label);
    };

    // Participant 1 asks anonymously: she sees her question waiting for approval, the
    // organizer sees it with the controls, participant 2 does not see it.
    const asked = 'Wie werden die Ergebnisse des Konvents veröffentlicht?';
    await p1.page.getByLabel('Ihre Frage').fill(asked);
    await p1.page.getByLabel(/^Anonym stellen/).check();
    await p1.page.getByRole('button', { name: 'Frage stellen' }).click();
    await question(p1.page, asked).locator('.question-status', { hasText: 'wartet auf Freigabe' }).waitFor();
    assert.equal(await question(p1.page, asked).locator('.asker').textContent(), 'anonym');
    assert.equal(await button(question(p1.page, asked), 'Unterstützen', asked).count(), 0, 'not open for support yet');
    await button(chair.page, 'Freigeben', asked).waitFor();
    assert.equal(await button(p1.page, 'Freigeben', asked).isVisible(), false, 'no controls for participants');
    assert.equal(await question(p2.page, asked).count(), 0, 'nobody else sees a pending question');
    await sameAsReload('asked', all);

    // Participant 2 asks with her name.
    const named = 'Gibt es eine Fortsetzung im nächsten Jahr?';
    await p2.page.getByLabel('Ihre Frage').fill(named);
    await p2.page.getByRole('button', { name: 'Frage stellen' }).click();
    await question(chair.page, named).waitFor();

    // The organizer approves both: they reach everybody, with "Unterstützen".
    await button(chair.page, 'Freigeben', asked).click();
    await button(chair.page, 'Freigeben', named).click();
    for (const p of people) {
      await button(p.page, 'Unterstützen', asked).waitFor();
      await button(p.page, 'Unterstützen', named).waitFor();
    }
    await question(p1.page, asked).locator('.question-status', { hasText: 'freigegeben' }).waitFor();
    assert.equal(await question(p1.page, named).locator('.asker').textContent(), p2.name);
    assert.equal(await button(chair.page, 'Freigeben', asked).count(), 0, 'approved: no second approval');
    await button(chair.page, 'Beantwortet', asked).waitFor();
    await sameAsReload('approved', all);

    // Participant 2 has a second tab open on the questions, then supports participant
    // 1's question: the button gives way to "Sie unterstützen diese Frage", the count
    // reaches everybody, and the question moves up.
    const tab = await openSession(browser, server, { context: p2.s.context });
    sessions.push(tab);
    await tab.visit(QUESTIONS);
    await live(tab.page);
    await button(p2.page, 'Unterstützen', asked).click();
    await question(p2.page, asked).getByText('Sie unterstützen diese Frage.').waitFor();
    assert.equal(await button(p2.page, 'Unterstützen', asked).isVisible(), false);
    for (const page of all) await question(page, asked).locator('.votes', { hasText: /^1 Stimme$/ }).waitFor();
    assert.deepEqual(await order(p1.page, 'questions', [asked, named]), [asked, named], 'most support first');
    await sameAsReload('supported', all);

    // The second tab still offers the button (it did not vote); its click is refused
    // beside the button, and no error page appears.
    await button(tab.page, 'Unterstützen', asked).click();
    await question(tab.page, asked).locator('.field-error', { hasText: 'schon gestimmt' }).waitFor();
    assert.equal(new URL(tab.page.url()).pathname, QUESTIONS);
    await tab.axe();
    tab.assertClean();
    await tab.close();

    // The organizer rejects participant 2's approved question: it leaves participant
    // 1's page; its asker sees it rejected.
    await button(chair.page, 'Ablehnen', named).click();
    await question(p2.page, named).locator('.question-status', { hasText: 'abgelehnt' }).waitFor();
    await until(p1.page, (text) => ![...document.querySelectorAll('#questions > li')].some((li) => li.textContent.includes(text)), named);
    await question(chair.page, named).locator('.question-status', { hasText: 'abgelehnt' }).waitFor();
    await sameAsReload('rejected', all);

    for (const p of people) await p.s.axe();
    await chair.axe();

    // The pinboard: participant 1 parks a topic; participant 2 sees it live with
    // "Stimme geben" and "Hier möchte ich anknüpfen", the organizer with the controls.
    for (const s of [p1.s, p2.s, chair]) {
      await s.visit(PINBOARD);
      await live(s.page);
      await markDocument(s.page);
    }
    const parked = 'Ein gemeinsames Open-Data-Portal der Länder';
    await p1.page.getByLabel('Thema für später').fill(parked);
    await p1.page.getByRole('button', { name: 'Anpinnen' }).click();
    await button(p2.page, 'Stimme geben', parked).waitFor();
    await button(p2.page, 'Hier möchte ich anknüpfen', parked).waitFor();
    await pin(p2.page, parked).locator('.votes', { hasText: /^0 Stimmen$/ }).waitFor();
    await pin(chair.page, parked).getByText('Aufgreifen oder schließen').waitFor();
    assert.equal(await pin(p2.page, parked).getByText('Aufgreifen oder schließen').isVisible(), false);
    await sameAsReload('pinned', all, '#pins');

    // A second pin, voted for by participant 2: it moves above the first, everywhere.
    const second = 'Barrierefreie Formulare in allen Portalen';
    await p1.page.getByLabel('Thema für später').fill(second);
    await p1.page.getByRole('button', { name: 'Anpinnen' }).click();
    await button(p2.page, 'Stimme geben', second).click();
    await button(p2.page, 'Stimme zurückziehen', second).waitFor();
    assert.equal(await button(p2.page, 'Stimme geben', second).isVisible(), false);
    for (const page of all) await pin(page, second).locator('.votes', { hasText: /^1 Stimme$/ }).waitFor();
    assert.deepEqual(await order(p1.page, 'pins', [parked, second]), [second, parked], 'most votes first');
    await sameAsReload('voted', all, '#pins');

    // She takes the vote back: "Stimme geben" again, the pin back in its place.
    await button(p2.page, 'Stimme zurückziehen', second).click();
    await button(p2.page, 'Stimme geben', second).waitFor();
    for (const page of all) await pin(page, second).locator('.votes', { hasText: /^0 Stimmen$/ }).waitFor();
    assert.deepEqual(await order(p1.page, 'pins', [parked, second]), [parked, second], 'first pinned first');
    await sameAsReload('vote taken back', all, '#pins');

    for (const p of people) assert.ok(await sameDocument(p.page), `${p.name}: no reload so far`);

    // The organizer picks the first pin up (a plain form); both participants see it live.
    const item = pin(chair.page, parked);
    await item.locator('summary').click();
    await item.getByLabel(/^Entscheidung/).selectOption('picked_up');
    await item.getByLabel(/^Wo es aufgegriffen wird/).fill('Nachbesprechung der nächsten Sitzung');
    await chair.load(() => item.getByRole('button', { name: 'Speichern' }).click());
    for (const p of people) {
      await pin(p.page, parked).locator('.pin-status', { hasText: 'aufgegriffen' }).waitFor();
      await pin(p.page, parked).locator('.pin-outcome', { hasText: 'Nachbesprechung der nächsten Sitzung' }).waitFor();
    }
    await sameAsReload('decided', [p1.page, p2.page], '#pins');
    for (const p of people) {
      assert.ok(await sameDocument(p.page), `${p.name}: never reloaded`);
      await p.s.axe();
    }
    for (const s of [...people.map((p) => p.s), chair]) s.assertClean();
  });
});
