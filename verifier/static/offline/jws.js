// Strict JWS Compact Serialization (RFC 7515 §3.1, §7.1) with no cryptography, as
// verifier/jws.py: three canonical base64url segments, strict JSON header and payload.
import { b64urlDecode, b64urlEncode } from './b64url.js';
import { MalformedToken } from './errors.js';
import { parseJsonObject } from './strict-json.js';

/** Longest token looked at (Python counts code points; anything non-ASCII fails anyway). */
export const MAX_TOKEN_LENGTH = 4096;
const ENCODER = new TextEncoder();

/** {header, payload, signingInput, signature} of a token; MalformedToken on any deviation. */
export function parseToken(token) {
  if ([...token].length > MAX_TOKEN_LENGTH) throw new MalformedToken('token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new MalformedToken('token must have exactly three segments');
  const [headerB64, payloadB64, signatureB64] = parts;
  const header = parseJsonObject(b64urlDecode(headerB64, 'header'), 'header');
  const payload = parseJsonObject(b64urlDecode(payloadB64, 'payload'), 'payload');
  const signature = b64urlDecode(signatureB64, 'signature');
  return { header, payload, signingInput: asciiBytes(`${headerB64}.${payloadB64}`), signature };
}

/** Bytes of an ASCII string. */
export function asciiBytes(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) out[i] = text.charCodeAt(i);
  return out;
}

/** Python's json.dumps(obj, separators=(",", ":"), ensure_ascii=False) of an object whose
 * values are strings and safe integers, members in the order given. */
export function canonicalJson(members) {
  const body = members.map(([name, value]) => `${jsonString(name)}:${typeof value === 'number' ? String(value) : jsonString(value)}`);
  return `{${body.join(',')}}`;
}

const SHORT_ESCAPES = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function jsonString(text) {
  return `"${text.replace(/["\\\u0000-\u001f]/g, (c) => SHORT_ESCAPES[c]
    ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** The compact JWS of ordered header and claims members and signature bytes. */
export function serialize(headerMembers, claimMembers, signature) {
  const head = b64urlEncode(ENCODER.encode(canonicalJson(headerMembers)));
  const body = b64urlEncode(ENCODER.encode(canonicalJson(claimMembers)));
  return `${head}.${body}.${b64urlEncode(signature)}`;
}
