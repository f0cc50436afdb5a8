// The verdict page, as the server renders verify.html (templates/_verdict.html and base.html),
// so that an offline answer looks and reads exactly like an online one. The words come from the
// server's page pack (the gettext catalog of each language); the markup here follows the
// template line by line, and the parity tests compare both outputs byte for byte.
import { moment } from './dates.js';
import { escapeHtml } from './text.js';
import { SHOWS_CREDENTIAL } from './verify.js';
import { toIso } from './time.js';

const DAY = 86400;
const EXPIRY_WARNING_SECONDS = 90 * DAY;
/** Markers in the pack's page shells and note fragments. */
export const MARKS = { verdict: '@@verdict@@', langQuery: '@@lang-query@@', date: '@@date@@' };
const KINDS = { valid: 'valid', revoked: 'revoked', suspended: 'suspended', expired: 'expired',
  not_yet_valid: 'not_yet_valid', stale_data: 'stale_data' };

class Markup {
  constructor(html) {
    this.html = html;
  }

  toString() {
    return this.html;
  }
}

/** Translator over one language of the pack: Jinja's newstyle gettext with autoescaping (the
 * message is markup, interpolated values are escaped unless they are markup themselves). */
export function translator(language) {
  const format = (message, variables) => message.replace(/%\((\w+)\)([sd])|%%/g, (whole, name, kind) => {
    if (whole === '%%') return '%';
    const value = variables[name];
    if (kind === 'd') return String(Math.trunc(value));
    return value instanceof Markup ? value.html : escapeHtml(value);
  });
  const gettext = (msgid, variables = {}) => new Markup(format(language.messages[msgid] ?? msgid, variables));
  gettext.plural = (msgid, count, variables = {}) => {
    const forms = language.plurals[msgid];
    return new Markup(format(forms[count === 1 ? 0 : 1], { num: count, ...variables }));
  };
  return gettext;
}

/** The view verdict_view makes of a result (page_model.py). */
export function verdictView(result, dates) {
  const kind = KINDS[result.status] ?? 'invalid';
  const shown = SHOWS_CREDENTIAL.has(result.status) && result.credential && result.agency;
  const c = result.credential;
  const credential = shown ? {
    number: c.number, holderName: c.holderName, jobTitle: c.jobTitle, jobCode: c.jobCode, level: c.level,
    levelGroup: c.level <= 3 ? 'operator' : c.level <= 6 ? 'technician' : 'expert',
    agencyName: result.agency.name, validFrom: moment(c.validFrom, dates), expiresAt: moment(c.expiresAt, dates),
  } : null;
  const revocation = credential ? result.revocation : null;
  return {
    status: result.status, kind, checkedAt: moment(result.checkedAt, dates), credential,
    revocationReason: revocation ? revocation.reason : null,
    revocationAt: revocation ? moment(revocation.at, dates) : null,
    expiresInDays: daysLeft(result),
  };
}

function daysLeft(result) {
  if (result.status !== 'valid' || !result.credential) return null;
  const remaining = result.credential.expiresAt - result.checkedAt;
  if (remaining >= EXPIRY_WARNING_SECONDS) return null;
  return Math.max(1, Math.ceil(remaining / DAY));
}

/** The verdict block (the `verdict` macro of _verdict.html). */
export function renderVerdict(view, { _, officialDomain, langQuery, heading = 'h1' }) {
  const when = (m) => new Markup(`<time datetime="${escapeHtml(m.iso)}">${
    m.date ? _('%(date)s %(time)s WIB', { date: m.date, time: m.time }) : escapeHtml(m.iso)}</time>`);
  const words = { valid: _('VALID'), revoked: _('REVOKED'), suspended: _('SUSPENDED'), expired: _('EXPIRED'),
    not_yet_valid: _('NOT YET VALID'), stale_data: _('DATA TOO OLD'), invalid: _('NOT VALID') };
  const subs = { valid: _('Genuine certificate, valid today'), revoked: _('Revoked by the issuing agency'),
    suspended: _('Not valid while suspended'), expired: _('Validity period has ended'),
    not_yet_valid: _('Validity period has not started'), stale_data: _('Genuine, but the offline data is out of date'),
    invalid: _('FORGED OR UNKNOWN') };
  const tone = { valid: 'valid', revoked: 'invalid', invalid: 'invalid' }[view.kind] ?? 'warn';
  const glyph = { valid: '✓', revoked: '✗', invalid: '✗' }[view.kind] ?? '!';
  const c = view.credential;
  let html = `\n<section class="verdict t-${tone}" aria-labelledby="verdict-word" data-status="${escapeHtml(view.status)}">`
    + `\n<span class="glyph" aria-hidden="true">${glyph}</span>`
    + `\n<${heading} class="word" id="verdict-word">${words[view.kind]}</${heading}>`
    + `\n<span class="sub">${subs[view.kind]}</span>\n</section>`;
  if (view.expiresInDays) {
    html += '\n<div class="box alert" role="alert">'
      + `\n<p>⚠ ${_.plural('This certificate expires in %(num)d day, on %(date)s.', view.expiresInDays, { date: when(c.expiresAt) })}</p>`
      + `\n<p>${_('The worker should apply for a new certificate soon.')}</p>\n</div>`;
  }
  if (c) {
    const groups = { operator: _('Operator'), technician: _('Technician / Analyst'), expert: _('Expert') };
    html += '\n<dl class="details">'
      + `\n<dt>${_('Holder name')}</dt>\n<dd class="holder">${escapeHtml(c.holderName)}</dd>`
      + `\n<dt>${_('Job title')}</dt>\n<dd>${escapeHtml(c.jobTitle)}${c.jobCode ? ` (${escapeHtml(c.jobCode)})` : ''}</dd>`
      + `\n<dt>${_('Level')}</dt>\n<dd>${_('KKNI level %(level)s', { level: c.level })} · ${groups[c.levelGroup]}</dd>`
      + `\n<dt>${_('Issuing agency')}</dt>\n<dd>${escapeHtml(c.agencyName)}</dd>`
      + `\n<dt>${_('Certificate number')}</dt>\n<dd>${escapeHtml(c.number)}</dd>`
      + `\n<dt>${_('Valid from')}</dt>\n<dd>${when(c.validFrom)}</dd>`
      + `\n<dt>${_('Valid until')}</dt>\n<dd>${when(c.expiresAt)}</dd>\n</dl>`;
  }
  const safety = safetyBox(_, officialDomain);
  const why = whyBox(view, { _, when, langQuery });
  html += view.kind === 'valid' ? safety + why : why + safety;
  return `${html}\n<p class="muted">${_('Checked at %(date)s.', { date: when(view.checkedAt) })}</p>`;
}

function whyBox(view, { _, when, langQuery }) {
  const c = view.credential;
  const reasons = {
    valid: 'The certificate was issued by a registered agency, its digital signature is genuine, and it is neither revoked nor suspended nor expired.',
    revoked: 'The issuing agency has withdrawn this certificate for good. It can no longer be used.',
    suspended: 'The issuing agency has suspended this certificate for now, for example while a complaint is investigated. It cannot be used while suspended.',
    expired: 'An SKK certificate is valid for five years. This one has passed its end date.',
    not_yet_valid: 'The start date of this certificate has not arrived yet.',
    malformed: 'This code is not an SKK certificate that can be read. The QR code may be damaged or incomplete, or it was not made by a certificate issuer.',
    unknown_issuer: 'The issuer named in this certificate is not a registered agency.',
    unknown_key: 'The certificate was signed with a key that does not belong to the issuing agency.',
    bad_signature: 'The digital signature does not match: the certificate was forged, or changed after it was issued.',
    key_revoked: "The issuing agency's signing key has been withdrawn, so certificates signed with it can no longer be trusted.",
    level_not_authorized: 'The issuer is not authorised to certify this competency level.',
    stale_data: 'The certificate and its digital signature are genuine, and the offline data on this phone shows it as valid, but that data is past its time limit: a revocation or suspension made since cannot be ruled out.',
  };
  const revocationReasons = { fraud: 'fraud or forgery', misuse: 'misuse (lent or rented to someone else)',
    data_error: 'error in the certificate data', holder_request: "at the holder's request",
    superseded: 'replaced by a new certificate', investigation: 'under investigation', other: 'other reason' };
  let html = `\n<div class="box${view.kind !== 'valid' ? ' stop' : ''}">\n<h2>${_('Why')}</h2>\n<p>${_(reasons[view.status])}</p>`;
  if (view.revocationReason && (view.kind === 'revoked' || view.kind === 'suspended')) {
    const reason = Object.hasOwn(revocationReasons, view.revocationReason)
      ? _(revocationReasons[view.revocationReason]) : view.revocationReason;
    html += `\n<p>${_('Reason given by the agency: %(reason)s, since %(date)s.', { reason, date: when(view.revocationAt) })}</p>`;
  }
  if (view.kind === 'expired') html += `<p>${_('Valid until %(date)s.', { date: when(c.expiresAt) })}</p>`;
  if (view.kind === 'not_yet_valid') html += `<p>${_('Valid from %(date)s.', { date: when(c.validFrom) })}</p>`;
  const strong = (msgid) => `<strong>${_(msgid)}</strong>`;
  const todo = {
    valid: [_('The worker may do this job at this level, once the name matches their KTP.')],
    revoked: [strong('Do not let the worker start work that needs this certificate.'), _('For questions, contact the issuing agency named above.')],
    suspended: [strong('Do not let the worker start work that needs this certificate until the suspension is lifted.'), _('Ask the worker to contact the issuing agency named above.')],
    expired: [strong('Do not accept this certificate.'), _('The worker needs a new certificate; ask for the new one.')],
    not_yet_valid: [strong('Do not accept this certificate before its start date.'), _('If the date looks wrong, contact the issuing agency named above.')],
    stale_data: [strong('Do not accept this certificate until it has been checked with up-to-date data.'), _('Check again where there is signal, or open the offline check page once with signal to refresh its data.')],
    invalid: [strong('Do not let the worker start work that needs this certificate.'),
      _('If the QR code is damaged, dirty or creased, scan it again in good light, or check by certificate number with the manual check below.'),
      _('If it still fails, keep a photo of the certificate and report it to the agency named on the paper, using contact details from its official website, not from the certificate.')],
  }[view.kind];
  html += `\n<h2>${_('What to do')}</h2>\n<ul>${todo.map((item) => `\n<li>${item}</li>`).join('')}\n</ul>`;
  if (view.kind === 'invalid') html += `\n<a class="button" href="/cek${escapeHtml(langQuery)}">${_('Manual check')}</a>`;
  return `${html}\n</div>`;
}

function safetyBox(_, officialDomain) {
  const domain = new Markup(`<strong>${escapeHtml(officialDomain)}</strong>`);
  return '\n<div class="box safety">'
    + `\n<h2>${_('Before you accept the worker')}</h2>\n<ol>`
    + `\n<li>${_("Compare the holder name with the worker's KTP (identity card). If the names differ, do not accept: certificates are sometimes borrowed or rented.")}</li>`
    + `\n<li>${_("Make sure the browser's address bar shows %(domain)s. A forged QR code can open a look-alike site that shows a fake result.", { domain })}</li>`
    + '\n</ol>\n</div>';
}

/** How old data may be before the offline line turns into a warning (EU apps: 24 hours). */
export const WARN_AGE_SECONDS = DAY;

/** The whole offline page: the pack's shell with the verdict, `data-offline` on the verdict
 * section and the "checked without internet, data as of …" line (a warning past a day). */
export function renderOfflinePage(result, { pack, language, asked, dataAsOf, now }) {
  const texts = pack.languages[language];
  const _ = translator(texts);
  const langQuery = asked ? `?lang=${language}` : '';
  const view = verdictView(result, texts.dates);
  const verdict = renderVerdict(view, { _, officialDomain: pack.official_domain, langQuery })
    .replace(/(<section class="verdict[^>]*data-status="[^"]*")/, `$1 data-offline="${toIso(dataAsOf)}"`);
  const old = now - dataAsOf >= WARN_AGE_SECONDS;
  const date = moment(dataAsOf, texts.dates);
  const stamp = `<time datetime="${date.iso}">${date.date ? _('%(date)s %(time)s WIB', { date: date.date, time: date.time }) : date.iso}</time>`;
  const note = (old ? texts.notes.old : texts.notes.fresh).replaceAll(MARKS.date, stamp);
  const withNote = verdict.replace('\n</section>', `\n</section>\n${note}`);
  return fillShell(texts.shell, withNote, langQuery);
}

/** A pack shell with its body and language query filled in. */
export function fillShell(shell, body, langQuery) {
  return shell.replaceAll(MARKS.langQuery, langQuery).replace(MARKS.verdict, () => body);
}
