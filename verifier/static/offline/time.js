// NumericDate arithmetic as verifier/credential.py does it: ISO 8601 for any instant up to
// 2**53 (years past 9999 too), and five calendar years on (29 February becomes 28 February).

const DAY = 86400;

/** Proleptic Gregorian civil date of a day count since 1970-01-01 (H. Hinnant's algorithm). */
export function civilFromDays(days) {
  const shifted = days + 719468;
  const era = Math.floor(shifted / 146097);
  const dayOfEra = shifted - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524)
    - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

/** Day count since 1970-01-01 of a civil date (the inverse of civilFromDays). */
export function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** The parts of an instant (seconds since the epoch, UTC). */
export function utcParts(instant) {
  const days = Math.floor(instant / DAY);
  const seconds = instant - days * DAY;
  return { ...civilFromDays(days), hour: Math.floor(seconds / 3600),
    minute: Math.floor((seconds % 3600) / 60), second: seconds % 60 };
}

const two = (n) => String(n).padStart(2, '0');

/** `YYYY-MM-DDTHH:MM:SSZ` (credential.to_iso). */
export function toIso(instant) {
  const p = utcParts(instant);
  return `${String(p.year).padStart(4, '0')}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}:${two(p.second)}Z`;
}

/** credential.add_years(instant, 5), or null where Python's datetime ends (year 9999). */
export function addFiveYears(instant) {
  const p = utcParts(instant);
  if (p.year > 9999 || p.year + 5 > 9999) return null;
  const leapDayLost = p.month === 2 && p.day === 29 && !isLeap(p.year + 5);
  const day = leapDayLost ? 28 : p.day;
  return daysFromCivil(p.year + 5, p.month, day) * DAY + p.hour * 3600 + p.minute * 60 + p.second;
}

function isLeap(year) {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
