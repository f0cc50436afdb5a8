// The gate log: the day's checks on this phone (time, number, name, job, level, status), shown
// with counts by status and exported as results.csv in the dialect Excel in Indonesian opens
// (";"-separated, UTF-8 with BOM, CRLF, formula-safe), like the cohort results.csv.

export const CSV_COLUMNS = ['time', 'number', 'name', 'job', 'level', 'status'];
const FORMULA_PREFIXES = ['=', '+', '-', '@', '\t', '\r'];

const two = (n) => String(n).padStart(2, '0');

/** Local date and time as `YYYY-MM-DD HH:MM:SS`. */
export function localTime(date) {
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} `
    + `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** One log entry from a §3 result object (credential fields only when it shows them). */
export function entryFor(result, when) {
  const c = result.credential;
  return { at: when.getTime(), time: localTime(when), number: c ? c.number : '',
    name: c ? c.holder_name : '', job: c ? c.job_title : '', level: c ? c.level : '', status: result.status };
}

/** True when the entry was made on the same local day as `now`. */
export function isToday(entry, now) {
  return localTime(new Date(entry.at)).slice(0, 10) === localTime(now).slice(0, 10);
}

/** Counts by status, most frequent first. */
export function countsByStatus(entries) {
  const counts = new Map();
  for (const entry of entries) counts.set(entry.status, (counts.get(entry.status) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function cell(value) {
  let text = String(value);
  if (FORMULA_PREFIXES.some((prefix) => text.startsWith(prefix))) text = `'${text}`;
  return /[;"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** results.csv of the entries. */
export function toCsv(entries) {
  const rows = [CSV_COLUMNS, ...entries.map((e) => CSV_COLUMNS.map((column) => e[column]))];
  return `\ufeff${rows.map((row) => row.map(cell).join(';')).join('\r\n')}\r\n`;
}
