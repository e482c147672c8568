// What every test file's suite needs around its tests: one demo server (embedded
// database, fresh data folder) and one headless Chromium, started before the first test
// and stopped after the last, with every session the tests opened.

import { after, before } from 'node:test';
import { launchBrowser } from './browser.mjs';
import { startServer } from './server.mjs';

/**
 * Registers the suite's before/after hooks. `ready(server, browser)` receives both once
 * they run; the sessions pushed onto `sessions` are closed afterwards.
 */
export function serverAndBrowser(sessions, ready) {
  let server;
  let browser;
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ready(server, browser);
  });
  after(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });
}
