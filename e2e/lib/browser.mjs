// Headless Debian Chromium through playwright-core, with three guards on every page:
// - every request must go to 127.0.0.1 (no third-party hosts),
// - no console error and no page error (CSP violations are console errors),
// - every page visited passes axe-core's WCAG 2.1 A/AA rules and the IBM Equal Access
//   checker (accessibility-checker-engine, policy IBM_Accessibility) without a result of
//   level "violation" (KONVENT_E2E_IBM=0 turns the second engine off; see ibm() below).
//
// The app's Content-Security-Policy stays ENFORCED (no bypassCSP): that is what lets
// a CSP violation of the app's own markup show up as a console error. axe-core is
// therefore not added as an inline <script> tag (CSP would block it) but evaluated
// through the DevTools protocol (page.evaluate), which CSP does not govern; the same
// for the IBM engine (ace.js).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const ALLOWED_HOST = '127.0.0.1';
const ACE_SOURCE = readFileSync(require.resolve('accessibility-checker-engine/ace.js'), 'utf8');
const ACE_POLICY = 'IBM_Accessibility';
const ACE_ENABLED = process.env.KONVENT_E2E_IBM !== '0';
/**
 * IBM rules left out, each with the reason it does not apply (a rule is only ever left
 * out because it reports something that is not a barrier in konvent's pages).
 */
const ACE_EXCLUDED_RULES = new Map([]);
/**
 * IBM rules that treat every <form> as a form landmark. HTML-AAM maps a <form> to the
 * role "form" only when it has an accessible name; an unnamed one (a button wrapped in
 * a form, e.g. "Abmelden" or "Sperren" in a table row) is no landmark for Chromium or
 * for axe (landmark-unique). Their results on a <form> without aria-label,
 * aria-labelledby or title are therefore dropped; a named form still has to be unique.
 */
const ACE_NAMED_FORM_RULES = ['aria_form_label_unique', 'aria_landmark_name_unique'];
/**
 * element_tabbable_role_valid accepts a tab stop without a widget role only while the
 * element overflows at the moment of the check. A region that scrolls once it fills
 * (overflow auto/scroll, e.g. the chat log, which grows live) needs its tab stop from
 * the start so that keyboard users can scroll it (WCAG 2.1.1; axe's
 * scrollable-region-focusable asks for exactly that); its results are dropped.
 */
const ACE_SCROLLER_RULES = ['element_tabbable_role_valid'];

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * A fresh context + page bound to one server, with the guards installed.
 * Returns a session: { page, context, visit, load, axe, ibm, problems, assertClean, close }.
 *
 * Options: `contextOptions` are passed on to browser.newContext (e.g.
 * `{ javaScriptEnabled: false }`); `context` opens the page in an existing context
 * instead (another tab of the same person; close() then closes only that page).
 */
export async function openSession(browser, server, { contextOptions = {}, context: shared } = {}) {
  const context =
    shared ??
    (await browser.newContext({
      baseURL: server.baseURL,
      locale: 'de-DE',
      timezoneId: 'Europe/Berlin',
      viewport: { width: 1280, height: 900 },
      ...contextOptions,
    }));
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(20_000);

  const problems = [];
  page.on('request', (req) => {
    const url = req.url();
    let u;
    try {
      u = new URL(url);
    } catch {
      problems.push({ text: `request to an unparsable URL: ${url}` });
      return;
    }
    if (['data:', 'blob:', 'about:'].includes(u.protocol)) return;
    if (u.hostname !== ALLOWED_HOST) {
      problems.push({ text: `request to a host other than ${ALLOWED_HOST}: ${req.method()} ${url}` });
    }
  });
  // WebSockets are not "requests" to Playwright: guard their hosts too.
  page.on('websocket', (ws) => {
    let host;
    try {
      host = new URL(ws.url()).hostname;
    } catch {
      host = null;
    }
    if (host !== ALLOWED_HOST) {
      problems.push({ text: `WebSocket to a host other than ${ALLOWED_HOST}: ${ws.url()}` });
    }
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      const text = `console error on ${page.url()}: ${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`;
      problems.push({ text, consoleText: msg.text(), resourceUrl: loc?.url });
    } else if (/Content.Security.Policy/i.test(msg.text())) {
      problems.push({ text: `CSP message on ${page.url()}: ${msg.text()}` });
    }
  });
  page.on('pageerror', (err) => {
    problems.push({ text: `uncaught page error on ${page.url()}: ${err.message}` });
  });

  /** Fails (and clears the list) if any guard tripped so far. */
  function assertClean(where = page.url()) {
    if (problems.length > 0) {
      const list = problems.splice(0);
      assert.fail(`browser problems (at ${where}):\n  - ${list.map((p) => p.text).join('\n  - ')}`);
    }
  }

  /**
   * Runs axe-core on the current document, then (unless KONVENT_E2E_IBM=0) IBM's engine
   * (ibm()); fails listing each violation.
   */
  async function axe() {
    await page.waitForLoadState('load');
    const hasAxe = await page.evaluate(() => typeof window.axe === 'object');
    if (!hasAxe) await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(
      (tags) =>
        window.axe
          .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
          .then((r) =>
            r.violations.map((v) => ({
              id: v.id,
              impact: v.impact,
              help: v.help,
              targets: v.nodes.map((n) => n.target.join(' ')),
            })),
          ),
      AXE_TAGS,
    );
    if (violations.length > 0) {
      const lines = violations.map(
        (v) => `${v.id} (${v.impact}): ${v.help}\n      at ${v.targets.join('\n      at ')}`,
      );
      assert.fail(`axe found ${violations.length} WCAG 2.1 AA violation(s) on ${page.url()}:\n  - ${lines.join('\n  - ')}`);
    }
    if (ACE_ENABLED) await ibm();
  }

  /**
   * Runs IBM's Equal Access engine on the current document (policy IBM_Accessibility);
   * fails listing each result of level "violation". Results of level "potential
   * violation", "recommendation" or "manual check" are not failures: they ask a person
   * to look, and axe covers what can be decided automatically.
   */
  async function ibm() {
    const hasAce = await page.evaluate(() => typeof window.ace === 'object');
    if (!hasAce) await page.evaluate(ACE_SOURCE);
    const violations = await page.evaluate(
      async ([policy, excluded, namedFormRules, scrollerRules]) => {
        const report = await new window.ace.Checker().check(document, [policy]);
        const unnamedForm = (xpath) => {
          const el = xpath
            ? document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue
            : null;
          return (
            el?.tagName === 'FORM' &&
            !el.hasAttribute('aria-label') &&
            !el.hasAttribute('aria-labelledby') &&
            !el.hasAttribute('title')
          );
        };
        const scroller = (xpath) => {
          const el = xpath
            ? document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue
            : null;
          if (!el) return false;
          const cs = getComputedStyle(el);
          return ['auto', 'scroll'].includes(cs.overflowY) || ['auto', 'scroll'].includes(cs.overflowX);
        };
        return report.results
          .filter((r) => (r.level ?? '') === 'violation' || (r.value?.[0] === 'VIOLATION' && r.value?.[1] === 'FAIL'))
          .filter((r) => !excluded.includes(r.ruleId))
          .filter((r) => !(namedFormRules.includes(r.ruleId) && unnamedForm(r.path?.dom)))
          .filter((r) => !(scrollerRules.includes(r.ruleId) && scroller(r.path?.dom)))
          .map((r) => ({ id: r.ruleId, message: r.message, path: r.path?.dom, snippet: r.snippet }));
      },
      [ACE_POLICY, [...ACE_EXCLUDED_RULES.keys()], ACE_NAMED_FORM_RULES, ACE_SCROLLER_RULES],
    );
    if (violations.length > 0) {
      const lines = violations.map((v) => `${v.id}: ${v.message}\n      at ${v.path}\n      ${v.snippet}`);
      assert.fail(`IBM Equal Access found ${violations.length} violation(s) on ${page.url()}:\n  - ${lines.join('\n  - ')}`);
    }
  }

  /** Checks a response that led to the current page, then axe and the guards. */
  async function checkPage(response, { allowStatus } = {}) {
    assert.ok(response, `no response for ${page.url()}`);
    const status = response.status();
    if (allowStatus) {
      assert.ok(allowStatus(status), `unexpected HTTP ${status} for ${response.url()}`);
    } else {
      assert.ok(status < 400, `HTTP ${status} for ${response.url()}`);
    }
    await axe();
    if (status >= 400) {
      // Chromium logs the expected error status of the document itself as a console
      // error ("Failed to load resource: ... status of 404"); that one was asked for.
      const expected = `Failed to load resource: the server responded with a status of ${status}`;
      for (let i = problems.length - 1; i >= 0; i--) {
        const p = problems[i];
        if (p.consoleText?.startsWith(expected) && p.resourceUrl === response.url()) problems.splice(i, 1);
      }
    }
    assertClean();
    return response;
  }

  /**
   * Navigates to path (relative to the server or absolute), asserts status < 400
   * (or allowStatus(status)), runs axe and the guards. Returns the response.
   */
  async function visit(target, opts = {}) {
    const response = await page.goto(target, { waitUntil: 'load' });
    return checkPage(response, opts);
  }

  /**
   * Performs an action that navigates (a click on a link or a submit button) and
   * checks the page it lands on like visit(). Returns the final response.
   */
  async function load(action, opts = {}) {
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
    return checkPage(response, opts);
  }

  async function close() {
    if (shared) await page.close();
    else await context.close();
  }

  return { page, context, visit, load, axe, ibm, problems, assertClean, close };
}

/**
 * Selects the single option of a <select> whose visible text satisfies match
 * (a string = exact after trimming, or a RegExp/function). On failure the error lists
 * the options that were there.
 */
export async function selectOptionByText(select, match, description = String(match)) {
  const options = await select.locator('option').evaluateAll((els) =>
    els.map((o) => ({ value: o.value, text: (o.textContent || '').replace(/\s+/g, ' ').trim() })),
  );
  const test =
    typeof match === 'string'
      ? (t) => t === match
      : match instanceof RegExp
        ? (t) => match.test(t)
        : match;
  const hits = options.filter((o) => test(o.text));
  assert.equal(
    hits.length,
    1,
    `expected exactly one option ${description}; options were:\n  ${options.map((o) => JSON.stringify(o.text)).join('\n  ')}`,
  );
  await select.selectOption(hits[0].value);
  return hits[0];
}

/**
 * The form control labelled exactly `label`. A required field's label carries the
 * visible marker " (Pflichtfeld)" after its name (e.g. "Name (Pflichtfeld)"); that
 * suffix, and only that one, is accepted too.
 */
export function field(page, label) {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByLabel(new RegExp(`^${escaped}( \\((Pflichtfeld|required)\\))?$`));
}
