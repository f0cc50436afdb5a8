// Replays the vectors the Python core made (tests/offline_vectors.py, run by
// tests/test_offline_parity.py): every answer of the JavaScript must equal Python's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { b64urlDecode } from '../../verifier/static/offline/b64url.js';
import { applyDelta, BundleError, hydrate, readBundle, readKeySet } from '../../verifier/static/offline/bundle.js';
import { MalformedToken } from '../../verifier/static/offline/errors.js';
import { importVerifyingKey, verifySignature } from '../../verifier/static/offline/keys.js';
import { decodePayload } from '../../verifier/static/offline/qr-payload.js';
import { renderOfflinePage, renderVerdict, translator, verdictView } from '../../verifier/static/offline/render.js';
import { JsonFloat, parseJsonObject, parseJsonText } from '../../verifier/static/offline/strict-json.js';
import { resultToDict, verifyOffline } from '../../verifier/static/offline/verify.js';

const path = process.env.SKK_PARITY_VECTORS;
if (!path) throw new Error('SKK_PARITY_VECTORS is not set: run `pytest tests/test_offline_parity.py`');
const vectors = JSON.parse(readFileSync(path, 'utf8'));
const hex = (text) => Uint8Array.from(text.match(/../g) ?? [], (byte) => parseInt(byte, 16));
const toHex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const pinnedKeys = () => readKeySet(parseJsonText(JSON.stringify(vectors.key_set)));

async function trustOf(text) {
  return hydrate(await readBundle(text, await pinnedKeys()));
}

test('every case gets the result object Python gives, in both languages', async () => {
  const trust = await trustOf(vectors.bundles.full);
  const seen = new Set();
  for (const c of vectors.cases) {
    const result = await verifyOffline(c.input, trust, { at: c.at, now: c.now });
    seen.add(result.status);
    for (const [language, expected] of Object.entries(c.expected)) {
      const actual = resultToDict(result, vectors.pack.languages[language].status_messages);
      assert.deepEqual(actual, expected, `${c.name} [${language}]`);
    }
  }
  assert.equal(seen.size, 12, [...seen].join(','));
});

test('every verdict block is the markup the server renders', async () => {
  const trust = await trustOf(vectors.bundles.full);
  const pack = vectors.pack;
  let compared = 0;
  for (const c of vectors.cases) {
    if (c.html === null) continue;
    const result = await verifyOffline(c.input, trust, { at: c.at, now: c.now });
    for (const [language, expected] of Object.entries(c.html)) {
      const texts = pack.languages[language];
      const html = renderVerdict(verdictView(result, texts.dates),
        { _: translator(texts), officialDomain: pack.official_domain, langQuery: '' });
      assert.equal(html, expected, `${c.name} [${language}]`);
      compared += 1;
    }
  }
  assert.ok(compared > 300, `${compared}`);
});

test('whole offline pages are the server page plus data-offline and the data line', async () => {
  const trust = await trustOf(vectors.bundles.full);
  for (const p of vectors.pages) {
    const result = await verifyOffline(p.input, trust, { at: p.now, now: p.now });
    const page = renderOfflinePage(result, { pack: vectors.pack, language: p.language, asked: p.asked,
      dataAsOf: vectors.bundle_at, now: p.now });
    assert.equal(page, p.page, `${p.name} [${p.language}, asked ${p.asked}]`);
  }
  assert.ok(vectors.pages.length >= 8);
});

test('bundles that are not signed by a pinned key, or damaged, are refused', async () => {
  const pinned = await pinnedKeys();
  for (const name of ['tampered', 'stranger', 'garbage', 'two-parts']) {
    await assert.rejects(readBundle(vectors.bundles[name], pinned), BundleError, name);
  }
  await assert.rejects(readBundle(vectors.delta.tampered, pinned), BundleError);
});

test('a delta applied to the bundle gives the verdicts of the later full bundle', async () => {
  const pinned = await pinnedKeys();
  const before = await readBundle(vectors.bundles.full, pinned);
  const delta = await readBundle(vectors.delta.delta, pinned);
  const merged = applyDelta(before, delta);
  const after = await readBundle(vectors.delta.after, pinned);
  assert.deepEqual(merged.groups, after.groups);
  assert.deepEqual(merged.agencies, after.agencies);
  assert.equal(merged.seq, after.seq);
  const trust = await hydrate(merged);
  for (const probe of vectors.delta.probes) {
    const result = await verifyOffline(probe.input, trust, { at: vectors.now, now: vectors.now });
    assert.deepEqual(resultToDict(result, vectors.pack.languages.en.status_messages), probe.expected, probe.name);
  }
  if (vectors.delta.wrong_base) {
    assert.throws(() => applyDelta(before, { ...delta, since: before.seq + 1 }), BundleError);
  }
  assert.throws(() => applyDelta(merged, { ...delta, iat: merged.iat - 1, since: merged.seq }), BundleError);
});

function tagged(value) {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return { int: String(value) };
  if (value instanceof JsonFloat) return { float: value.value };
  if (Array.isArray(value)) return value.map(tagged);
  return { object: [...value.entries()].map(([key, item]) => [key, tagged(item)]) };
}

test('strict JSON accepts and refuses what Python does, with the same values', () => {
  for (const v of vectors.json) {
    const label = Buffer.from(hex(v.hex)).toString('utf8').slice(0, 80);
    if (v.ok) {
      assert.deepEqual(tagged(parseJsonObject(hex(v.hex), 'x')), v.value, label);
    } else {
      assert.throws(() => parseJsonObject(hex(v.hex), 'x'), MalformedToken, label);
    }
  }
});

test('base64url accepts exactly the canonical spellings Python accepts', () => {
  for (const v of vectors.b64url) {
    if (v.ok) assert.equal(toHex(b64urlDecode(v.text)), v.hex, v.text);
    else assert.throws(() => b64urlDecode(v.text), MalformedToken, JSON.stringify(v.text));
  }
});

test('QR payloads decode to the same token, or are refused alike', async () => {
  for (const v of vectors.payloads) {
    if (v.ok) assert.equal(await decodePayload(v.payload), v.token, v.payload.slice(0, 40));
    else await assert.rejects(decodePayload(v.payload), MalformedToken, v.payload.slice(0, 40));
  }
});

test('WebCrypto verifies the Wycheproof signatures as cryptography does', async () => {
  const cache = new Map();
  for (const v of vectors.signatures) {
    const id = JSON.stringify(v.jwk);
    if (!cache.has(id)) cache.set(id, await importVerifyingKey(v.alg, v.jwk));
    assert.equal(await verifySignature(cache.get(id), hex(v.msg), hex(v.sig)), v.valid, v.id);
  }
});
