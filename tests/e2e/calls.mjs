// SPDX-License-Identifier: BSD-2-Clause
//
// calls.mjs: end-to-end tests of the turnpike web client (www/) in
// Debian's headless Chromium, driven by playwright-core, against real
// turnpiked daemons that tests/integration/test_e2e.py started.
//
// Each page is a browser context of its own, with Chromium's fake camera
// and microphone.  The tests: two pages see each other, then a
// third joins; chat, a leave and a rejoin; mute and a dropped WebSocket
// that comes back; an ICE restart; screen sharing; a page without camera
// and microphone that joins to watch and listen; a relay-only call
// through the daemon's TURN; the messages for a missing token, a full
// room and an unreachable server.  No page may log a console error.
// Screenshots of the start screen and of the grid with two and three
// people go to the artifacts directory.
//
// Environment:
//   TP_E2E_URL            a daemon with signaling.ice_transport_policy "all"
//   TP_E2E_RELAY_URL      a daemon with "relay" (the relay test is skipped
//                         without it)
//   TP_E2E_GUARDED_URL    a daemon with signaling.token_secret set and
//                         max_peers_per_room = 2; TP_E2E_TOKEN is a join
//                         token for room TP_E2E_TOKEN_ROOM (the join error
//                         test is skipped without them)
//   TP_E2E_ARTIFACTS      where screenshots go (default: ./artifacts)
//   TP_E2E_PLAYWRIGHT     path of playwright-core's index.mjs (default:
//                         the package next to this file)
//   TP_E2E_CHROMIUM       the browser (default /usr/bin/chromium)
//   TP_E2E_ONLY           run only tests whose name contains this
//
// Output: one line per test, then "N passed, N failed"; exit status 0
// when all passed.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const URL_ALL = process.env.TP_E2E_URL;
const URL_RELAY = process.env.TP_E2E_RELAY_URL || '';
const URL_GUARDED = process.env.TP_E2E_GUARDED_URL || '';
const TOKEN = process.env.TP_E2E_TOKEN || '';
const TOKEN_ROOM = process.env.TP_E2E_TOKEN_ROOM || '';
const ARTIFACTS = process.env.TP_E2E_ARTIFACTS || path.join(HERE, 'artifacts');
const CHROMIUM = process.env.TP_E2E_CHROMIUM || '/usr/bin/chromium';
const ONLY = process.env.TP_E2E_ONLY || '';
const SCALE = Number(process.env.TP_TIMEOUT_SCALE || '1');

// Chromium's switches (shared/INTEROP.md).  playwright-core adds
// --headless, --no-sandbox, a fresh --user-data-dir, --no-first-run,
// --disable-background-networking, --disable-component-update and
// --disable-sync itself: not repeated here.
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--auto-select-desktop-capture-source=Entire screen',
];

const VIEWPORT = { width: 1280, height: 720 };
const T = (ms) => Math.round(ms * SCALE);

const { chromium } = await import(process.env.TP_E2E_PLAYWRIGHT
  ? pathToFileURL(process.env.TP_E2E_PLAYWRIGHT).href
  : 'playwright-core');

let browser;
const consoleErrors = [];
const tests = [];

function test(name, fn) {
  tests.push({ name, fn });
}

function log(text) {
  process.stdout.write(`${text}\n`);
}

// A page in a fresh context, its console watched.  label names it in
// failure messages; init is a function run in the page before its own
// scripts.
async function openPage(label, url, { init } = {}) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  if (init)
    await context.addInitScript(init);
  const page = await context.newPage();
  page.label = label;
  page.on('console', (msg) => {
    if (msg.type() === 'error')
      consoleErrors.push(`${label}: console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${label}: page error: ${err.message}`));
  page.on('crash', () => consoleErrors.push(`${label}: page crashed`));
  await page.goto(url);
  return page;
}

// Open the start page for room, wait for the camera, type the name, join.
// muted: mute the microphone on the start screen first.
async function joinRoom(label, base, room, name, { screenshot, muted, query = '' } = {}) {
  const page = await openPage(label, `${base}${query}#${room}`);
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid=media-status]');
    return s && s.dataset.level === 'ok';
  }, null, { timeout: T(10000) });
  assert.equal(await page.inputValue('[data-testid=room-input]'), room, 'the room comes from the URL');
  await page.fill('[data-testid=name-input]', name);
  if (screenshot) {
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-testid=preview-video]');
      return v && v.videoWidth > 0;
    }, null, { timeout: T(5000) });
    await page.screenshot({ path: path.join(ARTIFACTS, screenshot), animations: 'disabled' });
  }
  if (muted) {
    await page.click('[data-testid=preview-mic]');
    assert.equal(await page.getAttribute('[data-testid=preview-mic]', 'aria-pressed'), 'true');
  }
  await page.click('[data-testid=join-button]');
  await page.waitForFunction(() => window.turnpike.state === 'in-call', null, { timeout: T(10000) });
  return page;
}

// Open the start page and try to join; the error shown on the start
// screen once the join has failed.
async function failJoin(label, base, room, { query = '', before } = {}) {
  const page = await openPage(label, `${base}${query}#${room}`);
  if (before) {
    // Routes such as routeWebSocket apply to documents loaded after
    // them (playwright-core 1.61): set them up, then load again.
    await before(page);
    await page.reload();
  }
  await page.waitForFunction(() => document.querySelector('[data-testid=media-status]').dataset.level === 'ok',
    null, { timeout: T(10000) });
  await page.fill('[data-testid=name-input]', label);
  await page.click('[data-testid=join-button]');
  const error = page.locator('[data-testid=start-error]');
  await error.waitFor({ state: 'visible', timeout: T(10000) });
  assert.equal(await page.evaluate(() => window.turnpike.state), 'idle');
  assert.equal(await page.locator('[data-testid=start-screen]').isVisible(), true);
  return { page, text: await error.textContent() };
}

// The remote videos of page, measured over 1 s: [{id, width, frames}].
function remoteVideos(page) {
  return page.evaluate(async () => {
    const sel = '[data-testid=tile]:not([data-self]) video';
    const before = new Map();
    for (const v of document.querySelectorAll(sel))
      before.set(v, v.getVideoPlaybackQuality().totalVideoFrames);
    await new Promise((r) => setTimeout(r, 1000));
    return [...document.querySelectorAll(sel)].map((v) => ({
      id: v.closest('[data-testid=tile]').dataset.peerId,
      width: v.videoWidth,
      frames: v.getVideoPlaybackQuality().totalVideoFrames - (before.get(v) ?? 0),
    }));
  });
}

// Wait until page shows exactly n remote videos, each decoding frames
// (more than 5 in a second); ids, when given, are the peers expected.
async function waitVideos(page, n, { ids = null, timeout = 20000 } = {}) {
  const deadline = Date.now() + T(timeout);
  let last = [];
  for (;;) {
    last = await remoteVideos(page);
    const ok = last.length === n && last.every((v) => v.width > 0 && v.frames > 5) &&
      (!ids || ids.every((id) => last.some((v) => v.id === id)));
    if (ok)
      return last;
    if (Date.now() > deadline)
      assert.fail(`${page.label}: expected ${n} playing remote videos` +
        `${ids ? ` from ${ids.join(', ')}` : ''}, got ${JSON.stringify(last)}`);
  }
}

async function selfId(page) {
  return page.evaluate(() => window.turnpike.id);
}

// The remote tile of peer id on page.
function tile(page, id) {
  return page.locator(`[data-testid=tile][data-peer-id="${id}"]:not([data-self])`);
}

// Remove the transient notices (for tidy screenshots).
async function clearNotices(page) {
  await page.evaluate(() => document.querySelectorAll('[data-testid=notice]').forEach((n) => n.remove()));
}

async function metric(base, name, labels) {
  const res = await fetch(new URL('/metrics', base));
  assert.equal(res.status, 200);
  const text = await res.text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`))
      continue;
    const m = line.match(/^[^{]+\{([^}]*)\}\s+(\S+)$/);
    if (m && m[1] === labels)
      return Number(m[2]);
  }
  assert.fail(`no ${name}{${labels}} in /metrics`);
}

async function closePages(...pages) {
  for (const p of pages)
    if (p)
      await p.context().close();
}

// The call of the first tests, shared by them in order.
const room = 'team-standup';
let ada, grace, alan;

test('two pages see each other, then a third joins and all see two', async () => {
  ada = await joinRoom('ada', URL_ALL, room, 'Ada', { screenshot: 'start.png' });
  grace = await joinRoom('grace', URL_ALL, room, 'Grace');
  const [adaId, graceId] = [await selfId(ada), await selfId(grace)];
  assert.ok(adaId && graceId && adaId !== graceId);
  await waitVideos(ada, 1, { ids: [graceId] });
  await waitVideos(grace, 1, { ids: [adaId] });
  assert.deepEqual((await ada.evaluate(() => window.turnpike.peers())).map((p) => p.name), ['Grace']);

  await grace.fill('[data-testid=chat-input]', 'Morning, Ada! Can you see me?');
  await grace.click('[data-testid=chat-send]');
  await ada.locator('[data-testid=chat-log] .msg').first().waitFor({ timeout: T(5000) });
  await clearNotices(ada);
  await ada.screenshot({ path: path.join(ARTIFACTS, 'grid-2.png'), animations: 'disabled' });

  alan = await joinRoom('alan', URL_ALL, room, 'Alan', { muted: true });
  const alanId = await selfId(alan);
  await Promise.all([
    waitVideos(ada, 2, { ids: [graceId, alanId] }),
    waitVideos(grace, 2, { ids: [adaId, alanId] }),
    waitVideos(alan, 2, { ids: [adaId, graceId] }),
  ]);
  for (const p of [ada, grace, alan])
    assert.equal(await p.locator('[data-testid=grid]').getAttribute('data-count'), '3');
  // Alan joined muted: the others show it, and he does on his own tile.
  for (const p of [ada, grace])
    await tile(p, alanId).locator('[data-testid=tile-muted]').waitFor({ state: 'visible', timeout: T(5000) });
  await alan.locator('[data-testid=tile][data-self] [data-testid=tile-muted]').waitFor({ state: 'visible', timeout: T(2000) });
  assert.equal(await alan.getAttribute('[data-testid=mute-button]', 'aria-pressed'), 'true');
  await clearNotices(ada);
  await ada.screenshot({ path: path.join(ARTIFACTS, 'grid-3.png'), animations: 'disabled' });
});

test('chat reaches the others as text; a leave is announced, the tile goes; rejoin', async () => {
  assert.ok(ada && grace && alan, 'needs the call of the first test');
  // Alan closes his chat panel: what comes in is counted as unread.
  if (await alan.locator('[data-testid=chat-panel]').isVisible())
    await alan.click('[data-testid=chat-close]');
  const unreadBefore = Number(await alan.locator('[data-testid=chat-unread]').textContent());

  const text = 'see <b>bold</b> <img src=x onerror="window.pwned=1"> https://example.com/x';
  await ada.fill('[data-testid=chat-input]', text);
  await ada.press('[data-testid=chat-input]', 'Enter');
  for (const p of [ada, grace, alan]) {
    const msg = p.locator('[data-testid=chat-log] .msg .text', { hasText: 'see <b>bold</b>' });
    await msg.waitFor({ state: 'attached', timeout: T(5000) });
    assert.equal(await msg.textContent(), text, `${p.label}: the text as typed`);
    assert.equal(await msg.locator('b, img, a').count(), 0, `${p.label}: no markup made from chat`);
    assert.equal(await p.evaluate(() => window.pwned), undefined);
  }
  await alan.waitForFunction(
    (n) => Number(document.querySelector('[data-testid=chat-unread]').textContent) > n,
    unreadBefore, { timeout: T(3000) });
  assert.equal(await alan.locator('[data-testid=chat-unread]').isVisible(), true);
  await alan.click('[data-testid=chat-toggle]');
  await alan.locator('[data-testid=chat-unread]').waitFor({ state: 'hidden', timeout: T(2000) });

  const alanId = await selfId(alan);
  await alan.click('[data-testid=leave-button]');
  await alan.locator('[data-testid=left-screen]').waitFor({ timeout: T(3000) });
  assert.equal(await alan.evaluate(() => window.turnpike.state), 'left');
  for (const p of [ada, grace]) {
    await p.locator('[data-testid=notice]', { hasText: 'Alan left' }).first().waitFor({ timeout: T(5000) });
    await p.locator('[data-testid=chat-log] .system', { hasText: 'Alan left' }).waitFor({ timeout: T(2000) });
    await tile(p, alanId).waitFor({ state: 'detached', timeout: T(5000) });
    assert.equal(await p.locator('[data-testid=grid]').getAttribute('data-count'), '2');
  }

  // Rejoin from the screen after leaving: a new id, the same name.
  await alan.click('[data-testid=rejoin-button]');
  await alan.waitForFunction(() => window.turnpike.state === 'in-call', null, { timeout: T(10000) });
  const again = await selfId(alan);
  assert.notEqual(again, alanId);
  await ada.locator('[data-testid=notice]', { hasText: 'Alan joined' }).first().waitFor({ timeout: T(5000) });
  await waitVideos(alan, 2);
  await alan.click('[data-testid=leave-button]');
  await tile(ada, again).waitFor({ state: 'detached', timeout: T(5000) });
  await closePages(alan);
  alan = null;
});

test('mute shows on the other side; a dropped WebSocket reconnects and the call comes back', async () => {
  assert.ok(ada && grace, 'needs the call of the first test');
  const oldAda = await selfId(ada);
  const graceId = await selfId(grace);
  await ada.click('[data-testid=mute-button]');
  assert.equal(await ada.getAttribute('[data-testid=mute-button]', 'aria-pressed'), 'true');
  await tile(grace, oldAda).locator('[data-testid=tile-muted]').waitFor({ state: 'visible', timeout: T(5000) });

  const states = [];
  await ada.exposeFunction('tpState', (s) => states.push(s));
  await ada.evaluate(() => {
    const seen = () => window.tpState(window.turnpike.state);
    window.tpPoll = setInterval(seen, 20);
  });
  await ada.evaluate(() => window.turnpike.dropSocket());
  await ada.waitForFunction((old) => window.turnpike.state === 'in-call' && window.turnpike.id &&
    window.turnpike.id !== old, oldAda, { timeout: T(15000) });
  await ada.evaluate(() => clearInterval(window.tpPoll));
  assert.ok(states.includes('reconnecting'), `went through reconnecting: ${[...new Set(states)]}`);
  const newAda = await selfId(ada);

  await tile(grace, oldAda).waitFor({ state: 'detached', timeout: T(5000) });
  await waitVideos(grace, 1, { ids: [newAda] });
  await waitVideos(ada, 1, { ids: [graceId] });
  // The state came along with the new id: still muted.
  await tile(grace, newAda).locator('[data-testid=tile-muted]').waitFor({ state: 'visible', timeout: T(5000) });

  await ada.click('[data-testid=mute-button]');
  await tile(grace, newAda).locator('[data-testid=tile-muted]').waitFor({ state: 'hidden', timeout: T(5000) });
});

test('an ICE restart from the offering side renegotiates and the video goes on', async () => {
  assert.ok(ada && grace, 'needs the call of the first test');
  const [adaId, graceId] = [await selfId(ada), await selfId(grace)];
  // After the reconnect Ada is the newcomer: she offered, Grace answered.
  const before = await ada.evaluate((id) => window.turnpike.stats(id), graceId);
  assert.equal(await grace.evaluate((id) => window.turnpike.restartIce(id), adaId), false,
    'the answering side leaves restarts to the offerer');
  assert.equal(await ada.evaluate((id) => window.turnpike.restartIce(id), graceId), true);
  await ada.waitForFunction(async ([id, old]) => {
    const s = await window.turnpike.stats(id);
    return s.localUfrag && s.localUfrag !== old.localUfrag && s.remoteUfrag !== old.remoteUfrag &&
      s.connectionState === 'connected' && s.local !== null;
  }, [graceId, before], { timeout: T(10000), polling: 200 });
  await waitVideos(grace, 1, { ids: [adaId] });
  await waitVideos(ada, 1, { ids: [graceId] });
});

test('screen sharing replaces the camera and comes back', async () => {
  assert.ok(ada && grace, 'needs the call of the first test');
  const adaId = await selfId(ada);
  await ada.click('[data-testid=screen-button]');
  await ada.waitForFunction(() =>
    document.querySelector('[data-testid=screen-button]').getAttribute('aria-pressed') === 'true',
  null, { timeout: T(5000) });
  await tile(grace, adaId).locator('[data-testid=tile-screen]').waitFor({ state: 'visible', timeout: T(5000) });
  await waitVideos(grace, 1, { ids: [adaId] });
  await ada.click('[data-testid=screen-button]');
  await tile(grace, adaId).locator('[data-testid=tile-screen]').waitFor({ state: 'hidden', timeout: T(5000) });
  await waitVideos(grace, 1, { ids: [adaId] });
  await closePages(ada, grace);
  ada = grace = null;
});

test('camera and microphone denied: the page says so and joins to watch and listen', async () => {
  const deniedRoom = 'no-devices';
  const watcher = await joinRoom('watcher', URL_ALL, deniedRoom, 'Watcher');
  const denied = await openPage('denied', `${URL_ALL}#${deniedRoom}`, {
    init: () => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    },
  });
  try {
    const status = denied.locator('[data-testid=media-status]');
    await denied.waitForFunction(() =>
      document.querySelector('[data-testid=media-status]').dataset.level === 'warn',
    null, { timeout: T(5000) });
    assert.match(await status.textContent(), /blocked.*watch and listen/i);
    await denied.fill('[data-testid=name-input]', 'Lurker');
    await denied.click('[data-testid=join-button]');
    await denied.waitForFunction(() => window.turnpike.state === 'in-call', null, { timeout: T(10000) });
    assert.equal(await denied.isDisabled('[data-testid=mute-button]'), true);
    assert.equal(await denied.isDisabled('[data-testid=camera-button]'), true);
    const [watcherId, deniedId] = [await selfId(watcher), await selfId(denied)];
    // Receive only: the watcher's video plays on the denied page...
    await waitVideos(denied, 1, { ids: [watcherId] });
    // ...and the watcher shows the lurker as muted, without video.
    const lurker = tile(watcher, deniedId);
    await lurker.locator('[data-testid=tile-muted]').waitFor({ state: 'visible', timeout: T(5000) });
    await watcher.waitForFunction((id) =>
      document.querySelector(`[data-testid=tile][data-peer-id="${id}"]`).dataset.video === 'off',
    deniedId, { timeout: T(5000) });
    await watcher.waitForFunction((id) =>
      window.turnpike.peers().some((p) => p.id === id && p.connectionState === 'connected'),
    deniedId, { timeout: T(10000) });
  } finally {
    await closePages(watcher, denied);
  }
});

test('with iceTransportPolicy relay both ends use relay candidates through turnpiked', async () => {
  if (!URL_RELAY)
    return 'skip: no TP_E2E_RELAY_URL';
  const label = 'turnpike_relay_packets_total';
  const before = await metric(URL_RELAY, label, 'direction="to_peer"');
  const relayRoom = 'relay-only';
  const x = await joinRoom('relay-1', URL_RELAY, relayRoom, 'Relay One');
  const y = await joinRoom('relay-2', URL_RELAY, relayRoom, 'Relay Two');
  const [xId, yId] = [await selfId(x), await selfId(y)];
  await waitVideos(x, 1, { ids: [yId] });
  await waitVideos(y, 1, { ids: [xId] });
  for (const [p, other] of [[x, yId], [y, xId]]) {
    const s = await p.evaluate((id) => window.turnpike.stats(id), other);
    assert.equal(s.local, 'relay', `${p.label}: local candidate ${JSON.stringify(s)}`);
    assert.equal(s.remote, 'relay', `${p.label}: remote candidate ${JSON.stringify(s)}`);
  }
  const mid = await metric(URL_RELAY, label, 'direction="to_peer"');
  await new Promise((r) => setTimeout(r, 1000));
  const after = await metric(URL_RELAY, label, 'direction="to_peer"');
  assert.ok(mid > before && after > mid, `${label} rises: ${before} ${mid} ${after}`);
  const toClient = await metric(URL_RELAY, label, 'direction="to_client"');
  assert.ok(toClient > 0, `${label}{direction="to_client"} ${toClient}`);
  await closePages(x, y);
  return null;
});

test('join errors: a token is needed, the room is full, the server is unreachable', async () => {
  if (!URL_GUARDED)
    return 'skip: no TP_E2E_GUARDED_URL';
  const privateRoom = TOKEN_ROOM;
  const pages = [];
  try {
    const [forbidden, down] = await Promise.all([
      failJoin('no-token', URL_GUARDED, privateRoom),
      // A server that closes every WebSocket at once.
      failJoin('down', URL_ALL, 'nobody-home', {
        before: (page) => page.routeWebSocket(/\/ws$/, (ws) => ws.close()),
      }),
    ]);
    pages.push(forbidden.page, down.page);
    assert.match(forbidden.text, /invitation/i);
    assert.match(down.text, /cannot reach the server/i);

    const query = `?token=${encodeURIComponent(TOKEN)}`;
    pages.push(...await Promise.all([
      joinRoom('token-1', URL_GUARDED, privateRoom, 'One', { query }),
      joinRoom('token-2', URL_GUARDED, privateRoom, 'Two', { query }),
    ]));
    const full = await failJoin('token-3', URL_GUARDED, privateRoom, { query });
    pages.push(full.page);
    assert.match(full.text, /full/i);
  } finally {
    await closePages(...pages);
  }
  return null;
});

// Run.

async function main() {
  assert.ok(URL_ALL, 'TP_E2E_URL is not set');
  mkdirSync(ARTIFACTS, { recursive: true });
  const started = Date.now();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: T(30000) });
  let passed = 0, failed = 0, skipped = 0;
  for (const t of tests) {
    if (ONLY && !t.name.includes(ONLY))
      continue;
    const t0 = Date.now();
    const errorsBefore = consoleErrors.length;
    try {
      const result = await t.fn();
      const newErrors = consoleErrors.slice(errorsBefore);
      assert.deepEqual(newErrors, [], 'console errors');
      if (typeof result === 'string' && result.startsWith('skip')) {
        skipped++;
        log(`ok - ${t.name} # ${result}`);
      } else {
        passed++;
        log(`ok - ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    } catch (e) {
      failed++;
      log(`not ok - ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      log(`  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
    }
  }
  await browser.close();
  log(`e2e: ${((Date.now() - started) / 1000).toFixed(1)} s, screenshots in ${ARTIFACTS}`);
  log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed === 0 ? 0 : 1;
}

let status = 1;
try {
  status = await main();
} catch (e) {
  log(`harness error: ${e && e.stack || e}`);
  if (browser)
    await browser.close().catch(() => {});
  status = 99;
}
process.exit(status);
