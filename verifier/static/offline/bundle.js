// The signed trust bundle (docs/offline.md), reading side, as verifier/offline/bundle.py:
// pinned key sets, verifying and decoding bundles and deltas, applying a delta, and the lookups
// verification makes. Bundles are kept as plain data (`state`, storable in IndexedDB) and turned
// into a verifier's trust by `hydrate`.
import { b64urlDecode, b64urlEncode } from './b64url.js';
import { AGENCY_ID_RE, KID_RE, NUMBER_RE } from './credential.js';
import { MalformedToken } from './errors.js';
import { asciiBytes, canonicalJson } from './jws.js';
import { importVerifyingKey, verifySignature } from './keys.js';
import { parseJsonObject } from './strict-json.js';
import { checkText, pyStrip } from './text.js';

export const BUNDLE_TYPE = 'skk-bundle+jwt';
const FORMAT_VERSION = 1;
const KEY_SKEW_SECONDS = 60;
const REASONS = ['fraud', 'misuse', 'data_error', 'holder_request', 'superseded', 'investigation', 'other'];
const REVOKED_LETTERS = 'abcdefg';
const SUSPENDED_LETTERS = 'ABCDEFG';
export const REMOVED = '-';
const PREFIX_DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const AGENCY_KINDS = ['lsp', 'dinas', 'balai'];
const KEY_STATES = ['active', 'retired', 'revoked'];
const MAX_NUMERIC_DATE = 2 ** 53;
const KEY_MEMBERS = 'agency,alg,jwk,kid,retired,start,state';

/** The bundle is not one this verifier may trust; the message says why. */
export class BundleError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BundleError';
  }
}

const fail = (message) => { throw new BundleError(message); };
const isInt = (value) => typeof value === 'number';
const sortedKeys = (map) => [...map.keys()].sort().join(',');

// --- pinned keys -------------------------------------------------------------------------------

/** Pinned keys from the published key set: Map kid -> {kid, jwk, created, retired, verifyingKey}. */
export async function readKeySet(document) {
  if (!(document instanceof Map) || !Array.isArray(document.get('keys'))) fail('the bundle key set must be a JSON object with a "keys" list');
  const pinned = new Map();
  for (const entry of document.get('keys')) {
    if (!(entry instanceof Map)) fail('every bundle key must be a JWK object');
    if (entry.get('kty') !== 'OKP' || entry.get('crv') !== 'Ed25519') fail('bundle keys must be Ed25519 (EdDSA)');
    if (entry.has('alg') && entry.get('alg') !== 'EdDSA') fail('bundle keys must be Ed25519 (EdDSA)');
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: entry.get('x') };
    const kid = await checkedKid(jwk, 'bundle key');
    if (entry.has('kid') && entry.get('kid') !== kid) fail(`bundle key ${String(entry.get('kid')).slice(0, 20)} does not match its JWK`);
    const created = instant(entry.get('created'), 'bundle key created');
    const retired = optionalInstant(entry.get('retired'), 'bundle key retired');
    pinned.set(kid, { kid, jwk, created, retired, verifyingKey: await importVerifyingKey('EdDSA', jwk) });
  }
  if (pinned.size === 0) fail('the bundle key set has no keys');
  return pinned;
}

/** The RFC 7638 kid of a public JWK, after checking its coordinates are 32 canonical bytes. */
async function checkedKid(jwk, what) {
  for (const name of jwk.kty === 'EC' ? ['x', 'y'] : ['x']) {
    if (typeof jwk[name] !== 'string') fail(`${what}: JWK member ${name} is missing or not a string`);
    let raw;
    try {
      raw = b64urlDecode(jwk[name], `JWK member ${name}`);
    } catch (error) {
      if (error instanceof MalformedToken) fail(`${what}: ${error.message}`);
      throw error;
    }
    if (raw.length !== 32) fail(`${what}: JWK member ${name} must encode 32 bytes, not ${raw.length}`);
  }
  const members = jwk.kty === 'EC'
    ? [['crv', jwk.crv], ['kty', jwk.kty], ['x', jwk.x], ['y', jwk.y]]
    : [['crv', jwk.crv], ['kty', jwk.kty], ['x', jwk.x]];
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson(members)));
  return b64urlEncode(new Uint8Array(digest)).slice(0, 16);
}

// --- reading -----------------------------------------------------------------------------------

/** Verify a bundle or delta against the pinned keys and decode it to plain data (`state`). The
 * signature is checked before the payload is parsed. BundleError when it cannot be trusted. */
export async function readBundle(text, pinned) {
  const parts = pyStrip(text).split('.');
  if (parts.length !== 3) fail('a bundle is a compact JWS: three base64url parts separated by dots');
  let header;
  let signature;
  try {
    header = parseJsonObject(b64urlDecode(parts[0], 'header'), 'header');
    signature = b64urlDecode(parts[2], 'signature');
  } catch (error) {
    if (error instanceof MalformedToken) fail(`the bundle is damaged: ${error.message}`);
    throw error;
  }
  const key = signingKey(header, pinned);
  if (!await verifySignature(key.verifyingKey, asciiBytes(`${parts[0]}.${parts[1]}`), signature)) {
    fail("the bundle's signature does not verify: it was altered or damaged");
  }
  let body;
  try {
    body = parseJsonObject(b64urlDecode(parts[1], 'payload'), 'payload');
  } catch (error) {
    if (error instanceof MalformedToken) fail(`the bundle payload is unreadable: ${error.message}`);
    throw error;
  }
  const state = await decode(body, key.kid);
  if (state.iat < key.created - KEY_SKEW_SECONDS || (key.retired !== null && state.iat > key.retired + KEY_SKEW_SECONDS)) {
    fail(`bundle key ${key.kid} was not in service when the bundle was made`);
  }
  return state;
}

function signingKey(header, pinned) {
  if (sortedKeys(header) !== 'alg,kid,typ' || header.get('typ') !== BUNDLE_TYPE) {
    fail(`not a trust bundle (the header must be alg, kid and typ ${BUNDLE_TYPE})`);
  }
  if (header.get('alg') !== 'EdDSA') fail('a bundle must be signed with EdDSA');
  const kid = header.get('kid');
  if (typeof kid !== 'string' || !pinned.has(kid)) {
    const shown = typeof kid === 'string' && KID_RE.test(kid) ? kid : '?';
    fail(`the bundle is signed by key ${shown}, which is not a pinned bundle key (fetch the current key set)`);
  }
  return pinned.get(kid);
}

async function decode(body, kid) {
  if (body.get('v') !== FORMAT_VERSION) fail(`unknown bundle format version (this verifier reads ${FORMAT_VERSION})`);
  const kind = body.get('kind');
  if (kind !== 'full' && kind !== 'delta') fail('bundle kind must be "full" or "delta"');
  const iss = body.get('iss');
  if (typeof iss !== 'string' || iss === '') fail("bundle iss must be the service's base URL");
  const seq = count(body.get('seq'), 'seq');
  const since = kind === 'delta' ? count(body.get('since'), 'since') : null;
  if (kind === 'full' && body.has('since')) fail('a full bundle has no since');
  if (since !== null && since > seq) fail("a delta's since must not exceed its seq");
  const iat = instant(body.get('iat'), 'iat');
  const exp = instant(body.get('exp'), 'exp');
  if (exp <= iat) fail('bundle exp must be after iat');
  const leeway = body.get('leeway');
  if (!isInt(leeway) || leeway < 0 || leeway > 60) fail('bundle leeway must be an integer from 0 to 60');
  let agencies = null;
  let keys = null;
  if (kind === 'full' || body.has('agencies') || body.has('keys')) {
    agencies = readAgencies(body.get('agencies'));
    keys = await readKeys(body.get('keys'), agencies);
  }
  const groups = readGroups(body.get('revocations'), kind === 'delta');
  return { kind, iss, seq, since, iat, exp, leeway, kid, agencies, keys, groups };
}

function readAgencies(value) {
  if (!Array.isArray(value)) fail('bundle agencies must be a list');
  const agencies = [];
  const seen = new Set();
  for (const entry of value) {
    if (!(entry instanceof Map) || sortedKeys(entry) !== 'id,kind,levels,name') fail('every bundle agency has exactly id, name, kind and levels');
    const id = entry.get('id');
    const levels = entry.get('levels');
    if (typeof id !== 'string' || !AGENCY_ID_RE.test(id)) fail('bundle agency id does not match the agency id pattern');
    if (seen.has(id)) fail(`bundle agency ${id} appears twice`);
    seen.add(id);
    try {
      checkText(entry.get('name'), 'agency name', 200);
    } catch (error) {
      fail(`bundle agency ${id}: ${error.message}`);
    }
    if (!AGENCY_KINDS.includes(entry.get('kind'))) fail(`bundle agency ${id}: unknown kind`);
    if (!(levels instanceof Map) || sortedKeys(levels) !== 'max,min' || !isInt(levels.get('min')) || !isInt(levels.get('max'))
      || !(levels.get('min') >= 1 && levels.get('min') <= levels.get('max') && levels.get('max') <= 9)) {
      fail(`bundle agency ${id}: levels must be 1 <= min <= max <= 9`);
    }
    agencies.push({ id, name: entry.get('name'), kind: entry.get('kind'), levelMin: levels.get('min'), levelMax: levels.get('max') });
  }
  return agencies;
}

async function readKeys(value, agencies) {
  if (!Array.isArray(value)) fail('bundle keys must be a list');
  const agencyIds = new Set(agencies.map((agency) => agency.id));
  const keys = [];
  const seen = new Set();
  for (const entry of value) {
    if (!(entry instanceof Map) || sortedKeys(entry) !== KEY_MEMBERS) fail(`every bundle key has exactly ${KEY_MEMBERS.replaceAll(',', ', ')}`);
    const kid = entry.get('kid');
    if (typeof kid !== 'string' || !KID_RE.test(kid) || seen.has(kid)) fail('bundle key ids must be 16 base64url characters, each once');
    seen.add(kid);
    if (!agencyIds.has(entry.get('agency'))) fail(`bundle key ${kid} belongs to no agency in the bundle`);
    if (!KEY_STATES.includes(entry.get('state'))) fail(`bundle key ${kid}: unknown state`);
    const jwk = publicJwk(entry.get('jwk'), kid);
    const alg = jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    if (await checkedKid(jwk, `bundle key ${kid}`) !== kid || alg !== entry.get('alg')) fail(`bundle key ${kid}: kid or alg does not match the JWK`);
    keys.push({ kid, agencyId: entry.get('agency'), alg, jwk, state: entry.get('state'),
      notBefore: optionalInstant(entry.get('start'), `bundle key ${kid} start`),
      retiredAt: optionalInstant(entry.get('retired'), `bundle key ${kid} retired`) });
  }
  return keys;
}

function publicJwk(value, kid) {
  if (!(value instanceof Map)) fail(`bundle key ${kid}: a JWK must be a JSON object`);
  if (value.get('kty') === 'OKP' && value.get('crv') === 'Ed25519' && sortedKeys(value) === 'crv,kty,x') {
    return { kty: 'OKP', crv: 'Ed25519', x: value.get('x') };
  }
  if (value.get('kty') === 'EC' && value.get('crv') === 'P-256' && sortedKeys(value) === 'crv,kty,x,y') {
    return { kty: 'EC', crv: 'P-256', x: value.get('x'), y: value.get('y') };
  }
  return fail(`bundle key ${kid}: only Ed25519 and P-256 public keys`);
}

function readGroups(value, allowRemoved) {
  if (!Array.isArray(value)) fail('bundle revocations must be a list');
  const groups = {};
  for (const entry of value) {
    if (!(entry instanceof Map) || sortedKeys(entry) !== 'agency,at,base,numbers,states') {
      fail('every revocation group has exactly agency, base, numbers, states and at');
    }
    const agencyId = entry.get('agency');
    if (typeof agencyId !== 'string' || !AGENCY_ID_RE.test(agencyId)) fail('revocation group agency does not match the agency id pattern');
    if (Object.hasOwn(groups, agencyId)) fail(`revocation group ${agencyId} appears twice`);
    groups[agencyId] = readGroup(entry, agencyId, allowRemoved);
  }
  return groups;
}

function readGroup(entry, agencyId, allowRemoved) {
  const where = `revocation group ${agencyId}`;
  const base = instant(entry.get('base'), `${where} base`);
  const coded = entry.get('numbers');
  const states = entry.get('states');
  const offsets = entry.get('at');
  if (typeof coded !== 'string' || typeof states !== 'string' || !Array.isArray(offsets)) fail(`${where}: numbers and states must be text, at a list`);
  const numbers = frontDecoded(coded, where);
  if (!(numbers.length === states.length && states.length === offsets.length) || numbers.length === 0) {
    fail(`${where}: numbers, states and at must have the same, non-zero length`);
  }
  const allowed = REVOKED_LETTERS + SUSPENDED_LETTERS + (allowRemoved ? REMOVED : '');
  for (const letter of states) if (!allowed.includes(letter)) fail(`${where}: unknown state letter`);
  const at = offsets.map((offset) => {
    if (!isInt(offset) || offset < 0 || offset > MAX_NUMERIC_DATE - base) fail(`${where}: every at must be an offset from base`);
    return base + offset;
  });
  return { numbers, states, at };
}

function frontDecoded(coded, where) {
  const numbers = [];
  let previous = '';
  for (const line of coded.split('\n')) {
    const shared = line === '' ? -1 : PREFIX_DIGITS.indexOf(line[0]);
    if (!(shared >= 0 && shared <= previous.length)) fail(`${where}: a front-coded number has a bad prefix length`);
    const number = previous.slice(0, shared) + line.slice(1);
    if (!NUMBER_RE.test(number) || (numbers.length > 0 && !(number > previous))) fail(`${where}: numbers must be valid and strictly ascending`);
    numbers.push(number);
    previous = number;
  }
  return numbers;
}

function count(value, name) {
  if (!isInt(value) || value < 0) fail(`bundle ${name} must be a non-negative integer`);
  return value;
}

function instant(value, name) {
  if (!isInt(value) || value < 0 || value > MAX_NUMERIC_DATE) fail(`${name} must be an integer NumericDate`);
  return value;
}

function optionalInstant(value, name) {
  return value === null || value === undefined ? null : instant(value, name);
}

// --- merging and using -------------------------------------------------------------------------

/** The bundle as of the delta (offline/bundle.apply_delta); BundleError when it does not fit. */
export function applyDelta(bundle, delta) {
  if (bundle.kind !== 'full' || delta.kind !== 'delta') fail('a delta applies to a full bundle');
  if (delta.since !== bundle.seq || delta.iss !== bundle.iss) fail(`the delta starts at ${delta.since}, the bundle is at ${bundle.seq}`);
  if (delta.iat < bundle.iat) fail('the delta is older than the bundle');
  const groups = { ...bundle.groups };
  for (const [agencyId, changes] of Object.entries(delta.groups)) {
    const merged = mergeGroup(groups[agencyId], changes);
    if (merged === null) delete groups[agencyId];
    else groups[agencyId] = merged;
  }
  return { ...bundle, kind: 'full', seq: delta.seq, since: null, iat: delta.iat, exp: delta.exp, leeway: delta.leeway,
    kid: delta.kid, agencies: delta.agencies ?? bundle.agencies, keys: delta.keys ?? bundle.keys, groups };
}

function mergeGroup(group, changes) {
  const entries = new Map();
  if (group) group.numbers.forEach((number, i) => entries.set(number, [group.states[i], group.at[i]]));
  changes.numbers.forEach((number, i) => {
    if (changes.states[i] === REMOVED) entries.delete(number);
    else entries.set(number, [changes.states[i], changes.at[i]]);
  });
  if (entries.size === 0) return null;
  const numbers = [...entries.keys()].sort((a, b) => (a < b ? -1 : 1));
  return { numbers, states: numbers.map((n) => entries.get(n)[0]).join(''), at: numbers.map((n) => entries.get(n)[1]) };
}

/** What verification reads from a bundle's state: agencies and keys (WebCrypto keys imported),
 * the revocation lookup, leeway and expiry. */
export async function hydrate(state) {
  const agencies = new Map(state.agencies.map((agency) => [agency.id, agency]));
  const keys = new Map();
  for (const key of state.keys) keys.set(key.kid, { ...key, verifyingKey: await importVerifyingKey(key.alg, key.jwk) });
  return {
    agencies, keys, leeway: state.leeway, exp: state.exp, iat: state.iat, seq: state.seq,
    lookup: (agencyId, number) => findRevocation(state.groups[agencyId], number),
  };
}

/** The revocation record of a number in one agency's group, or null. */
export function findRevocation(group, number) {
  if (!group) return null;
  let low = 0;
  let high = group.numbers.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (group.numbers[middle] < number) low = middle + 1;
    else high = middle;
  }
  if (low === group.numbers.length || group.numbers[low] !== number) return null;
  const letter = group.states[low];
  if (REVOKED_LETTERS.includes(letter)) return { status: 'revoked', at: group.at[low], reason: REASONS[REVOKED_LETTERS.indexOf(letter)] };
  if (SUSPENDED_LETTERS.includes(letter)) return { status: 'suspended', at: group.at[low], reason: REASONS[SUSPENDED_LETTERS.indexOf(letter)] };
  return null;
}
