// Accessibility beyond the automatic engines (issue 21): a keyboard-only walk of the lobby,
// a room, the café and the map's list (visible focus, logical order, skip link, no trap),
// `prefers-reduced-motion: reduce` honoured, and reflow at 320 CSS px (200 % zoom of a
// 640 px window; WCAG 1.4.10) on the main pages. axe and IBM run on every page visited.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { asParticipant, participantTokens } from '../lib/participants.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const SLUG = 'strategiekonvent-2025';
const EVENT = `/konvent/${SLUG}`;
const PLENUM = `${EVENT}/raeume/plenum`;
const CAFE = `${EVENT}/cafe`;
const MAP = `${EVENT}/karte`;
const MAIN_PAGES = ['/', '/gremien', '/strategie', '/barrierefreiheit', EVENT, PLENUM, CAFE, MAP];

/** What the focused element is, and whether its focus can be seen. */
function focusInfo(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { none: true };
    // The focus ring is on the element, or on a close ancestor that shows it with
    // :focus-within (a destination card around its link).
    let outline = false;
    let shadow = false;
    for (let n = el, up = 0; n && up < 3 && !(outline || shadow); n = n.parentElement, up++) {
      if (n !== el && !n.matches(':focus-within')) break;
      const cs = getComputedStyle(n);
      outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
      shadow = Boolean(cs.boxShadow && cs.boxShadow !== 'none');
    }
    const r = el.getBoundingClientRect();
    if (!el.dataset.walk) el.dataset.walk = String(Math.random()).slice(2);
    return {
      key: el.dataset.walk,
      tag: el.tagName,
      id: el.id,
      name: (el.getAttribute('aria-label') || el.innerText || el.value || el.getAttribute('href') || '').replace(/\s+/g, ' ').trim().slice(0, 60),
      visible: outline || shadow,
      size: r.width > 0 && r.height > 0,
      tabindex: el.getAttribute('tabindex'),
    };
  });
}

/**
 * Walks the whole page with Tab from the top until the focus comes back to where it
 * started (or leaves the document): every focused element shows its focus, follows the
 * one before in document order (no positive tabindex), and the walk ends (no trap).
 * Returns the list of focused elements.
 */
async function walkPage(page, where) {
  // Start at the skip link, the first element of every page.
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    document.querySelector('a[href="#inhalt"]')?.focus();
  });
  const start = await focusInfo(page);
  assert.equal(start.name, 'Zum Inhalt springen', `${where}: the skip link is the first element`);
  const seen = [start];
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press('Tab');
    const f = await focusInfo(page);
    if (f.none) break;
    if (seen[0].key === f.key) break;
    assert.ok(!seen.some((s) => s.key === f.key), `${where}: the focus came back to ${f.tag} "${f.name}" before the end (a loop or trap) after ${seen.length} steps`);
    assert.ok(f.visible, `${where}: ${f.tag} "${f.name}" has no visible focus (outline or box-shadow)`);
    assert.ok(f.size, `${where}: ${f.tag} "${f.name}" is focused but has no size (invisible)`);
    assert.ok(f.tabindex === null || Number(f.tabindex) <= 0, `${where}: ${f.tag} "${f.name}" has a positive tabindex`);
    if (seen.length > 0) {
      const inOrder = await page.evaluate(
        ([a, b]) => {
          const x = document.querySelector(`[data-walk="${a}"]`);
          const y = document.querySelector(`[data-walk="${b}"]`);
          return !x || !y || Boolean(x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING);
        },
        [seen.at(-1).key, f.key],
      );
      assert.ok(inOrder, `${where}: ${f.tag} "${f.name}" comes before ${seen.at(-1).tag} "${seen.at(-1).name}" in the page but after it in the Tab order`);
    }
    seen.push(f);
  }
  assert.ok(seen.length > 3, `${where}: Tab reached only ${seen.length} element(s)`);
  // Shift+Tab goes back the same way.
  await page.evaluate((key) => document.querySelector(`[data-walk="${key}"]`)?.focus(), seen.at(-1).key);
  await page.keyboard.press('Shift+Tab');
  const back = await focusInfo(page);
  assert.equal(back.key, seen.at(-2).key, `${where}: Shift+Tab from "${seen.at(-1).name}" should go back to "${seen.at(-2).name}", went to "${back.name}"`);
  return seen;
}

/** Presses Tab from the top until the focus is on an element matching `selector`. */
async function tabTo(page, selector, where) {
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
  }
  assert.fail(`${where}: Tab never reached ${selector}`);
}

/** The first Tab focuses the skip link; Enter on it moves the focus into the main content. */
async function skipLink(page, where) {
  await page.evaluate(() => {
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  await page.keyboard.press('Tab');
  const first = await focusInfo(page);
  assert.equal(first.name, 'Zum Inhalt springen', `${where}: the first Tab should focus the skip link, focused ${JSON.stringify(first)}`);
  await page.keyboard.press('Enter');
  const target = await page.evaluate(() => ({ id: document.activeElement?.id, inMain: Boolean(document.activeElement?.closest('main')) }));
  assert.ok(target.id === 'inhalt' || target.inMain, `${where}: the skip link should move the focus to the main content, it is on ${JSON.stringify(target)}`);
  await page.keyboard.press('Tab');
  const next = await page.evaluate(() => Boolean(document.activeElement?.closest('main')));
  assert.ok(next, `${where}: the Tab after the skip link should land in the main content`);
}

describe('keyboard, reduced motion and reflow', () => {
  const sessions = [];
  let server;
  let browser;
  serverAndBrowser(sessions, (s, b) => {
    server = s;
    browser = b;
  });

  it('a participant walks the lobby, a room (chat line, raised hand), the café and the map list with the keyboard alone', { timeout: 300_000 }, async () => {
    const [token] = participantTokens(server, SLUG, 1);
    const p = await asParticipant(browser, server, token);
    sessions.push(p);
    const { page } = p;

    await p.visit(EVENT);
    await skipLink(page, 'lobby');
    await walkPage(page, 'lobby');

    // Into the plenum by keyboard: its link, Enter.
    await tabTo(page, `a[href$="/raeume/plenum"]`, 'lobby');
    await p.load(() => page.keyboard.press('Enter'));
    assert.ok(page.url().endsWith('/raeume/plenum'), page.url());
    await skipLink(page, 'room');
    await walkPage(page, 'room');

    // A chat line: Tab to the message field, type, Enter.
    const line = 'Mit der Tastatur allein geschrieben';
    await tabTo(page, '#chat-text', 'room');
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
    await page.locator('#chat-log', { hasText: line }).waitFor();
    // A raised hand: Tab to the button, Space.
    await tabTo(page, 'button', 'room'); // the first button, then on to "Hand heben"
    const hand = page.getByRole('button', { name: 'Hand heben' });
    await hand.waitFor();
    for (let i = 0; i < 400 && !(await hand.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await hand.evaluate((el) => el === document.activeElement), 'Tab reaches "Hand heben"');
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Hand senken' }).waitFor();
    await p.axe();

    await p.visit(CAFE);
    await skipLink(page, 'café');
    await walkPage(page, 'café');

    await p.visit(MAP);
    await skipLink(page, 'map');
    await walkPage(page, 'map');
    // The list equivalent of the map: a place's "Hierhin gehen" by Tab and Enter.
    await tabTo(page, 'form[data-goto] button', 'map');
    await page.keyboard.press('Enter');
    await page.locator('#map-room-h', { hasText: 'Sie sind jetzt in:' }).waitFor();
    p.assertClean();
  });

  it('with prefers-reduced-motion: reduce, nothing on the main pages moves (no animation, no transition)', { timeout: 180_000 }, async () => {
    const [token] = participantTokens(server, SLUG, 1);
    const p = await asParticipant(browser, server, token);
    sessions.push(p);
    await p.page.emulateMedia({ reducedMotion: 'reduce' });
    const failures = [];
    for (const path of MAIN_PAGES) {
      await p.visit(path);
      const moving = await p.page.evaluate(() => {
        const secs = (v) => Math.max(...v.split(',').map((x) => parseFloat(x) * (x.trim().endsWith('ms') ? 0.001 : 1)));
        const out = [];
        if (getComputedStyle(document.documentElement).scrollBehavior === 'smooth') out.push('html: scroll-behavior smooth');
        for (const el of document.querySelectorAll('*')) {
          for (const pseudo of [null, '::before', '::after']) {
            const cs = getComputedStyle(el, pseudo);
            if (cs.animationName !== 'none' && secs(cs.animationDuration) > 0.01) out.push(`${el.tagName}.${el.className}${pseudo ?? ''}: animation ${cs.animationName}`);
            if (cs.transitionProperty !== 'none' && secs(cs.transitionDuration) > 0.01) out.push(`${el.tagName}.${el.className}${pseudo ?? ''}: transition ${cs.transitionProperty} ${cs.transitionDuration}`);
          }
        }
        return out;
      });
      if (moving.length) failures.push(`${path}: ${moving.slice(0, 5).join('; ')}`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  it('at 320 CSS px wide (200 % zoom) the main pages reflow: no horizontal scrolling, nothing cut off', { timeout: 180_000 }, async () => {
    const [token] = participantTokens(server, SLUG, 1);
    const p = await asParticipant(browser, server, token);
    sessions.push(p);
    await p.page.setViewportSize({ width: 320, height: 640 });
    const failures = [];
    for (const path of MAIN_PAGES) {
      await p.visit(path);
      const r = await p.page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const cut = [];
        const wide = [];
        for (const el of document.body.querySelectorAll('*')) {
          const cs = getComputedStyle(el);
          if (cs.display === 'none' || cs.visibility === 'hidden' || el.closest('.visually-hidden')) continue;
          // The drawn map needs its two dimensions (a 1.4.10 exception); the list of
          // places beside it is what reflows.
          if (el.closest('.map-box')) continue;
          // Inside a region that scrolls by itself (a data table, the map) is allowed (1.4.10 exception).
          let scroller = el.parentElement;
          let inScroller = false;
          for (; scroller && scroller !== document.body; scroller = scroller.parentElement) {
            const ox = getComputedStyle(scroller).overflowX;
            if (ox === 'auto' || ox === 'scroll') {
              inScroller = true;
              break;
            }
          }
          if (inScroller) continue;
          const rect = el.getBoundingClientRect();
          if (rect.width > 0 && rect.right > width + 2) wide.push(`${el.tagName}.${el.className} (right ${Math.round(rect.right)})`);
          if ((cs.overflowX === 'hidden' || cs.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 2 && el.innerText?.trim()) {
            cut.push(`${el.tagName}.${el.className} (${el.scrollWidth} > ${el.clientWidth})`);
          }
        }
        return { scrollWidth: document.documentElement.scrollWidth, width, cut: cut.slice(0, 5), wide: wide.slice(0, 5) };
      });
      if (r.scrollWidth > 320 + 2) failures.push(`${path}: the page scrolls sideways (scrollWidth ${r.scrollWidth}); too wide: ${r.wide.join(', ')}`);
      else if (r.wide.length) failures.push(`${path}: reaching past the right edge: ${r.wide.join(', ')}`);
      if (r.cut.length) failures.push(`${path}: cut off: ${r.cut.join(', ')}`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });
});
