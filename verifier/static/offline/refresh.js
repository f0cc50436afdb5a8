// Fetching fresh offline data: the pinned bundle keys, then a delta after the stored bundle's
// sequence number (or the full bundle when the server says a delta will not do), each verified
// before it replaces anything. A bundle that fails its checks is refused and the old one kept.
import { applyDelta, BundleError, readBundle, readKeySet } from './bundle.js';
import { parseJsonText } from './strict-json.js';

export const KEYS_PATH = '/.well-known/skk-bundle-keys.json';
export const BUNDLE_PATH = '/api/v1/offline/bundle';
export const PACK_PATH = '/offline/pack.json';

/** Why a refresh failed: `network`, `refused` (a check failed) or `server` (an odd answer). */
export class RefreshError extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

async function get(fetcher, path) {
  let response;
  try {
    response = await fetcher(path, { cache: 'no-store', credentials: 'omit' });
  } catch (error) {
    throw new RefreshError('network', String(error));
  }
  return response;
}

async function text(response, path) {
  if (!response.ok) throw new RefreshError('server', `${path} answered ${response.status}`);
  return response.text();
}

/** The pinned keys: fetched and stored when the service answers, else the stored ones. */
async function pinnedKeys(fetcher, store) {
  try {
    const document = await text(await get(fetcher, KEYS_PATH), KEYS_PATH);
    const pinned = await readKeySet(parseJsonText(document, 'bundle key set'));
    await store.put('keys', document);
    return pinned;
  } catch (error) {
    const stored = await store.get('keys');
    if (error instanceof RefreshError && error.reason === 'network' && stored) {
      return readKeySet(parseJsonText(stored, 'bundle key set'));
    }
    throw error instanceof RefreshError ? error : new RefreshError('refused', error.message);
  }
}

/** Bring the stored bundle up to date; resolves to the stored state, or throws RefreshError
 * (the stored state, if any, is then unchanged). */
export async function refresh(fetcher, store) {
  const pinned = await pinnedKeys(fetcher, store);
  const current = await store.get('bundle');
  try {
    if (current) {
      const answer = await get(fetcher, `${BUNDLE_PATH}?since=${current.seq}`);
      if (answer.status !== 410) {
        const delta = await readBundle(await text(answer, BUNDLE_PATH), pinned);
        if (delta.kind !== 'delta') throw new BundleError('the server sent a full bundle for a delta');
        const latest = await store.get('bundle');
        if (latest.seq >= delta.seq && latest.iat >= delta.iat) return latest; // another tab was first
        const merged = applyDelta(latest, delta);
        await store.put('bundle', merged);
        return merged;
      }
    }
    const full = await readBundle(await text(await get(fetcher, BUNDLE_PATH), BUNDLE_PATH), pinned);
    if (full.kind !== 'full') throw new BundleError('the server sent a delta for a full bundle');
    const latest = await store.get('bundle');
    if (latest && full.iat < latest.iat) throw new BundleError('the bundle is older than the one stored');
    await store.put('bundle', full);
    return full;
  } catch (error) {
    if (error instanceof BundleError) throw new RefreshError('refused', error.message);
    throw error;
  }
}

/** The page pack, fetched and stored; the stored one when the service does not answer. */
export async function refreshPack(fetcher, store) {
  try {
    const pack = JSON.parse(await text(await get(fetcher, PACK_PATH), PACK_PATH));
    await store.put('pack', pack);
    return pack;
  } catch (error) {
    const stored = await store.get('pack');
    if (stored) return stored;
    throw error;
  }
}
