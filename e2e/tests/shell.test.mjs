// The shell of the UI: pages, skip link, language switch, 404 — all axe-clean.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SHELL_PAGES = ['/', '/gremien', '/konvent', '/strategie', '/gremien/personen', '/anmelden'];

describe('every page of the shell is reachable by keyboard and passes axe', () => {
  let server;
  let browser;
  let s;

  serverAndBrowser([], (sv, b) => {
    server = sv;
    browser = b;
  });
  // A fresh context (no cookies, German) for every test.
  beforeEach(async () => {
    s = await openSession(browser, server);
  });
  afterEach(async () => {
    await s?.close().catch(() => {});
  });

  it('the pages /, /gremien, /konvent, /strategie, /gremien/personen and /anmelden answer in German and pass axe', { timeout: 120_000 }, async () => {
    const { page } = s;
    const failures = [];
    for (const path of SHELL_PAGES) {
      try {
        await s.visit(path);
        const lang = await page.locator('html').getAttribute('lang');
        assert.equal(lang, 'de', `${path}: <html lang> should be "de"`);
        assert.ok((await page.getByRole('main').count()) === 1, `${path}: exactly one main landmark`);
      } catch (err) {
        failures.push(`${path}: ${err.message}`);
      }
    }
    assert.deepEqual(failures, [], `shell pages failed:\n${failures.join('\n')}`);
  });

  it('the first Tab press focuses the skip link to the main content', { timeout: 60_000 }, async () => {
    const { page } = s;
    await s.visit('/');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return {
        tag: el?.tagName,
        text: (el?.innerText || el?.textContent || '').replace(/\s+/g, ' ').trim(),
        href: el?.getAttribute('href'),
      };
    });
    assert.equal(focused.tag, 'A', `the first Tab should focus a link, focused ${JSON.stringify(focused)}`);
    assert.equal(focused.text, 'Zum Inhalt springen', `the first focused link should be the skip link, was ${JSON.stringify(focused)}`);
    assert.equal(focused.href, '#inhalt', 'the skip link should point at #inhalt');
    // Its accessible name, as a screen reader hears it.
    const skip = page.getByRole('link', { name: 'Zum Inhalt springen', exact: true });
    assert.equal(await skip.count(), 1, 'exactly one link named "Zum Inhalt springen"');
    assert.ok(await skip.evaluate((el) => el === document.activeElement), 'the focused element is the link named "Zum Inhalt springen"');
    const target = await page.evaluate(() => {
      const el = document.getElementById('inhalt');
      return el && { tag: el.tagName, role: el.getAttribute('role') };
    });
    assert.ok(target, 'an element with id="inhalt" should exist');
    assert.ok(target.tag === 'MAIN' || target.role === 'main', `#inhalt should be the main landmark, is ${JSON.stringify(target)}`);
    // Following the link moves there.
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#inhalt');
    s.assertClean();
  });

  it('the link "English" switches the page to English', { timeout: 60_000 }, async () => {
    const { page } = s;
    await s.visit('/');
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    await s.load(() => page.getByRole('link', { name: 'English', exact: true }).click());
    assert.equal(await page.locator('html').getAttribute('lang'), 'en', `after "English" <html lang> should be "en" (at ${page.url()})`);
    s.assertClean();
  });

  it('a page that does not exist answers 404 with a German page that keeps the navigation', { timeout: 60_000 }, async () => {
    const { page } = s;
    const res = await s.visit('/diese-seite-gibt-es-nicht', { allowStatus: (st) => st === 404 });
    assert.equal(res.status(), 404);
    assert.match(res.headers()['content-type'] || '', /text\/html/, 'the 404 should be an HTML page');
    assert.equal(await page.locator('html').getAttribute('lang'), 'de', 'the 404 page should be German');
    assert.ok((await page.getByRole('navigation').count()) >= 1, 'the 404 page should keep the navigation');
    assert.ok((await page.getByRole('heading', { level: 1 }).count()) >= 1, 'the 404 page should have a heading');
    s.assertClean();
  });
});
