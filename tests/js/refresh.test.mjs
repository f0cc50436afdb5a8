// Fetching offline data: verified before stored, deltas when the server has them, the old data
// kept when anything is wrong (tests/test_offline_browser.py runs the same against gunicorn).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BUNDLE_PATH, KEYS_PATH, refresh, RefreshError } from '../../verifier/static/offline/refresh.js';
import { loadVectors, memoryStore } from './helpers.mjs';

const vectors = loadVectors();
const keySet = JSON.stringify(vectors.key_set);

function server(answers) {
  const asked = [];
  const fetcher = async (path) => {
    asked.push(path);
    const answer = answers(path);
    if (answer instanceof Error) throw answer;
    const [status, body] = answer;
    return { ok: status >= 200 && status < 300, status, text: async () => body };
  };
  return { fetcher, asked };
}

test('a first refresh stores the verified full bundle and the pinned keys', async () => {
  const store = memoryStore();
  const { fetcher, asked } = server((path) => (path === KEYS_PATH ? [200, keySet] : [200, vectors.bundles.full]));
  const state = await refresh(fetcher, store);
  assert.equal(state.kind, 'full');
  assert.deepEqual(asked, [KEYS_PATH, BUNDLE_PATH]);
  assert.equal((await store.get('bundle')).seq, state.seq);
  assert.equal(await store.get('keys'), keySet);
});

test('a later refresh asks for the delta after the stored sequence and merges it', async () => {
  const store = memoryStore();
  await refresh(server((path) => (path === KEYS_PATH ? [200, keySet] : [200, vectors.bundles.full])).fetcher, store);
  const before = await store.get('bundle');
  const { fetcher, asked } = server((path) => (path === KEYS_PATH ? [200, keySet] : [200, vectors.delta.delta]));
  const merged = await refresh(fetcher, store);
  assert.equal(asked[1], `${BUNDLE_PATH}?since=${before.seq}`);
  assert.ok(merged.seq > before.seq && merged.kind === 'full');
  assert.deepEqual((await store.get('bundle')).groups, merged.groups);
});

test('410 for the delta means a full bundle, which replaces the stored one', async () => {
  const store = memoryStore();
  await refresh(server((path) => (path === KEYS_PATH ? [200, keySet] : [200, vectors.bundles.full])).fetcher, store);
  const { fetcher, asked } = server((path) => {
    if (path === KEYS_PATH) return [200, keySet];
    return path.includes('since=') ? [410, '{}'] : [200, vectors.delta.after];
  });
  const state = await refresh(fetcher, store);
  assert.equal(asked.length, 3);
  assert.ok(state.seq > 0 && (await store.get('bundle')).iat === state.iat);
});

test('tampered, unpinned or older data is refused and the stored data kept', async () => {
  const store = memoryStore();
  await refresh(server((path) => (path === KEYS_PATH ? [200, keySet] : [200, vectors.delta.after])).fetcher, store);
  const kept = await store.get('bundle');
  for (const [label, answers] of [
    ['tampered delta', (path) => (path === KEYS_PATH ? [200, keySet] : [200, vectors.delta.tampered])],
    ['stranger', (path) => (path === KEYS_PATH ? [200, keySet] : path.includes('since') ? [410, ''] : [200, vectors.bundles.stranger])],
    ['older full', (path) => (path === KEYS_PATH ? [200, keySet] : path.includes('since') ? [410, ''] : [200, vectors.bundles.full])],
    ['bad key set', (path) => (path === KEYS_PATH ? [200, '{"keys": []}'] : [200, vectors.bundles.full])],
  ]) {
    await assert.rejects(refresh(server(answers).fetcher, store), (error) => error instanceof RefreshError && error.reason === 'refused', label);
    assert.deepEqual(await store.get('bundle'), kept, label);
  }
});

test('no connection and odd answers are told apart from refusals', async () => {
  const store = memoryStore();
  await assert.rejects(refresh(server(() => new TypeError('Failed to fetch')).fetcher, store),
    (error) => error.reason === 'network');
  await assert.rejects(refresh(server((path) => (path === KEYS_PATH ? [200, keySet] : [503, ''])).fetcher, store),
    (error) => error.reason === 'server');
  assert.equal(await store.get('bundle'), undefined);
});
