// The claim rules of SPEC §2 rule 1, as verifier/credential.py checks them: exact header,
// typed and patterned claims. Any failure is a MalformedToken (status malformed).
import { MalformedToken } from './errors.js';
import { checkText } from './text.js';

export const HEADER_TYPE = 'skk+jwt';
export const ALGORITHMS = ['EdDSA', 'ES256'];
export const AGENCY_ID_RE = /^[a-z0-9][a-z0-9-]{1,39}$/;
export const NUMBER_RE = /^[A-Za-z0-9][A-Za-z0-9 .-]{0,39}$/;
export const KID_RE = /^[A-Za-z0-9_-]{16}$/;
export const JOB_CODE_RE = /^[A-Z]{2}[0-9]{6}$/;
const MAX_NUMERIC_DATE = 2 ** 53;
const MAX_VALIDITY_SECONDS = 5 * 366 * 86400;

/** Exactly alg, kid and typ with allowed values. */
export function checkHeader(header) {
  const names = [...header.keys()].sort();
  if (names.join(',') !== 'alg,kid,typ') throw new MalformedToken('header must have exactly the members alg, kid and typ');
  if (!ALGORITHMS.includes(header.get('alg'))) throw new MalformedToken('header alg must be EdDSA or ES256');
  if (header.get('typ') !== HEADER_TYPE) throw new MalformedToken(`header typ must be ${HEADER_TYPE}`);
  const kid = header.get('kid');
  if (typeof kid !== 'string' || !KID_RE.test(kid)) throw new MalformedToken('header kid must be 16 base64url characters');
}

/** The credential a payload states (Credential.from_claims); MalformedToken naming the claim. */
export function credentialFromClaims(claims) {
  const agencyId = pattern(claims, 'iss', AGENCY_ID_RE);
  const number = pattern(claims, 'jti', NUMBER_RE);
  if (/ {2}| $/.test(number)) throw new MalformedToken('certificate number must be single-spaced');
  const [issuedAt, validFrom, expiresAt] = ['iat', 'nbf', 'exp'].map((name) => numericDate(claims, name));
  const span = expiresAt - validFrom;
  if (!(span > 0 && span <= MAX_VALIDITY_SECONDS)) throw new MalformedToken('claim exp must fall after nbf, at most 5 x 366 days');
  const holderName = text(claims, 'name');
  const jobTitle = text(claims, 'job');
  const level = claims.get('lvl');
  if (typeof level !== 'number' || level < 1 || level > 9) throw new MalformedToken('claim lvl must be an integer from 1 to 9');
  const jobCode = claims.has('jkc') ? pattern(claims, 'jkc', JOB_CODE_RE) : null;
  return { agencyId, number, holderName, jobTitle, jobCode, level, issuedAt, validFrom, expiresAt };
}

function pattern(claims, name, regex) {
  const value = claims.get(name);
  if (typeof value !== 'string' || !regex.test(value)) throw new MalformedToken(`claim ${name} is missing or does not match its pattern`);
  return value;
}

function numericDate(claims, name) {
  const value = claims.get(name);
  // Integers within ±2**53 are numbers (strict-json.js); floats, BigInts and booleans are not.
  if (typeof value !== 'number' || value < 0 || value > MAX_NUMERIC_DATE) throw new MalformedToken(`claim ${name} must be an integer NumericDate`);
  return value;
}

function text(claims, name) {
  try {
    return checkText(claims.get(name), `claim ${name}`);
  } catch (error) {
    throw new MalformedToken(error.message);
  }
}
