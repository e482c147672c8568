// What every test file's suite needs around its tests: one demo server (embedded
// database, fresh data folder) and one headless Chromium, started before the first test
// and stopped after the last, with every session the tests opened.

import { after, before } from 'node:test';
import { launchBrowser } from './browser.mjs';
import { startServer } from './server.mjs';

/**
 * Registers the suite's before/after hooks. `ready(server, browser)` receives both once
 * they run (it may be async: a session it opens and pushes onto `sessions` is ready
 * before the first test); the sessions pushed onto `sessions` are closed afterwards.
 *
 * Options:
 * - `server`: the options for `startServer` (port, env), or an async function that
 *   returns them, for a suite that must start a peer first (the OpenID provider);
 * - `cleanup`: called after the sessions and the browser are closed and before the
 *   server stops, for what the suite started itself (a relay, a provider).
 */
export function serverAndBrowser(sessions, ready, { server: serverOptions, cleanup } = {}) {
  let server;
  let browser;
  before(async () => {
    const options = typeof serverOptions === 'function' ? await serverOptions() : serverOptions;
    server = await startServer(options);
    browser = await launchBrowser();
    await ready(server, browser);
  });
  after(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    await browser?.close().catch(() => {});
    await cleanup?.();
    await server?.stop();
  });
}
