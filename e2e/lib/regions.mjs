// The property every live region keeps (issue 15, docs/live-protocol.md "Fragments"):
// after a live change, the region's DOM equals the same region after a reload.
//
// A region is compared as a normalised tree: element names, attributes sorted by name
// (an input's current value instead of its attribute; `data-mine` and the live status
// left out, as they belong to the page, not to a region), text with its whitespace
// collapsed, and the ticking clock of a timer left out.

import assert from 'node:assert/strict';

/** The normalised tree of the first element matching `selector`, or null. */
export function regionSnapshot(page, selector) {
  return page.evaluate((sel) => {
    const SKIP_ATTRS = new Set(['data-mine', 'value', 'style']);
    function norm(node) {
      if (node.nodeType === Node.TEXT_NODE) {
        const text = node.textContent.replace(/\s+/g, ' ').trim();
        return text ? text : null;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) return null;
      if (node.id === 'live-status') return null;
      const attrs = {};
      for (const a of Array.from(node.attributes).sort((x, y) => x.name.localeCompare(y.name))) {
        if (SKIP_ATTRS.has(a.name)) continue;
        attrs[a.name] = a.name === 'hidden' ? true : a.value;
      }
      if (node.tagName === 'INPUT' || node.tagName === 'TEXTAREA' || node.tagName === 'SELECT') {
        attrs['(value)'] = node.type === 'hidden' && node.name === 'csrf' ? '(token)' : node.value;
      }
      const ticking = node.classList.contains('timer-clock');
      const children = ticking
        ? []
        : Array.from(node.childNodes).map(norm).filter((c) => c !== null);
      return { tag: node.tagName.toLowerCase(), attrs, children };
    }
    const el = document.querySelector(sel);
    return el ? norm(el) : null;
  }, selector);
}

/** Waits until the page's live connection is up and its replay done. */
export async function waitLive(page) {
  await page.waitForFunction(() => {
    const s = document.getElementById('live-status');
    return s && /Live/.test(s.textContent);
  });
}

/**
 * Asserts that each region (a CSS selector) of `page` equals the same region of a fresh
 * load of the page's address in a new tab of the same person (same browser context).
 */
export async function assertRegionsEqualReload(page, selectors, label = '') {
  const fresh = await page.context().newPage();
  try {
    await fresh.goto(page.url());
    await waitLive(fresh);
    for (const selector of [].concat(selectors)) {
      const live = await regionSnapshot(page, selector);
      const reloaded = await regionSnapshot(fresh, selector);
      assert.ok(reloaded !== null, `${label} ${selector}: not on the reloaded page ${page.url()}`);
      assert.deepEqual(
        live,
        reloaded,
        `${label} ${selector} on ${page.url()}: the live page differs from its reload`,
      );
    }
  } finally {
    await fresh.close();
  }
}
