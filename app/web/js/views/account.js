// Sign in, sign up, confirm the e-mailed code, forgotten password.

import {
  confirmForgotPassword, confirmSignUp, currentEmail, forgotPassword, resendCode, signIn, signUp,
} from '../auth.js';
import { h, mount, note } from '../dom.js';
import { rememberVariant } from '../catalogue.js';

const PENDING_EMAIL = 'easysks.signupEmail';
let justRegistered = null; // {email, password} in memory only, to sign in after confirming

function field(label, attrs, hint) {
  const id = `f-${attrs.name}`;
  const input = h('input', { id, ...attrs, 'aria-describedby': hint ? `${id}-hint` : null });
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    input,
    hint ? h('p', { id: `${id}-hint`, class: 'hint', text: hint }) : null);
}

// A form whose submit runs `action(data)`; errors appear in its alert line.
function authForm(label, fields, action) {
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary', text: label });
  const form = h('form', { class: 'form', novalidate: true }, fields, error, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!form.checkValidity()) {
      const bad = form.querySelector(':invalid');
      error.textContent = bad.validationMessage;
      bad.focus();
      return;
    }
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await action(Object.fromEntries(new FormData(form)));
    } catch (err) {
      error.textContent = err.message;
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return form;
}

function page(main, ctx, title, ...content) {
  ctx.title(title);
  mount(main, h('section', { class: 'auth' },
    h('p', { class: 'brand-line', text: 'Lernen für den Sportküstenschifferschein' }),
    h('h1', { tabindex: '-1', text: title }),
    navigator.onLine ? null : note('Sie sind offline. Anmelden und Registrieren gehen erst wieder mit Verbindung.', 'warn'),
    ...content));
}

const legalLinks = () => h('p', { class: 'links legal-links' },
  h('a', { href: '/impressum', text: 'Impressum' }),
  h('a', { href: '/datenschutz', text: 'Datenschutz' }));

const PASSWORD_HINT = 'Mindestens 8 Zeichen mit Groß- und Kleinbuchstaben, Ziffer und Sonderzeichen.';

export function signInView(main, _p, ctx) {
  const q = new URLSearchParams(location.search);
  const after = () => {
    const to = sessionStorage.getItem('easysks.after') || '/';
    sessionStorage.removeItem('easysks.after');
    return to.startsWith('/anmelden') ? '/' : to;
  };
  page(main, ctx, 'Anmelden',
    q.has('abgelaufen') ? note('Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an. '
      + 'Noch nicht übertragene Wiederholungen bleiben auf diesem Gerät gespeichert.', 'warn') : null,
    q.has('bestaetigt') ? note('Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden.') : null,
    q.has('zurueckgesetzt') ? note('Ihr Passwort ist geändert. Bitte melden Sie sich mit dem neuen Passwort an.') : null,
    q.get('geloescht') === '1' ? note('Ihr Konto und alle Ihre Daten wurden gelöscht.') : null,
    q.get('geloescht') === 'teilweise' ? note('Ihre Daten wurden gelöscht. Die Anmeldung konnte nicht entfernt werden: '
      + 'melden Sie sich noch einmal an, um das Löschen abzuschließen.', 'warn') : null,
    authForm('Anmelden', [
      field('E-Mail-Adresse', { name: 'email', type: 'email', autocomplete: 'username', required: true, value: currentEmail() }),
      field('Passwort', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    ], async ({ email, password }) => {
      try {
        await signIn(email.trim(), password);
      } catch (e) {
        if (e.type === 'UserNotConfirmedException') {
          sessionStorage.setItem(PENDING_EMAIL, email.trim());
          justRegistered = { email: email.trim(), password };
          ctx.navigate('/bestaetigen');
          return;
        }
        throw e;
      }
      ctx.navigate(after(), { replace: true });
    }),
    h('p', { class: 'links' },
      h('a', { href: '/registrieren', text: 'Neu hier? Konto anlegen' }),
      h('a', { href: '/passwort', text: 'Passwort vergessen?' })),
    legalLinks());
}

// The licence variant, the first choice of a new learner (a radio group).
function variantChoice() {
  const option = (value, label, hint, checked) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'variant', value, checked, 'aria-describedby': `v-${value}-hint` }),
    h('span', { class: 'choice-label', text: label }),
    h('span', { id: `v-${value}-hint`, class: 'hint', text: hint }));
  return h('fieldset', { class: 'field variant-choice' },
    h('legend', { text: 'Welchen Schein machen Sie?' }),
    option('sail', 'Segeln', 'Antriebsmaschine und unter Segel: die meisten Bewerber (Seemannschaft I)', true),
    option('motor', 'Motor', 'Nur Antriebsmaschine (Seemannschaft II)', false));
}

export function signUpView(main, _p, ctx) {
  page(main, ctx, 'Konto anlegen',
    h('p', { text: 'Mit einem kostenlosen Konto lernen Sie alle Fragen des amtlichen Katalogs, auch offline.' }),
    authForm('Konto anlegen', [
      variantChoice(),
      field('E-Mail-Adresse', { name: 'email', type: 'email', autocomplete: 'email', required: true }),
      field('Passwort', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' }, PASSWORD_HINT),
    ], async ({ email, password, variant }) => {
      rememberVariant(variant === 'motor' ? 'motor' : 'sail');
      const r = await signUp(email.trim(), password);
      justRegistered = { email: email.trim(), password };
      sessionStorage.setItem(PENDING_EMAIL, email.trim());
      if (r.UserConfirmed) {
        await signIn(email.trim(), password);
        ctx.navigate('/', { replace: true });
      } else {
        ctx.navigate('/bestaetigen');
      }
    }),
    h('p', { class: 'links' }, h('a', { href: '/anmelden', text: 'Schon ein Konto? Anmelden' })),
    h('p', { class: 'muted small', text: 'Mit dem Anlegen eines Kontos gilt unsere Datenschutzerklärung.' }),
    legalLinks());
}

export function confirmView(main, _p, ctx) {
  const email = sessionStorage.getItem(PENDING_EMAIL) || currentEmail();
  const info = h('div', { class: 'info-line', role: 'status' });
  page(main, ctx, 'E-Mail bestätigen',
    h('p', { text: 'Wir haben Ihnen einen Bestätigungscode per E-Mail geschickt. Geben Sie ihn hier ein.' }),
    authForm('Bestätigen', [
      field('E-Mail-Adresse', { name: 'email', type: 'email', autocomplete: 'username', required: true, value: email }),
      field('Bestätigungscode', {
        name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, pattern: '[0-9]{6}', maxlength: '6',
      }, '6 Ziffern aus der E-Mail.'),
    ], async ({ email: mail, code }) => {
      await confirmSignUp(mail.trim(), code.trim());
      sessionStorage.removeItem(PENDING_EMAIL);
      if (justRegistered && justRegistered.email === mail.trim()) {
        const { password } = justRegistered;
        justRegistered = null;
        await signIn(mail.trim(), password);
        ctx.navigate('/', { replace: true });
      } else {
        ctx.navigate('/anmelden?bestaetigt=1', { replace: true });
      }
    }),
    h('p', { class: 'links' },
      h('button', {
        type: 'button',
        class: 'link',
        text: 'Code erneut senden',
        onclick: async () => {
          const mail = main.querySelector('[name=email]').value.trim();
          try {
            await resendCode(mail);
            mount(info, 'Ein neuer Code ist unterwegs.');
          } catch (e) {
            mount(info, e.message);
          }
        },
      })),
    info);
}

export function forgotView(main, _p, ctx) {
  const step2 = (email) => page(main, ctx, 'Neues Passwort',
    h('p', { text: `Wenn es ein Konto für ${email} gibt, ist ein Code per E-Mail unterwegs.` }),
    authForm('Passwort ändern', [
      field('Code aus der E-Mail', {
        name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', required: true,
      }),
      field('Neues Passwort', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' }, PASSWORD_HINT),
    ], async ({ code, password }) => {
      await confirmForgotPassword(email, code.trim(), password);
      ctx.navigate('/anmelden?zurueckgesetzt=1', { replace: true });
    }));
  page(main, ctx, 'Passwort vergessen',
    h('p', { text: 'Geben Sie Ihre E-Mail-Adresse ein. Sie bekommen einen Code, mit dem Sie ein neues Passwort setzen.' }),
    authForm('Code anfordern', [
      field('E-Mail-Adresse', { name: 'email', type: 'email', autocomplete: 'username', required: true, value: currentEmail() }),
    ], async ({ email }) => {
      try {
        await forgotPassword(email.trim());
      } catch (e) {
        // Whether an address has an account is nobody's business here.
        if (e.type !== 'UserNotFoundException') throw e;
      }
      step2(email.trim());
      main.querySelector('h1').focus();
    }),
    h('p', { class: 'links' }, h('a', { href: '/anmelden', text: 'Zurück zur Anmeldung' })));
}
