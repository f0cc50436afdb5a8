// The /periksa page: installs the service worker, fetches and checks the offline data, says how
// old it is, keeps the optional gate log, and scans continuously where BarcodeDetector exists.
import { hydrate } from './bundle.js';
import { supportsEd25519 } from './keys.js';
import { moment } from './dates.js';
import { countsByStatus, entryFor, isToday, toCsv } from './gatelog.js';
import { refresh, refreshPack, RefreshError } from './refresh.js';
import { WARN_AGE_SECONDS } from './render.js';
import { scanLoop } from './scan.js';
import { openStore } from './store.js';
import { resultToDict, verifyOffline } from './verify.js';

const $ = (id) => document.getElementById(id);
const text = (key) => document.querySelector(`#texts [data-text="${key}"]`).textContent;
const language = document.documentElement.lang === 'en' ? 'en' : 'id';
const VERDICT_WORDS = { valid: 'VALID', revoked: 'REVOKED', suspended: 'SUSPENDED', expired: 'EXPIRED',
  not_yet_valid: 'NOT YET VALID', stale_data: 'DATA TOO OLD' };

let db = null;
let pack = null;

function say(state, message, bundleState = null) {
  const box = $('offline-status');
  box.dataset.state = state;
  if (bundleState) {
    box.dataset.seq = String(bundleState.seq);
    box.dataset.asOf = new Date(bundleState.iat * 1000).toISOString().replace('.000Z', 'Z');
  }
  box.classList.toggle('alert', state !== 'ready' && state !== 'refreshing');
  $('offline-status-text').textContent = message;
}

function stamp(instant) {
  if (!pack) return new Date(instant * 1000).toISOString();
  const m = moment(instant, pack.languages[language].dates);
  const messages = pack.languages[language].messages;
  return m.date ? (messages['%(date)s %(time)s WIB'] ?? '%(date)s %(time)s WIB')
    .replace('%(date)s', m.date).replace('%(time)s', m.time) : m.iso;
}

function describe(state) {
  const now = Date.now() / 1000;
  const date = stamp(state.iat);
  if (now >= state.exp) return ['stale', text('stale').replace('@@date@@', date)];
  if (now - state.iat >= WARN_AGE_SECONDS) return ['ready', text('ready_old').replace('@@date@@', date)];
  return ['ready', text('ready').replace('@@date@@', date)];
}

async function update() {
  say('refreshing', text('refreshing'));
  $('offline-refresh').hidden = true;
  try {
    pack = await refreshPack(fetch, db);
    const state = await refresh(fetch, db);
    await db.put('refreshedAt', Date.now());
    const [kind, message] = describe(state);
    say(kind, message, state);
  } catch (error) {
    const reason = text(`reason_${error instanceof RefreshError ? error.reason : 'server'}`);
    const kept = await db.get('bundle');
    if (kept) say('failed', text('failed_kept').replace('@@reason@@', reason).replace('@@date@@', stamp(kept.iat)), kept);
    else say('failed', text('failed_none').replace('@@reason@@', reason));
  } finally {
    $('offline-refresh').hidden = false;
  }
}

// --- gate log ------------------------------------------------------------------------------

async function todaysEntries() {
  const now = new Date();
  const keys = await db.log.keys();
  const entries = await db.log.all();
  const today = [];
  for (let i = 0; i < entries.length; i += 1) {
    if (isToday(entries[i], now)) today.push(entries[i]);
    else await db.log.remove(keys[i]); // the log keeps the day's checks only
  }
  return today;
}

function word(status) {
  const messages = pack?.languages[language].messages ?? {};
  const english = VERDICT_WORDS[status] ?? 'NOT VALID';
  return messages[english] ?? english;
}

async function showLog() {
  const entries = await todaysEntries();
  const body = $('log-table').tBodies[0];
  body.replaceChildren(...entries.slice().reverse().map((entry) => {
    const row = document.createElement('tr');
    row.dataset.status = entry.status;
    for (const value of [entry.time.slice(11), entry.number, entry.name, entry.job, entry.level, word(entry.status)]) {
      const td = document.createElement('td');
      td.textContent = String(value);
      row.append(td);
    }
    return row;
  }));
  const counts = countsByStatus(entries).map(([status, count]) => `${word(status)} ${count}`).join(' · ');
  $('log-counts').textContent = text('counts').replace('@@count@@', String(entries.length))
    + (counts ? ` ${counts}` : '');
}

async function exportLog() {
  const blob = new Blob([toCsv(await todaysEntries())], { type: 'text/csv;charset=utf-8' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = 'results.csv';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// --- scanning ------------------------------------------------------------------------------

async function check(code) {
  let result = null;
  try {
    const response = await fetch(`/api/v1/verify?lang=${language}`, { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: code }) });
    if (response.ok) result = await response.json();
  } catch {
    result = null; // no signal: check offline below
  }
  if (result === null) {
    const state = await db.get('bundle');
    if (!state) return;
    const now = Math.floor(Date.now() / 1000);
    result = resultToDict(await verifyOffline(code, await hydrate(state), { at: now, now }),
      pack.languages[language].status_messages);
  }
  const shown = $('scan-result');
  shown.dataset.status = result.status;
  shown.textContent = [word(result.status), result.credential?.holder_name, result.credential?.number]
    .filter(Boolean).join(' · ');
  if (await db.get('logging')) {
    await db.log.add(entryFor(result, new Date()));
    await showLog();
  }
}

function setUpScanner() {
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) return;
  $('scanner').hidden = false;
  let stop = null;
  $('scan-start').addEventListener('click', async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      const video = $('scan-video');
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      stop = scanLoop({ detect: async () => (await detector.detect(video)).map((c) => c.rawValue), onCode: check });
      $('scan-start').hidden = true;
      $('scan-stop').hidden = false;
    } catch (error) {
      $('scan-result').textContent = text('camera_failed').replace('@@reason@@', error.message);
    }
  });
  $('scan-stop').addEventListener('click', () => {
    stop?.();
    const video = $('scan-video');
    for (const track of video.srcObject?.getTracks() ?? []) track.stop();
    video.hidden = true;
    $('scan-start').hidden = false;
    $('scan-stop').hidden = true;
  });
}

async function start() {
  if (!('serviceWorker' in navigator) || !window.indexedDB || !window.crypto?.subtle || !await supportsEd25519()) {
    say('unsupported', text('unsupported'));
    return;
  }
  db = await openStore();
  pack = (await db.get('pack')) ?? null;
  $('log-on').checked = Boolean(await db.get('logging'));
  $('log-on').addEventListener('change', async (event) => {
    await db.put('logging', event.target.checked);
  });
  $('log-export').addEventListener('click', exportLog);
  $('log-clear').addEventListener('click', async () => {
    if (window.confirm(text('confirm_clear'))) {
      await db.log.clear();
      await showLog();
    }
  });
  $('offline-refresh').addEventListener('click', update);
  setUpScanner();
  await navigator.serviceWorker.register('/sw.js', { type: 'module', scope: '/' });
  await navigator.serviceWorker.ready;
  await update();
  await showLog();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') showLog();
  });
}

start();
