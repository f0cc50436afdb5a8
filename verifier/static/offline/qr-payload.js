// The QR payload codec (docs/qr-payload.md), decoding side, as verifier/qr_payload.py and
// verifier/qr.extract_token: the compact all-digit form back to the exact JWS, refusing every
// non-canonical spelling, and the plain JWS passed through.
import { b64urlDecode, b64urlEncode } from './b64url.js';
import { MalformedToken } from './errors.js';
import { serialize, asciiBytes } from './jws.js';
import { pyStrip } from './text.js';
import { addFiveYears } from './time.js';

const FORMAT_VERSION = '1';
const MAX_PAYLOAD_DIGITS = 4000;
const EPOCH = 1577836800;
const ALGORITHMS = ['EdDSA', 'ES256'];
const ISS_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789-';
const JTI_DIGITS = '0123456789 ';
const JTI_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .-';
const MAX_ID_LENGTH = 40;
// 2**53 + 1 is not a safe number: the long instant's radix stays a BigInt.
const INSTANT_RADIX = 2n ** 53n + 1n;
const MAX_TEXT_LENGTH = 100;
const TEXT_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789.,'-/()&";
const CAPITALS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const MIXED_ALPHABET = TEXT_ALPHABET + CAPITALS;
const [TITLE, UPPER, LOWER, MIXED] = [0, 1, 2, 3];
const WORD_BREAKS = ' (-/.';
const CODE_POINTS = 0x110000;
const SIGNATURE_BYTES = 64;
const CHECK_RADIX = 1024;

/** The JWS in a JWS, a payload or a verify URL (what follows the last /v/ or /V/). */
export async function extractToken(text) {
  let value = pyStrip(text);
  const cut = afterLastMark(value);
  if (cut !== null) value = value.slice(cut).split(/[?#]/, 1)[0];
  return decodePayload(value);
}

function afterLastMark(url) {
  const found = Math.max(url.lastIndexOf('/v/'), url.lastIndexOf('/V/'));
  return found < 0 ? null : found + 3;
}

/** The exact JWS a payload stands for; MalformedToken if it is damaged. */
export async function decodePayload(payload) {
  if (payload === '') throw new MalformedToken('payload is empty');
  if (!/^[0-9]+$/.test(payload)) return payload; // the plain-JWS fallback
  return unpack(payload);
}

class Unpacker {
  constructor(number) {
    this.rest = number;
  }

  take(radix) {
    const r = BigInt(radix);
    const value = this.rest % r;
    this.rest /= r;
    return value;
  }

  takeNumber(radix) {
    return Number(this.take(radix));
  }
}

class Packer {
  constructor() {
    this.fields = [];
  }

  put(value, radix) {
    this.fields.push([BigInt(value), BigInt(radix)]);
  }

  toDigits() {
    let number = 0n;
    for (let i = this.fields.length - 1; i >= 0; i -= 1) number = number * this.fields[i][1] + this.fields[i][0];
    return FORMAT_VERSION + number.toString();
  }
}

async function unpack(payload) {
  const unpacker = new Unpacker(payloadNumber(payload));
  const header = takeHeader(unpacker);
  const claims = takeClaims(unpacker);
  const signature = bigToBytes(unpacker.take(2n ** BigInt(8 * SIGNATURE_BYTES)), SIGNATURE_BYTES);
  const token = serialize(
    [['alg', header.alg], ['kid', header.kid], ['typ', 'skk+jwt']],
    claimMembers(claims), signature);
  const check = unpacker.takeNumber(CHECK_RADIX);
  if (unpacker.rest !== 0n) throw new MalformedToken('payload has data after its last field');
  if (check !== await checkValue(token)) throw new MalformedToken('payload is damaged or truncated (check value does not match)');
  // Every field above is range-checked; re-encoding catches the remaining second spellings.
  if (pack(header, claims, signature, check) !== payload) throw new MalformedToken('payload is not in canonical form');
  return token;
}

function payloadNumber(payload) {
  if (payload.length > MAX_PAYLOAD_DIGITS) throw new MalformedToken(`payload is longer than ${MAX_PAYLOAD_DIGITS} digits`);
  if (payload[0] !== FORMAT_VERSION) throw new MalformedToken(`unknown payload format version ${payload[0]}`);
  const digits = payload.slice(1);
  if (digits === '') throw new MalformedToken('payload has no data after its version digit');
  if (digits[0] === '0' && digits !== '0') throw new MalformedToken('payload has a leading zero after its version digit');
  return BigInt(digits);
}

/** Top field of a payload: the first 10 bits of SHA-256(token). */
export async function checkValue(token) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', asciiBytes(token)));
  return ((digest[0] << 8) | digest[1]) >> 6;
}

function takeHeader(unpacker) {
  const alg = ALGORITHMS[unpacker.takeNumber(2)];
  const kid = b64urlEncode(bigToBytes(unpacker.take(2n ** 96n), 12));
  return { alg, kid };
}

function takeClaims(unpacker) {
  const claims = { iss: takeWord(unpacker, ISS_ALPHABET) };
  const digitsOnly = unpacker.takeNumber(2) === 0;
  claims.jti = takeWord(unpacker, digitsOnly ? JTI_DIGITS : JTI_ALPHABET);
  [claims.iat, claims.nbf, claims.exp] = takeTimes(unpacker);
  claims.name = takeText(unpacker);
  claims.job = takeText(unpacker);
  claims.lvl = unpacker.takeNumber(9) + 1;
  if (unpacker.takeNumber(2)) {
    const letters = unpacker.takeNumber(26 * 26);
    const number = unpacker.takeNumber(10 ** 6);
    claims.jkc = `${CAPITALS[Math.floor(letters / 26)]}${CAPITALS[letters % 26]}${String(number).padStart(6, '0')}`;
  }
  return claims;
}

function claimMembers(claims) {
  const members = ['iss', 'jti', 'iat', 'nbf', 'exp', 'name', 'job', 'lvl'].map((name) => [name, claims[name]]);
  if (claims.jkc !== undefined) members.push(['jkc', claims.jkc]);
  return members;
}

function takeWord(unpacker, alphabet) {
  const length = unpacker.takeNumber(MAX_ID_LENGTH) + 1;
  let word = '';
  for (let i = 0; i < length; i += 1) word += alphabet[unpacker.takeNumber(alphabet.length)];
  return word;
}

function takeTimes(unpacker) {
  const iat = takeInstant(unpacker);
  const nbf = unpacker.takeNumber(2) === 0 ? iat : takeInstant(unpacker);
  if (unpacker.takeNumber(2)) return [iat, nbf, takeInstant(unpacker)];
  const exp = addFiveYears(nbf);
  if (exp === null) throw new MalformedToken('payload derives exp from an nbf too late for the calendar');
  return [iat, nbf, exp];
}

function takeInstant(unpacker) {
  if (unpacker.takeNumber(2) === 0) return EPOCH + unpacker.takeNumber(2 ** 32);
  return unpacker.takeNumber(INSTANT_RADIX);
}

function takeText(unpacker) {
  const mode = unpacker.takeNumber(4);
  const length = unpacker.takeNumber(MAX_TEXT_LENGTH + 1);
  const alphabet = mode === MIXED ? MIXED_ALPHABET : TEXT_ALPHABET;
  const chars = [];
  for (let i = 0; i < length; i += 1) {
    const index = unpacker.takeNumber(alphabet.length + 1);
    if (index < alphabet.length) {
      chars.push(alphabet[index]);
      continue;
    }
    const codePoint = unpacker.takeNumber(CODE_POINTS);
    if (codePoint >= 0xd800 && codePoint < 0xe000) throw new MalformedToken('payload text has a surrogate code point');
    const char = String.fromCodePoint(codePoint);
    if (MIXED_ALPHABET.includes(char)) throw new MalformedToken('payload escapes a character that needs no escape');
    chars.push(char);
  }
  const text = mode === MIXED ? chars.join('') : applyCase(mode, chars.join(''));
  if (caseMode(text) !== mode) throw new MalformedToken('payload text does not use the canonical case rule');
  return text;
}

function foldAscii(text) {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function caseMode(text) {
  const folded = foldAscii(text);
  for (const mode of [TITLE, UPPER, LOWER]) if (applyCase(mode, folded) === text) return mode;
  return MIXED;
}

function applyCase(mode, folded) {
  let out = '';
  let previous = null;
  for (let ch of folded) {
    const startsWord = previous === null || WORD_BREAKS.includes(previous);
    if (ch >= 'a' && ch <= 'z' && (mode === UPPER || (mode === TITLE && startsWord))) ch = ch.toUpperCase();
    out += ch;
    previous = ch;
  }
  return out;
}

// --- canonical re-encoding (qr_payload._pack of the rebuilt token) ---------------------------

function pack(header, claims, signature, check) {
  const packer = new Packer();
  packer.put(ALGORITHMS.indexOf(header.alg), ALGORITHMS.length);
  packer.put(bytesToBig(b64urlDecode(header.kid, 'kid')), 2n ** 96n);
  putWord(packer, claims.iss, ISS_ALPHABET);
  const digitsOnly = [...claims.jti].every((ch) => JTI_DIGITS.includes(ch));
  packer.put(digitsOnly ? 0 : 1, 2);
  putWord(packer, claims.jti, digitsOnly ? JTI_DIGITS : JTI_ALPHABET);
  putInstant(packer, claims.iat);
  packer.put(claims.nbf === claims.iat ? 0 : 1, 2);
  if (claims.nbf !== claims.iat) putInstant(packer, claims.nbf);
  const derived = claims.exp === addFiveYears(claims.nbf);
  packer.put(derived ? 0 : 1, 2);
  if (!derived) putInstant(packer, claims.exp);
  putText(packer, claims.name);
  putText(packer, claims.job);
  packer.put(claims.lvl - 1, 9);
  packer.put(claims.jkc === undefined ? 0 : 1, 2);
  if (claims.jkc !== undefined) {
    packer.put((claims.jkc.charCodeAt(0) - 65) * 26 + claims.jkc.charCodeAt(1) - 65, 26 * 26);
    packer.put(Number(claims.jkc.slice(2)), 10 ** 6);
  }
  packer.put(bytesToBig(signature), 2n ** BigInt(8 * SIGNATURE_BYTES));
  packer.put(check, CHECK_RADIX);
  return packer.toDigits();
}

function putWord(packer, word, alphabet) {
  packer.put(word.length - 1, MAX_ID_LENGTH);
  for (const ch of word) packer.put(alphabet.indexOf(ch), alphabet.length);
}

function putInstant(packer, value) {
  if (value >= EPOCH && value < EPOCH + 2 ** 32) {
    packer.put(0, 2);
    packer.put(value - EPOCH, 2 ** 32);
  } else {
    packer.put(1, 2);
    packer.put(value, INSTANT_RADIX);
  }
}

function putText(packer, text) {
  const mode = caseMode(text);
  const alphabet = mode === MIXED ? MIXED_ALPHABET : TEXT_ALPHABET;
  const chars = [...(mode === MIXED ? text : foldAscii(text))];
  packer.put(mode, 4);
  packer.put(chars.length, MAX_TEXT_LENGTH + 1);
  for (const ch of chars) {
    const index = alphabet.indexOf(ch);
    if (index >= 0) {
      packer.put(index, alphabet.length + 1);
    } else {
      packer.put(alphabet.length, alphabet.length + 1);
      packer.put(ch.codePointAt(0), CODE_POINTS);
    }
  }
}

function bigToBytes(number, length) {
  const out = new Uint8Array(length);
  let rest = number;
  for (let i = length - 1; i >= 0; i -= 1) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

function bytesToBig(bytes) {
  let number = 0n;
  for (const byte of bytes) number = (number << 8n) | BigInt(byte);
  return number;
}
