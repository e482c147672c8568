// Starts the real konvent binary for one test file:
//   KONVENT_BIN serve --demo --bind 127.0.0.1:PORT --data TMPDIR
// with embedded SQLite (DATABASE_URL removed from the child's environment), waits
// for the printed sign-in link of the demo admin and for GET /healthz = 200, and
// stops it again (SIGTERM, SIGKILL after 5 s) and removes the data folder.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const SIGN_IN_LINK = /https?:\/\/\S+\/anmelden\/link\/[A-Za-z0-9_-]+/;

/** Absolute path of the konvent binary: env KONVENT_BIN, else ../target/debug/konvent. */
export function konventBin() {
  return path.resolve(E2E_DIR, process.env.KONVENT_BIN || '../target/debug/konvent');
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a konvent demo server. Resolves to
 * { baseURL, port, signInLink, dataDir, output(), stop() }.
 * `env` adds variables to its environment; `port` picks its port (else a free one).
 */
export async function startServer({ env: extraEnv = {}, port: chosenPort } = {}) {
  const bin = konventBin();
  if (!existsSync(bin)) {
    throw new Error(`konvent binary not found at ${bin} (set KONVENT_BIN or build it with cargo build)`);
  }
  const port = chosenPort ?? (await freePort());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'konvent-e2e-'));
  const baseURL = `http://127.0.0.1:${port}`;

  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.KONVENT_BIND;
  delete env.KONVENT_DATA;
  delete env.NATS_URL;
  Object.assign(env, extraEnv);

  const args = ['serve', '--demo', '--bind', `127.0.0.1:${port}`, '--data', dataDir];
  const child = spawn(bin, args, { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });

  let stdout = '';
  let stderr = '';
  let exited = null; // { code, signal } once the process has ended
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  let spawnError = null;
  child.on('error', (err) => {
    spawnError = err;
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });

  const output = () =>
    `command: ${bin} ${args.join(' ')}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (!exited && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = sleep(STOP_GRACE_MS).then(() => 'timeout');
      if ((await Promise.race([exitPromise, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exitPromise;
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  const deadline = Date.now() + START_TIMEOUT_MS;
  let signInLink = null;
  let healthy = false;
  let lastHealth = 'not asked yet';
  try {
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`could not start konvent: ${spawnError.message}`);
      if (exited) {
        throw new Error(`konvent exited early (code ${exited.code}, signal ${exited.signal})`);
      }
      if (!signInLink) {
        const m = stdout.match(SIGN_IN_LINK);
        if (m) signInLink = m[0];
      }
      if (!healthy) {
        try {
          const res = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(2_000) });
          lastHealth = `HTTP ${res.status}`;
          await res.arrayBuffer();
          healthy = res.status === 200;
        } catch (err) {
          lastHealth = String(err.cause?.code || err.message);
        }
      }
      if (signInLink && healthy) {
        return { baseURL, port, signInLink, dataDir, output, stop };
      }
      await sleep(200);
    }
    throw new Error(
      `konvent not ready after ${START_TIMEOUT_MS / 1000} s: ` +
        `sign-in link ${signInLink ? 'seen' : 'NOT printed on stdout'}, ` +
        `GET /healthz: ${lastHealth}`,
    );
  } catch (err) {
    await stop();
    err.message += `\n${output()}`;
    throw err;
  }
}
