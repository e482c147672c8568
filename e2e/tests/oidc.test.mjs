// Single sign-on (issue 19): a person clicks the provider's button on konvent's sign-in
// page, signs in at panva's oidc-provider (e2e/oidc/provider.mjs), lands in konvent
// signed in with the roles from their groups claim, and signing out ends the provider
// session too. konvent's pages pass axe; the provider's development pages are not ours
// and are not checked by axe.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { freePort } from '../lib/server.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function startProvider(port, konvent) {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['oidc/provider.mjs'], {
      cwd: E2E_DIR,
      env: {
        ...process.env,
        OIDC_PORT: String(port),
        OIDC_REDIRECT_URI: `${konvent}/anmelden/oidc/land/zurueck`,
        OIDC_POST_LOGOUT_URI: `${konvent}/`,
        OIDC_BACKCHANNEL_URI: `${konvent}/oidc/land/backchannel-logout`,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('listening ')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`oidc-provider exited (${code}): ${out}`)));
  });
}

describe('signing in through an OpenID provider', () => {
  let server;
  let provider;
  let browser;

  serverAndBrowser(
    [],
    (sv, b) => {
      server = sv;
      browser = b;
    },
    {
      // The provider first, so that konvent finds it when it starts.
      server: async () => {
        const providerPort = await freePort();
        const port = await freePort();
        const baseURL = `http://127.0.0.1:${port}`;
        provider = await startProvider(providerPort, baseURL);
        return {
          port,
          env: {
            KONVENT_PUBLIC_URL: baseURL,
            KONVENT_OIDC_ID: 'land',
            KONVENT_OIDC_LABEL: 'Landesportal',
            KONVENT_OIDC_ISSUER: `http://127.0.0.1:${providerPort}`,
            KONVENT_OIDC_CLIENT_ID: 'konvent',
            KONVENT_OIDC_CLIENT_SECRET: 'konvent-test-secret',
            KONVENT_OIDC_SCOPES: 'openid email profile groups',
            KONVENT_OIDC_ROLE_CLAIM: 'groups',
            KONVENT_OIDC_ROLES: 'konvent-admin=admin',
          },
        };
      },
      cleanup: () => provider?.kill('SIGTERM'),
    },
  );

  it('the provider button comes first, the person lands signed in as admin, and signing out ends the provider session', { timeout: 120_000 }, async () => {
    const s = await openSession(browser, server);
    const { page } = s;
    await s.visit('/anmelden');
    const button = page.getByRole('link', { name: 'Anmelden mit Landesportal' });
    await button.waitFor();
    const buttonTop = (await button.boundingBox()).y;
    const passwordTop = (await page.getByLabel('Passwort').boundingBox()).y;
    assert.ok(buttonTop < passwordTop, 'the provider comes before the local sign-in');

    // At the provider (its own pages: no axe).
    await Promise.all([page.waitForURL(/\/interaction\//), button.click()]);
    await page.locator('input[name="login"]').fill('anna');
    await page.locator('input[name="password"]').fill('irgendwas');
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(server.baseURL) && !url.pathname.startsWith('/anmelden')),
      page.locator('button[type="submit"]').click(),
    ]);

    // Back in konvent, signed in with the admin role from the groups claim.
    await s.visit('/admin/konten');
    assert.ok(await page.getByRole('button', { name: 'Abmelden' }).count(), 'signed in');
    await s.visit('/admin/anmeldung');
    assert.ok(await page.getByLabel('Lokale Passwörter').count(), 'the admin switch');

    // Signing out goes through the provider's end-session page and back.
    await Promise.all([page.waitForURL(/\/session\/end/), page.getByRole('button', { name: 'Abmelden' }).click()]);
    await Promise.all([
      page.waitForURL((url) => url.href === `${server.baseURL}/`),
      page.getByRole('button', { name: /Yes, sign me out/ }).click(),
    ]);
    const response = await s.visit('/admin/konten', { allowStatus: () => true });
    assert.ok(
      response.status() === 401 || page.url().includes('/anmelden'),
      `signed out: ${response.status()} at ${page.url()}`,
    );
    await s.close();
  });

  it('a back-channel logout from the provider closes a live page of the ended session', { timeout: 120_000 }, async () => {
    const a = await openSession(browser, server);
    const providerButton = () => a.page.getByRole('link', { name: 'Anmelden mit Landesportal' });
    const backInKonvent = (url) => url.href.startsWith(server.baseURL) && !url.pathname.startsWith('/anmelden');
    await a.visit('/anmelden');
    await Promise.all([a.page.waitForURL(/\/interaction\//), providerButton().click()]);
    await a.page.locator('input[name="login"]').fill('anna');
    await a.page.locator('input[name="password"]').fill('irgendwas');
    await Promise.all([a.page.waitForURL(backInKonvent), a.page.locator('button[type="submit"]').click()]);

    // This konvent session goes on in another window (as on a second device), whose
    // lobby holds a live connection.
    const first = (await a.page.context().cookies()).find((c) => c.name === 'konvent_session');
    assert.ok(first, 'a konvent session after the sign-in');
    const b = await openSession(browser, server);
    await b.page.context().addCookies([first]);
    await b.visit('/konvent/strategiekonvent-2025');
    await b.page.locator('#live-status').filter({ hasText: /^Live verbunden\./ }).waitFor();
    assert.ok(await b.page.getByRole('button', { name: 'Abmelden' }).count(), 'signed in');

    // A second sign-in in the first window reuses the provider session; signing out
    // there ends it, and the provider's back channel ends the first konvent session:
    // the other window's live connection closes and its page reloads signed out.
    // (Signed in, the sign-in page offers to link instead: start at the provider's path.)
    await a.page.goto(`${server.baseURL}/anmelden/oidc/land`);
    await a.page.waitForURL(backInKonvent);
    const reloaded = b.page.waitForEvent('load', { timeout: 30_000 });
    await Promise.all([a.page.waitForURL(/\/session\/end/), a.page.getByRole('button', { name: 'Abmelden' }).click()]);
    await Promise.all([
      a.page.waitForURL((url) => url.href === `${server.baseURL}/`),
      a.page.getByRole('button', { name: /Yes, sign me out/ }).click(),
    ]);
    await reloaded;
    await b.page.getByRole('link', { name: 'Anmelden' }).first().waitFor();
    assert.equal(await b.page.getByRole('button', { name: 'Abmelden' }).count(), 0, 'the other window is signed out');
    await a.close();
    await b.close();
  });
});
