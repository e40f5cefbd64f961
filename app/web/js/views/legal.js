// Impressum and Datenschutzerklärung. The text is the template documented in
// docs/privacy.md#legal-pages; everything that differs per operator and
// environment (who runs it, the AWS region, how long logs and backups are
// kept, whether AI grading is on) comes from /config.json ("legal",
// rendered by deploy/render-web-config.sh). Public pages, reachable signed
// in or not; loaded on demand.

import { cfg } from '../config.js';
import { h, mount, note } from '../dom.js';

const REGIONS = {
  'eu-central-1': 'Frankfurt am Main (Deutschland)',
  'eu-central-2': 'Zürich (Schweiz)',
  'eu-west-1': 'Irland',
  'eu-west-3': 'Paris (Frankreich)',
  'eu-north-1': 'Stockholm (Schweden)',
};

const legal = () => cfg()?.legal || {};
const configured = () => Boolean(legal().name);
const days = (n, what) => (Number.isInteger(n) ? `${n} Tagen` : `die für ${what} eingestellte Frist`);

function operatorBlock(l) {
  return h('p', { class: 'address' }, [l.name, ...(l.address || [])].flatMap((line, i) => (i ? [h('br'), line] : [line])));
}

function mail(addr) {
  return addr ? h('a', { href: `mailto:${addr}`, text: addr }) : null;
}

function missing() {
  return note('Die Angaben des Betreibers sind für diese Umgebung nicht eingerichtet.', 'warn');
}

function back() {
  return h('p', { class: 'links' },
    h('a', { href: '/impressum', text: 'Impressum' }),
    h('a', { href: '/datenschutz', text: 'Datenschutz' }),
    h('a', { href: '/', text: 'Zur App' }));
}

export function impressumView(main, _p, ctx) {
  ctx.title('Impressum');
  const l = legal();
  mount(main, h('article', { class: 'legal' },
    h('h1', { tabindex: '-1', text: 'Impressum' }),
    configured() ? [
      h('h2', { text: 'Angaben gemäß § 5 DDG' }),
      operatorBlock(l),
      l.represented_by ? h('p', { text: `Vertreten durch: ${l.represented_by}` }) : null,
      h('h2', { text: 'Kontakt' }),
      h('p', {}, 'E-Mail: ', mail(l.email) || '–', l.phone ? h('br') : null, l.phone ? `Telefon: ${l.phone}` : null),
      l.register ? [h('h2', { text: 'Registereintrag' }), h('p', { text: l.register })] : null,
      l.vat_id ? [h('h2', { text: 'Umsatzsteuer-ID' }), h('p', { text: `Umsatzsteuer-Identifikationsnummer gemäß § 27a UStG: ${l.vat_id}` })] : null,
      l.content_responsible
        ? [h('h2', { text: 'Verantwortlich für den Inhalt nach § 18 Abs. 2 MStV' }), h('p', { text: l.content_responsible })] : null,
      h('h2', { text: 'Fragenkatalog' }),
      h('p', { text: 'Die Prüfungsfragen folgen dem amtlichen Fragenkatalog für den Sportküstenschifferschein. '
        + 'Für die Richtigkeit der Lernhilfen (Kurzantworten, Bewertungen) übernehmen wir keine Gewähr; '
        + 'maßgeblich ist der amtliche Katalog.' }),
    ] : missing(),
    back()));
}

function section(title, ...content) {
  return [h('h2', { text: title }), ...content];
}

export function datenschutzView(main, _p, ctx) {
  ctx.title('Datenschutz');
  const l = legal();
  const region = l.aws_region || 'eu-central-1';
  const where = `AWS-Region ${region}${REGIONS[region] ? `, ${REGIONS[region]}` : ''}`;
  mount(main, h('article', { class: 'legal' },
    h('h1', { tabindex: '-1', text: 'Datenschutzerklärung' }),
    configured() ? null : missing(),
    section('1. Verantwortlicher',
      configured() ? operatorBlock(l) : null,
      h('p', {}, 'Fragen zum Datenschutz: ', mail(l.privacy_contact || l.email) || '–')),
    section('2. Was wir verarbeiten und wozu',
      h('h3', { text: 'Ihr Konto' }),
      h('p', { text: `Anmeldung und Registrierung laufen über Amazon Cognito (Amazon Web Services EMEA SARL) in der ${where}. `
        + 'Gespeichert werden Ihre E-Mail-Adresse und Ihr Passwort (nur als sicherer Hash bei Cognito, nie bei uns). '
        + 'Zweck ist die Anmeldung; Rechtsgrundlage ist die Erfüllung des Nutzungsvertrags (Art. 6 Abs. 1 lit. b DSGVO).' }),
      h('h3', { text: 'Ihre Lerndaten' }),
      h('p', { text: `In unserer Datenbank (Amazon Web Services, ${where}) speichern wir, was Sie in der App tun: `
        + 'Einstellungen, jede Wiederholung einer Karte mit Bewertung und Zeitpunkt, den Lernstand je Karte, '
        + 'Prüfungssimulationen mit Ihren Antworten und deren Bewertung, Zähler für KI-Anfragen sowie Ihre E-Mail-Adresse. '
        + 'Zweck ist das Lernen mit Wiederholungsplan und Prüfungssimulation (Art. 6 Abs. 1 lit. b DSGVO).' }),
      h('h3', { text: 'Bezahlung' }),
      h('p', { text: 'Das Premium-Abo bezahlen Sie bei Stripe (Stripe Payments Europe, Ltd., Irland). Zahlungsdaten wie '
        + 'Kartennummern gibt es nur bei Stripe. Wir speichern Stripes Kunden- und Abo-Kennung und den Abo-Status, '
        + 'um Premium freizuschalten (Art. 6 Abs. 1 lit. b DSGVO); Stripe bewahrt Zahlungsbelege nach den gesetzlichen '
        + 'Fristen auf (Art. 6 Abs. 1 lit. c DSGVO).' }),
      l.ai ? [
        h('h3', { text: 'KI-Bewertung' }),
        h('p', { text: 'Wenn Sie in den Einstellungen die KI-Bewertung einschalten oder eine Antwort sprechen, senden wir den '
          + 'Antworttext bzw. die Sprachaufnahme zur Bewertung oder Verschriftlichung an OpenAI (OpenAI Ireland Ltd.; '
          + 'Verarbeitung auch in den USA auf Grundlage des EU-US Data Privacy Framework und von Standardvertragsklauseln). '
          + 'Name und E-Mail-Adresse werden dabei nicht übermittelt; Sprachaufnahmen speichern wir nicht. '
          + 'Ohne KI-Bewertung verlässt keine Antwort unsere Server.' }),
      ] : h('p', { text: 'Eine KI-Bewertung durch Dritte findet in dieser Umgebung nicht statt.' }),
      h('h3', { text: 'Server-Protokolle' }),
      h('p', { text: 'Bei jedem Aufruf protokollieren unsere Server IP-Adresse, Ihre pseudonyme Benutzerkennung, Zeitpunkt, '
        + 'aufgerufene Adresse, Statuscode und Dauer, '
        + 'zur Sicherheit und Fehlersuche (Art. 6 Abs. 1 lit. f DSGVO). Inhalte, Antworten, E-Mail-Adressen und Zugangsdaten '
        + `stehen nicht darin. Die Protokolle werden nach ${days(l.log_retention_days, 'Protokolle')} gelöscht.` }),
      h('h3', { text: 'Datensicherungen' }),
      h('p', { text: `Die Datenbank wird regelmäßig gesichert; Sicherungen werden nach spätestens ${days(l.backup_retention_days, 'Sicherungen')} `
        + 'gelöscht. Daten eines gelöschten Kontos verschwinden mit dieser Frist auch aus den Sicherungen; bis dahin '
        + 'werden Sicherungen nur zur Wiederherstellung nach einem Ausfall verwendet.' }),
      h('h3', { text: 'Auf Ihrem Gerät' }),
      h('p', { text: 'Wir setzen keine Cookies und kein Tracking ein. Für die Anmeldung und das Lernen ohne Verbindung speichert die App '
        + 'Zugangsdaten im lokalen Speicher des Browsers sowie Karten, Abbildungen und noch nicht übertragene Wiederholungen '
        + 'in IndexedDB und im Browser-Cache. Abmelden entfernt Ihre Daten von diesem Gerät.' })),
    section('3. Speicherdauer',
      h('p', { text: 'Wir speichern Ihre Daten, solange Ihr Konto besteht. Wenn Sie Ihr Konto löschen, entfernen wir alle Daten '
        + 'sofort und vollständig; ein laufendes Abo wird dabei sofort beendet.' })),
    section('4. Ihre Rechte',
      h('ul', {},
        h('li', { text: 'Auskunft und Datenübertragbarkeit (Art. 15, 20 DSGVO): unter „Konto“ → „Daten exportieren“ erhalten Sie alle '
          + 'gespeicherten Daten als Datei.' }),
        h('li', { text: 'Löschung (Art. 17 DSGVO): unter „Konto“ → „Konto löschen“.' }),
        h('li', { text: 'Berichtigung, Einschränkung der Verarbeitung, Widerspruch (Art. 16, 18, 21 DSGVO) und Widerruf einer '
          + 'Einwilligung: schreiben Sie uns.' }),
        h('li', { text: `Beschwerde bei einer Datenschutz-Aufsichtsbehörde (Art. 77 DSGVO)${l.authority ? `, zum Beispiel: ${l.authority}` : ''}.` }))),
    l.updated ? h('p', { class: 'muted small', text: `Stand: ${l.updated}` }) : null,
    back()));
}
