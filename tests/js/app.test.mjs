// The small pieces of the offline app: reading certificate links as the server does, the gate
// log and its CSV, continuous scanning, text rules and date patterns.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatPattern } from '../../verifier/static/offline/dates.js';
import { supportsEd25519 } from '../../verifier/static/offline/keys.js';
import { countsByStatus, entryFor, isToday, localTime, toCsv } from '../../verifier/static/offline/gatelog.js';
import { pageLanguage, payloadOf, percentDecoded } from '../../verifier/static/offline/navigation.js';
import { scanLoop } from '../../verifier/static/offline/scan.js';
import { checkText, codePointLength, escapeHtml, pyStrip, pySingleSpaced } from '../../verifier/static/offline/text.js';
import { addFiveYears, toIso } from '../../verifier/static/offline/time.js';

test('certificate links are read as Werkzeug routes and decodes them', () => {
  assert.equal(payloadOf('/V/123'), '123');
  assert.equal(payloadOf('/v/abc//def'), 'abc//def');
  assert.equal(payloadOf('/v//abc'), 'abc'); // the server redirects to /v/abc
  assert.equal(payloadOf('/v/%2Fabc'), 'abc');
  assert.equal(payloadOf('/v/'), null);
  assert.equal(payloadOf('//v/abc'), null);
  assert.equal(payloadOf('/x/v/abc'), null);
  assert.equal(payloadOf('/v/a%20b%0A'), 'a b\n');
  assert.equal(percentDecoded('/v/x%C3%28y%zz%e2%82%ac'), '/v/x\ufffd(y%zz€');
});

test('the page language: ?lang= first, then the browser, else Indonesian', () => {
  const url = (query) => new URL(`https://sertifikat.example.id/V/1${query}`);
  assert.deepEqual(pageLanguage(url('?lang=EN '), ['id-ID']), { language: 'en', asked: true });
  assert.deepEqual(pageLanguage(url('?lang=fr'), ['en-US', 'id']), { language: 'en', asked: false });
  assert.deepEqual(pageLanguage(url(''), ['fr-FR', 'id-ID', 'en']), { language: 'id', asked: false });
  assert.deepEqual(pageLanguage(url(''), ['fr-FR']), { language: 'id', asked: false });
});

test('the gate log keeps the day and writes results.csv as Excel in Indonesian reads it', () => {
  const when = new Date(2026, 0, 15, 7, 5, 9);
  const valid = entryFor({ status: 'valid', credential: { number: 'DEMO 0001 2026', holder_name: 'Rina; "R" Marlina', job_title: '=SUM(A1)', level: 3 } }, when);
  const forged = entryFor({ status: 'bad_signature', credential: null }, when);
  assert.equal(valid.time, '2026-01-15 07:05:09');
  assert.deepEqual([forged.number, forged.name, forged.level], ['', '', '']);
  assert.ok(isToday(valid, new Date(2026, 0, 15, 23, 59)) && !isToday(valid, new Date(2026, 0, 16, 0, 0)));
  assert.deepEqual(countsByStatus([valid, forged, valid]), [['valid', 2], ['bad_signature', 1]]);
  assert.equal(toCsv([valid, forged]), '\ufefftime;number;name;job;level;status\r\n'
    + '2026-01-15 07:05:09;DEMO 0001 2026;"Rina; ""R"" Marlina";\'=SUM(A1);3;valid\r\n'
    + '2026-01-15 07:05:09;;;;;bad_signature\r\n');
  assert.equal(localTime(new Date(2026, 11, 31, 23, 0, 0)), '2026-12-31 23:00:00');
});

test('scanning reports each code once until another is seen or time passes', async () => {
  let now = 0;
  const frames = [['A'], ['A'], ['A', 'B'], [], ['B'], ['A']];
  const seen = [];
  let resolveDone;
  const done = new Promise((resolve) => { resolveDone = resolve; });
  const stop = scanLoop({
    detect: async () => {
      const frame = frames.shift();
      if (frame === undefined) resolveDone();
      return frame ?? [];
    },
    onCode: async (code) => { seen.push(code); },
    clock: () => now,
    wait: async () => { now += 1000; },
  });
  await done;
  stop();
  assert.deepEqual(seen, ['A', 'B', 'A']);
  now = 0;
  const again = [];
  const frames2 = [['A'], ['A'], ['A'], ['A'], ['A'], ['A'], ['A']];
  let finish;
  const over = new Promise((resolve) => { finish = resolve; });
  const stop2 = scanLoop({ detect: async () => { const f = frames2.shift(); if (!f) finish(); return f ?? []; },
    onCode: async (code) => { again.push(code); }, clock: () => now, wait: async () => { now += 1000; } });
  await over;
  stop2();
  assert.deepEqual(again, ['A', 'A']); // the same certificate again after five seconds
});

test('text rules follow Python: white space, code points, NFC, invisible characters', () => {
  assert.equal(pyStrip('\u00a0\u3000 x \u0085\u001f'), 'x');
  assert.equal(pyStrip('\ufeffx'), '\ufeffx'); // not white space to Python
  assert.equal(pySingleSpaced(' a \t b\u2003c '), 'a b c');
  assert.equal(codePointLength('😀é'), 2);
  assert.equal(checkText('😀'.repeat(100), 'x'), '😀'.repeat(100));
  assert.throws(() => checkText('😀'.repeat(101), 'x'), /at most 100/);
  assert.throws(() => checkText('Rene\u0301', 'x'), /NFC/);
  assert.throws(() => checkText('Rina\u200b', 'x'), /invisible/);
  assert.throws(() => checkText(' \u3000', 'x'), /non-empty/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('dates: ISO 8601 to 2**53, five calendar years, CLDR patterns', () => {
  assert.equal(toIso(0), '1970-01-01T00:00:00Z');
  assert.equal(toIso(2 ** 53), '285428751-11-12T07:36:32Z');
  assert.equal(toIso(253402300799), '9999-12-31T23:59:59Z');
  assert.equal(toIso(1709164800), '2024-02-29T00:00:00Z');
  assert.equal(toIso(addFiveYears(1709164800)), '2029-02-28T00:00:00Z');
  assert.equal(addFiveYears(253402300799 - 4 * 365 * 86400), null);
  const dates = { months: ['Januari', 'Februari'], am: 'AM', pm: 'PM' };
  const parts = { year: 2026, month: 2, day: 5, hour: 0, minute: 7, second: 9 };
  assert.equal(formatPattern("d MMMM y 'jam' HH.mm", parts, dates), '5 Februari 2026 jam 00.07');
  assert.equal(formatPattern('h:mm\u202fa, dd/MM/yy', parts, dates), '12:07\u202fAM, 05/02/26');
  assert.throws(() => formatPattern('EEEE', parts, dates), /not supported/);
});

test('WebCrypto here verifies Ed25519 (RFC 8032 test 1), as the app requires', async () => {
  assert.equal(await supportsEd25519(), true);
});
