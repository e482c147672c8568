// Participants of an event for browser tests: session tokens from
// `konvent admin load-test-sessions` against the running server's data folder, and a
// browser session signed in with one of them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { openSession } from './browser.mjs';
import { konventBin } from './server.mjs';

/** `count` new participants of the event `slug`: their session tokens. */
export function participantTokens(server, slug, count) {
  const out = execFileSync(
    konventBin(),
    ['admin', 'load-test-sessions', '--data', server.dataDir, '--event', slug, '--count', String(count)],
    { env: { ...process.env, DATABASE_URL: '', RUST_LOG: 'warn' } },
  ).toString();
  const tokens = out.split('\n').map((l) => l.trim()).filter(Boolean);
  assert.equal(tokens.length, count, out);
  return tokens;
}

/** A browser session (its own context) signed in with a participant's token. */
export async function asParticipant(browser, server, token) {
  const s = await openSession(browser, server);
  await s.context.addCookies([
    { name: 'konvent_session', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
  ]);
  return s;
}
