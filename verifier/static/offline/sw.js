// The service worker (docs/offline.md §7). Scope /: it answers certificate links (/v/… and
// /V/…). With signal the server answers as always and the offline data is refreshed in the
// background; with none (or no answer within a few seconds, or a server that cannot check) the
// credential is verified here against the signed trust bundle and the same verdict page is
// rendered, marked with data-offline and the age of its data.
import { hydrate } from '/offline/bundle.js';
import { entryFor } from '/offline/gatelog.js';
import { pageLanguage, payloadOf } from '/offline/navigation.js';
import { refresh, refreshPack } from '/offline/refresh.js';
import { fillShell, renderOfflinePage } from '/offline/render.js';
import { openStore } from '/offline/store.js';
import { resultToDict, verifyOffline } from '/offline/verify.js';

const NETWORK_TIMEOUT_MS = 5000;
const REFRESH_EVERY_MS = 10 * 60 * 1000;
const APP_CACHE = 'skk-offline-app-v1';
const APP_FILES = ['/periksa', '/periksa?lang=en', '/periksa?lang=id', '/offline/periksa.js', '/offline/gatelog.js',
  '/offline/scan.js', '/offline/store.js', '/offline/refresh.js', '/offline/bundle.js', '/offline/b64url.js',
  '/offline/errors.js', '/offline/strict-json.js', '/offline/credential.js', '/offline/text.js', '/offline/jws.js',
  '/offline/keys.js', '/offline/qr-payload.js', '/offline/time.js', '/offline/verify.js', '/offline/render.js',
  '/offline/dates.js', '/offline/navigation.js'];

let storePromise = null;
const store = () => {
  storePromise ??= openStore();
  return storePromise;
};
let trustCache = { key: null, trust: null };

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(APP_CACHE);
    await cache.addAll(APP_FILES);
    await refreshPack(fetch, await store());
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== APP_CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== 'GET') return;
  if (event.request.mode === 'navigate' && payloadOf(url.pathname) !== null) {
    event.respondWith(answer(event, url));
  } else if (url.pathname === '/periksa' || url.pathname.startsWith('/offline/')) {
    event.respondWith(networkThenCache(event.request));
  }
});

async function networkThenCache(request) {
  try {
    const response = await fetch(request);
    if (response.ok && !request.url.endsWith('/offline/pack.json')) {
      const cache = await caches.open(APP_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request);
    if (cached) return cached;
    throw error;
  }
}

async function answer(event, url) {
  const online = await fromNetwork(event.request);
  if (online !== null && online.status < 500) {
    event.waitUntil(afterOnline(online.clone(), url));
    return online;
  }
  return offlineAnswer(url);
}

/** The server's answer, or null when there is none in time (no signal, a dead connection). */
async function fromNetwork(request) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), NETWORK_TIMEOUT_MS);
  try {
    return await fetch(request, { signal: controller.signal });
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

async function afterOnline(response, url) {
  const db = await store();
  if (await db.get('logging')) {
    const html = await response.text();
    const status = /data-status="([a-z_]+)"/.exec(html)?.[1];
    if (status) await logCheck(db, url, status);
  }
  const last = (await db.get('refreshedAt')) ?? 0;
  if (Date.now() - last > REFRESH_EVERY_MS) {
    await db.put('refreshedAt', Date.now());
    try {
      await refresh(fetch, db);
      await refreshPack(fetch, db);
    } catch {
      // Kept as it was; /periksa says what went wrong when the checker opens it.
    }
  }
}

async function trustFor(state) {
  const key = `${state.seq}/${state.iat}/${state.kid}`;
  if (trustCache.key !== key) trustCache = { key, trust: await hydrate(state) };
  return trustCache.trust;
}

async function offlineAnswer(url) {
  const db = await store();
  const pack = await db.get('pack');
  const { language, asked } = pageLanguage(url, self.navigator.languages ?? []);
  if (!pack) return new Response(NO_PACK, { status: 503, headers: headers("default-src 'none'") });
  const state = await db.get('bundle');
  if (!state) {
    const page = fillShell(pack.languages[language].missing, '', asked ? `?lang=${language}` : '');
    return new Response(page, { status: 503, headers: headers(pack.csp) });
  }
  const now = Math.floor(Date.now() / 1000);
  const trust = await trustFor(state);
  const result = await verifyOffline(payloadOf(url.pathname), trust, { at: now, now });
  if (await db.get('logging')) await db.log.add(entryFor(resultToDict(result, {}), new Date()));
  const page = renderOfflinePage(result, { pack, language, asked, dataAsOf: state.iat, now });
  return new Response(page, { status: 200, headers: headers(pack.csp) });
}

async function logCheck(db, url, status) {
  const state = await db.get('bundle');
  let dict = { status, credential: null };
  if (state) {
    const now = Math.floor(Date.now() / 1000);
    const local = resultToDict(await verifyOffline(payloadOf(url.pathname), await trustFor(state), { at: now, now }), {});
    dict = { status, credential: local.credential }; // the server's verdict, the verified fields
  }
  await db.log.add(entryFor(dict, new Date()));
}

function headers(policy) {
  return { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': policy,
    'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex, nofollow' };
}

const NO_PACK = '<!doctype html><meta charset="utf-8"><title>SKK</title>'
  + '<p>Tidak ada sinyal dan data offline belum tersedia. / No signal, and no offline data yet.</p>';
