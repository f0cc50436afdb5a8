// What a certificate link asks, read as the server reads it: the payload after /v/ or /V/
// (percent-decoded as gunicorn and Werkzeug decode PATH_INFO, invalid UTF-8 replaced), and the
// page language (?lang= first, then the browser's languages, else Bahasa Indonesia).
import { pyStrip } from './text.js';

export const LANGUAGES = ['id', 'en'];
const DECODER = new TextDecoder('utf-8');

/** The payload a /v/ or /V/ path carries, or null for a path the verify page does not answer.
 * Werkzeug's route needs a non-empty payload; it redirects /v//x to /v/x, so leading slashes
 * of the payload go. */
export function payloadOf(pathname) {
  const path = percentDecoded(pathname);
  if (!/^\/[vV]\//.test(path)) return null;
  const payload = path.slice(3).replace(/^\/+/, '');
  return payload === '' ? null : payload;
}

/** A URL path with every %XX decoded to its byte, the bytes read as UTF-8 (errors replaced). */
export function percentDecoded(path) {
  const bytes = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < path.length; i += 1) {
    if (path[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
      bytes.push(parseInt(path.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = path.codePointAt(i);
      if (code > 0xffff) i += 1;
      bytes.push(...encoder.encode(String.fromCodePoint(code)));
    }
  }
  return DECODER.decode(new Uint8Array(bytes));
}

/** {language, asked}: the language a page is in, and whether the URL chose it. */
export function pageLanguage(url, browserLanguages) {
  const asked = pyStrip(url.searchParams.get('lang') ?? '').toLowerCase();
  if (LANGUAGES.includes(asked)) return { language: asked, asked: true };
  for (const tag of browserLanguages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (LANGUAGES.includes(primary)) return { language: primary, asked: false };
  }
  return { language: 'id', asked: false };
}
