// Strict JSON as verifier/jws.py parses it (Python's json module plus our hooks), value for
// value: UTF-8 only (no BOM, no surrogates, no overlong forms), no duplicate members, no NaN or
// Infinity, integers of at most 16 digits, finite floats, no lone surrogates from \u escapes,
// at most MAX_JSON_DEPTH levels of nesting. JSON.parse accepts duplicates and big numbers, so
// it is not used for anything that must agree with the server.
//
// Values: objects are Maps (member order kept, no prototype keys); integers within ±2**53 are
// numbers and larger ones BigInts, so `typeof value === 'number'` is Python's `type(v) is int`
// with |v| <= 2**53; floats are JsonFloat, so `1.0` is never mistaken for the integer 1.
import { MalformedToken } from './errors.js';

export const MAX_JSON_DEPTH = 100;
const MAX_INT_DIGITS = 16;
const LIMIT = 2n ** 53n;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A JSON number written with a fraction or exponent (Python float). */
export class JsonFloat {
  constructor(value) {
    this.value = value;
  }
}

/** Strict UTF-8 JSON object from bytes; MalformedToken naming `what` on any deviation. */
export function parseJsonObject(bytes, what) {
  let text;
  try {
    text = DECODER.decode(bytes);
  } catch {
    throw new MalformedToken(`${what} is not valid JSON`);
  }
  if (text.startsWith('\ufeff')) throw new MalformedToken(`${what} starts with a byte-order mark`);
  const value = parseJsonText(text, what);
  if (!(value instanceof Map)) throw new MalformedToken(`${what} is not a JSON object`);
  return value;
}

/** Strict JSON value from text (whitespace around it allowed, as Python's decoder does). */
export function parseJsonText(text, what = 'JSON') {
  const parser = new Parser(text, what);
  parser.space();
  const value = parser.value(1);
  parser.space();
  if (parser.at !== text.length) parser.fail();
  return value;
}

class Parser {
  constructor(text, what) {
    this.text = text;
    this.what = what;
    this.at = 0;
  }

  fail(message = `${this.what} is not valid JSON`) {
    throw new MalformedToken(message);
  }

  space() {
    const text = this.text;
    let at = this.at;
    for (;;) {
      const c = text.charCodeAt(at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      at += 1;
    }
    this.at = at;
  }

  value(depth) {
    const c = this.text[this.at];
    if (c === '"') return this.string();
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    for (const [word, constant] of WORDS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        if (constant === REFUSED) this.fail(`JSON constant ${word} is not allowed`);
        return constant;
      }
    }
    return this.number();
  }

  object(depth) {
    if (depth > MAX_JSON_DEPTH) this.nestedTooDeep();
    this.at += 1;
    const map = new Map();
    this.space();
    if (this.text[this.at] === '}') {
      this.at += 1;
      return map;
    }
    for (;;) {
      if (this.text[this.at] !== '"') this.fail();
      const key = this.string();
      this.space();
      if (this.text[this.at] !== ':') this.fail();
      this.at += 1;
      this.space();
      const item = this.value(depth + 1);
      if (map.has(key)) this.fail('JSON object has a duplicate member');
      map.set(key, item);
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === '}') return map;
      if (next !== ',') this.fail();
      this.space();
    }
  }

  array(depth) {
    if (depth > MAX_JSON_DEPTH) this.nestedTooDeep();
    this.at += 1;
    const items = [];
    this.space();
    if (this.text[this.at] === ']') {
      this.at += 1;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === ']') return items;
      if (next !== ',') this.fail();
      this.space();
    }
  }

  nestedTooDeep() {
    this.fail(`${this.what} nests arrays or objects more than ${MAX_JSON_DEPTH} deep`);
  }

  string() {
    const text = this.text;
    let at = this.at + 1;
    let out = '';
    let escapedUnit = false;
    for (;;) {
      PLAIN_RUN.lastIndex = at;
      PLAIN_RUN.exec(text);
      out += text.slice(at, PLAIN_RUN.lastIndex);
      at = PLAIN_RUN.lastIndex;
      const c = text[at];
      if (c === '"') break;
      if (c !== '\\') this.fail(); // end of text, or a raw control character
      const kind = text[at + 1];
      if (kind === 'u') {
        const hex = text.slice(at + 2, at + 6);
        if (!HEX4.test(hex)) this.fail();
        out += String.fromCharCode(parseInt(hex, 16));
        escapedUnit = true;
        at += 6;
      } else if (kind !== undefined && Object.hasOwn(ESCAPES, kind)) {
        out += ESCAPES[kind];
        at += 2;
      } else {
        this.fail();
      }
    }
    this.at = at + 1;
    // Strict UTF-8 cannot carry a surrogate, so only a \u escape can make a lone one.
    if (escapedUnit && hasLoneSurrogate(out)) this.fail(`${this.what} has a lone surrogate`);
    return out;
  }

  number() {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail();
    this.at = NUMBER.lastIndex;
    const literal = match[0];
    if (match[1] !== undefined || match[2] !== undefined) {
      const value = Number(literal);
      if (!Number.isFinite(value)) this.fail('JSON number is out of range');
      return new JsonFloat(value);
    }
    if (literal.replace('-', '').length > MAX_INT_DIGITS) this.fail('JSON number is too large');
    const big = BigInt(literal);
    return big <= LIMIT && big >= -LIMIT ? Number(big) : big;
  }
}

const REFUSED = Symbol('refused');
// Longest first where one is a prefix of another ("-Infinity" before a number's "-").
const WORDS = [['null', null], ['true', true], ['false', false], ['NaN', REFUSED],
  ['Infinity', REFUSED], ['-Infinity', REFUSED]];

/** True when a UTF-16 string holds a surrogate that is not half of a pair. */
export function hasLoneSurrogate(text) {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i += 1;
        continue;
      }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}
