// Instants as the pages print them (verifier/web/page_model.moment): date and time in WIB
// (UTC+7, Asia/Jakarta since 1964) with the language's CLDR patterns and month names, which the
// server hands over in its page pack; ISO 8601 alone past year 9999, where Python's datetime ends.
import { toIso, utcParts } from './time.js';

const WIB_OFFSET = 7 * 3600;
const LAST_DATETIME = 253402300799; // 9999-12-31T23:59:59Z

/** {date, time, iso} of an instant; date and time are empty past year 9999 in WIB. */
export function moment(instant, dates) {
  const iso = toIso(instant);
  if (instant + WIB_OFFSET > LAST_DATETIME) return { date: '', time: '', iso };
  const local = utcParts(instant + WIB_OFFSET);
  return { date: formatPattern(dates.date, local, dates), time: formatPattern(dates.time, local, dates), iso };
}

const FIELD = /'([^']|'')*'|([A-Za-z])\2*|[^'A-Za-z]+/g;

/** An LDML date pattern (the subset Babel's id and en patterns use) applied to civil parts. */
export function formatPattern(pattern, p, dates) {
  return pattern.replace(FIELD, (token) => {
    if (token[0] === "'") return token === "''" ? "'" : token.slice(1, -1).replaceAll("''", "'");
    if (!/^[A-Za-z]/.test(token)) return token;
    const width = token.length;
    const pad = (value) => String(value).padStart(width, '0');
    switch (token[0]) {
      case 'd': return pad(p.day);
      case 'M': return width >= 4 ? dates.months[p.month - 1] : pad(p.month);
      case 'y': return width === 2 ? String(p.year % 100).padStart(2, '0') : pad(p.year);
      case 'H': return pad(p.hour);
      case 'h': return pad(p.hour % 12 === 0 ? 12 : p.hour % 12);
      case 'm': return pad(p.minute);
      case 's': return pad(p.second);
      case 'a': return p.hour >= 12 ? dates.pm : dates.am;
      default: throw new Error(`date pattern field ${token} is not supported`);
    }
  });
}
