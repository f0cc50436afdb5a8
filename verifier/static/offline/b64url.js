// Canonical, unpadded base64url (RFC 7515 §2), exactly as verifier/jws.py reads it: only the
// 64 URL-safe characters, no padding, no length of 1 mod 4, and no set bits in the unused low
// bits of the last character (a second spelling of the same bytes).
import { MalformedToken } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i += 1) VALUES[ALPHABET.charCodeAt(i)] = i;

/** Decode canonical unpadded base64url to bytes; MalformedToken naming `what` otherwise. */
export function b64urlDecode(segment, what = 'segment') {
  const length = segment.length;
  if (length % 4 === 1) throw new MalformedToken(`${what} is not unpadded base64url`);
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  let bits = 0;
  let count = 0;
  let o = 0;
  let last = 0;
  for (let i = 0; i < length; i += 1) {
    const code = segment.charCodeAt(i);
    const value = code < 128 ? VALUES[code] : -1;
    if (value < 0) throw new MalformedToken(`${what} is not unpadded base64url`);
    last = value;
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[o] = (bits >> count) & 0xff;
      o += 1;
    }
    bits &= 0xff;
  }
  // 2 (3) characters in the last group leave 4 (2) unused bits, which must be zero.
  if ((length % 4 === 2 && last % 16 !== 0) || (length % 4 === 3 && last % 4 !== 0)) {
    throw new MalformedToken(`${what} is not canonical base64url`);
  }
  return out;
}

/** Unpadded base64url of bytes. */
export function b64urlEncode(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  if (bytes.length - i === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
  } else if (bytes.length - i === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}
