// Token -> result: the numbered rules of SPEC §2 in order, as verifier/verify.py, plus the
// offline rule of docs/offline.md: a result that would be valid on a bundle past its expiry is
// stale_data. Pure: the trust data, the revocation lookup and the instants are passed in.
import { checkHeader, credentialFromClaims } from './credential.js';
import { MalformedToken } from './errors.js';
import { parseToken } from './jws.js';
import { verifySignature } from './keys.js';
import { extractToken } from './qr-payload.js';
import { toIso } from './time.js';

/** Statuses whose result shows the credential (the token is authentic and its issuer trusted). */
export const SHOWS_CREDENTIAL = new Set(['valid', 'revoked', 'suspended', 'not_yet_valid', 'expired', 'stale_data']);

class CheckFailed extends Error {
  constructor(status) {
    super(status);
    this.status = status;
  }
}

/** Verify a JWS, QR payload or verify URL against a trust bundle (bundle.js) at `at`, judging
 * the bundle's data at `now`. Never throws for any text. */
export async function verifyOffline(text, bundle, { at, now }) {
  let token;
  try {
    token = await extractToken(text);
  } catch (error) {
    if (error instanceof MalformedToken) return { status: 'malformed', checkedAt: at };
    throw error;
  }
  const result = await verifyToken(token, bundle, (agencyId, number) => bundle.lookup(agencyId, number),
    { at, leeway: bundle.leeway });
  if (result.status === 'valid' && now >= bundle.exp) return { ...result, status: 'stale_data' };
  return result;
}

/** verify.verify_token: every rule in order; `trust` has `agencies` and `keys` Maps. */
export async function verifyToken(token, trust, lookupRevocation, { at, leeway }) {
  let parsed;
  let credential;
  try {
    if (typeof token !== 'string') throw new MalformedToken('token is not text');
    parsed = parseToken(token);
    checkHeader(parsed.header);
    credential = credentialFromClaims(parsed.payload);
  } catch (error) {
    if (error instanceof MalformedToken) return { status: 'malformed', checkedAt: at };
    throw error;
  }
  let agency = null;
  let revocation = null;
  try {
    agency = trust.agencies.get(credential.agencyId); // rule 2
    if (agency === undefined) {
      agency = null;
      throw new CheckFailed('unknown_issuer');
    }
    const key = trust.keys.get(parsed.header.get('kid')); // rule 3
    if (key === undefined || key.agencyId !== credential.agencyId) throw new CheckFailed('unknown_key');
    // Rule 4: the registry's algorithm decides; the header's is compared, never used.
    if (parsed.header.get('alg') !== key.alg) throw new CheckFailed('bad_signature');
    if (!await verifySignature(key.verifyingKey, parsed.signingInput, parsed.signature)) throw new CheckFailed('bad_signature');
    revocation = lookupRevocation(credential.agencyId, credential.number);
    rule5KeyInService(credential, key, leeway);
    if (!(agency.levelMin <= credential.level && credential.level <= agency.levelMax)) throw new CheckFailed('level_not_authorized');
    if (revocation !== null && revocation.status === 'revoked') throw new CheckFailed('revoked');
    if (revocation !== null && revocation.status === 'suspended') throw new CheckFailed('suspended');
    if (at < credential.validFrom - leeway || credential.issuedAt > at + leeway) throw new CheckFailed('not_yet_valid');
    if (at >= credential.expiresAt + leeway) throw new CheckFailed('expired');
  } catch (error) {
    if (!(error instanceof CheckFailed)) throw error;
    return { status: error.status, checkedAt: at, credential, agency, revocation };
  }
  return { status: 'valid', checkedAt: at, credential, agency, revocation };
}

function rule5KeyInService(credential, key, leeway) {
  if (key.state === 'revoked') throw new CheckFailed('key_revoked');
  if (key.notBefore !== null && credential.issuedAt < key.notBefore - leeway) throw new CheckFailed('key_revoked');
  if (key.retiredAt !== null && credential.issuedAt > key.retiredAt + leeway) throw new CheckFailed('key_revoked');
}

/** The SPEC §3 result object (VerificationResult.to_dict); `messages` maps status -> sentence. */
export function resultToDict(result, messages) {
  const shown = SHOWS_CREDENTIAL.has(result.status) && result.credential && result.agency;
  const c = result.credential;
  return {
    valid: result.status === 'valid',
    status: result.status,
    message: messages[result.status],
    checked_at: toIso(result.checkedAt),
    credential: shown ? {
      number: c.number,
      holder_name: c.holderName,
      job_title: c.jobTitle,
      job_code: c.jobCode,
      level: c.level,
      agency: { id: result.agency.id, name: result.agency.name },
      issued_at: toIso(c.issuedAt),
      valid_from: toIso(c.validFrom),
      expires_at: toIso(c.expiresAt),
    } : null,
    revocation: result.revocation ? {
      status: result.revocation.status, at: toIso(result.revocation.at), reason: result.revocation.reason,
    } : null,
  };
}
