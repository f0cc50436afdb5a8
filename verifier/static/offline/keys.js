// Public keys and signature checks with WebCrypto, as verifier/keys.py: Ed25519 (EdDSA, RFC 8037)
// and P-256 (ES256, RFC 7518 §3.4), 64-byte signatures, S < L for Ed25519 and 1 <= r, s < n for
// ECDSA checked before the library sees them, and never an exception: a bad signature is false.
import { b64urlDecode } from './b64url.js';

const SIGNATURE_LENGTH = 64;
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n;

/** A verifying key from a public JWK of the given algorithm (the bundle vouches for both). */
export async function importVerifyingKey(alg, jwk) {
  if (alg === 'EdDSA') {
    const x = b64urlDecode(jwk.x, 'JWK x');
    return { alg, key: await crypto.subtle.importKey('raw', x, { name: 'Ed25519' }, false, ['verify']) };
  }
  if (alg === 'ES256') {
    const point = new Uint8Array(65);
    point[0] = 4;
    point.set(b64urlDecode(jwk.x, 'JWK x'), 1);
    point.set(b64urlDecode(jwk.y, 'JWK y'), 33);
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
    return { alg, key: await crypto.subtle.importKey('raw', point, algorithm, false, ['verify']) };
  }
  throw new Error(`unsupported algorithm ${alg}`);
}

/** True only for a valid signature over `data`; false for anything else. */
export async function verifySignature(verifyingKey, data, signature) {
  if (signature.length !== SIGNATURE_LENGTH) return false;
  try {
    if (verifyingKey.alg === 'EdDSA') {
      // RFC 8032 §5.1.7: S < L, checked here too so a malleated signature fails everywhere.
      if (littleEndian(signature.subarray(32)) >= ED25519_ORDER) return false;
      return await crypto.subtle.verify({ name: 'Ed25519' }, verifyingKey.key, signature, data);
    }
    const r = bigEndian(signature.subarray(0, 32));
    const s = bigEndian(signature.subarray(32));
    if (!(r > 0n && r < P256_ORDER && s > 0n && s < P256_ORDER)) return false; // CVE-2022-21449
    return await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifyingKey.key, signature, data);
  } catch {
    return false;
  }
}

// RFC 8032 §7.1, test 1: a public key and its signature of the empty message.
const RFC8032_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIGNATURE = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const fromHex = (hex) => Uint8Array.from(hex.match(/../g), (byte) => parseInt(byte, 16));

/** True when this browser's WebCrypto verifies Ed25519 (Chrome 137+, Safari 17+, Firefox 129+).
 * Without it every Ed25519 signature would look forged, so the app refuses to check offline. */
export async function supportsEd25519() {
  try {
    const key = await crypto.subtle.importKey('raw', fromHex(RFC8032_KEY), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, fromHex(RFC8032_SIGNATURE), new Uint8Array(0));
  } catch {
    return false;
  }
}

function bigEndian(bytes) {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return n;
}

function littleEndian(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i -= 1) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}
