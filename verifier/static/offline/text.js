// Text rules shared with verifier/credential.py: Python's notion of white space (str.isspace),
// code-point lengths, NFC, the refused Unicode categories, and HTML escaping as MarkupSafe does.

// Exactly the characters for which Python's str.isspace() is true.
const SPACE = '\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002' +
  '\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
const SPACE_RUN = new RegExp(`[${SPACE}]+`, 'g');
const LEADING = new RegExp(`^[${SPACE}]+`);
const TRAILING = new RegExp(`[${SPACE}]+$`);
// Controls, format characters (bidi overrides, zero-width joiners, BOM), surrogates, private use,
// line and paragraph separators: never in a name or job title (credential._FORBIDDEN_CATEGORIES).
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const HTML = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** Python's str.strip() with no argument. */
export function pyStrip(text) {
  return text.replace(LEADING, '').replace(TRAILING, '');
}

/** Python's " ".join(text.split()). */
export function pySingleSpaced(text) {
  return pyStrip(text).replace(SPACE_RUN, ' ');
}

/** Number of code points (Python's len). */
export function codePointLength(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** credential.check_text: non-empty NFC text of at most `maxLength` code points, nothing
 * invisible; throws Error naming `what` otherwise. */
export function checkText(value, what, maxLength = 100) {
  if (typeof value !== 'string' || pyStrip(value) === '') throw new Error(`${what} must be non-empty text`);
  if (codePointLength(value) > maxLength) throw new Error(`${what} must be at most ${maxLength} characters`);
  if (PRINTABLE_ASCII.test(value)) return value;
  if (value.normalize('NFC') !== value) throw new Error(`${what} must be in Unicode NFC form`);
  if (FORBIDDEN.test(value)) throw new Error(`${what} has control, invisible or direction-changing characters`);
  return value;
}

/** Text as MarkupSafe escapes it for the page (& < > " '). */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => HTML[c]);
}
