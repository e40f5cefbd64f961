// Sign-in against Cognito's own API (InitiateAuth and friends), from the
// endpoint and app client id in /config.json: cognito-local through nginx
// in development, cognito-idp.<region>.amazonaws.com in AWS.
//
// USER_PASSWORD_AUTH sends the password over TLS to Cognito (cognito-local
// has no SRP; docs/web.md says what production could switch to). Tokens
// are kept in localStorage so the installed app starts offline and signed
// in; they never go into a URL, a log line or an error message. The access
// token is renewed with REFRESH_TOKEN_AUTH five minutes before it expires
// (and whenever a request finds it within two minutes of expiry); a refresh
// that Cognito refuses (revoked, expired) ends the session: `expired` fires
// and the app returns to sign-in. Unsynced reviews live in IndexedDB and
// are untouched by any of this.

import { cfg } from './config.js';

const KEY = 'easysks.session';
const LAST = 'easysks.lastEmail';
const LAST_SUB = 'easysks.lastSub';
export const authEvents = new EventTarget();

export class AuthError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

const WRONG = 'E-Mail-Adresse oder Passwort ist falsch.';
const BUSY = 'Zu viele Versuche. Bitte warten Sie einen Moment und versuchen Sie es erneut.';
const MESSAGES = {
  NotAuthorizedException: WRONG,
  UserNotFoundException: WRONG,
  UserNotConfirmedException: 'Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse.',
  UsernameExistsException: 'Für diese E-Mail-Adresse gibt es bereits ein Konto.',
  InvalidPasswordException: 'Das Passwort erfüllt die Anforderungen nicht: mindestens 8 Zeichen mit Groß- und Kleinbuchstaben, Ziffer und Sonderzeichen.',
  CodeMismatchException: 'Der Code stimmt nicht.',
  ExpiredCodeException: 'Der Code ist abgelaufen. Bitte fordern Sie einen neuen an.',
  LimitExceededException: BUSY,
  TooManyRequestsException: BUSY,
  TooManyFailedAttemptsException: BUSY,
  CodeDeliveryFailureException: 'Der Code konnte nicht versendet werden.',
  InvalidParameterException: 'Bitte prüfen Sie Ihre Eingaben.',
  network: 'Der Anmeldedienst ist nicht erreichbar. Bitte prüfen Sie die Verbindung.',
};

// `withClient`: most calls name the app client; DeleteUser takes only the
// access token.
async function cognito(target, body, withClient = true) {
  const { endpoint, clientId } = cfg() || {};
  if (!endpoint || !clientId) throw new AuthError('unconfigured', 'Die Anmeldung ist nicht eingerichtet.');
  let res;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(withClient ? { ClientId: clientId, ...body } : body),
    });
  } catch {
    throw new AuthError('network', MESSAGES.network);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const type = String(data.__type || data.code || 'Unknown').split('#').pop();
    throw new AuthError(type, MESSAGES[type] || 'Das hat nicht geklappt. Bitte versuchen Sie es erneut.');
  }
  return data;
}

export function claims(jwt) {
  const b64 = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY));
  } catch {
    return null;
  }
}

let session = load();
let timer = 0;
let refreshing = null;

function save(s) {
  session = s;
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
  schedule();
}

function store(result, email) {
  const c = claims(result.AccessToken);
  save({
    access: result.AccessToken,
    refresh: result.RefreshToken || session?.refresh,
    exp: c.exp,
    sub: c.sub,
    email: email || session?.email || '',
  });
  localStorage.setItem(LAST_SUB, c.sub);
}

function schedule() {
  clearTimeout(timer);
  if (!session) return;
  const wait = session.exp * 1000 - Date.now() - 5 * 60 * 1000;
  timer = setTimeout(() => refresh(), Math.min(Math.max(wait, 0), 0x7fffffff));
}

export const signedIn = () => session !== null;
export const currentSub = () => session?.sub || null;
// The learner last signed in here: their unsent reviews stay visible on the
// sign-in screen after the session expired.
export const lastSub = () => session?.sub || localStorage.getItem(LAST_SUB);
export const currentEmail = () => session?.email || localStorage.getItem(LAST) || '';

function expire() {
  if (!session) return;
  localStorage.setItem(LAST, session.email || '');
  save(null);
  authEvents.dispatchEvent(new Event('expired'));
}

// Only Cognito refusing the refresh token (revoked, expired, user gone)
// ends the session; throttling, a 5xx page or a dropped connection are
// tried again later with the session kept.
const ENDS_SESSION = new Set(['NotAuthorizedException', 'UserNotFoundException']);

async function renew(started) {
  try {
    if (!started.refresh) throw new AuthError('NotAuthorizedException', '');
    const r = await cognito('InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: started.refresh },
    });
    // Signed out, or someone else signed in, while Cognito answered (a
    // slow link): the answer belongs to a session that is gone.
    if (session !== started) return false;
    if (!r.AuthenticationResult?.AccessToken) return false;
    store(r.AuthenticationResult);
    return true;
  } catch (e) {
    if (session === started && ENDS_SESSION.has(e.type)) expire();
    return false;
  }
}

// Renew the access token. Resolves true when a fresh token is in place,
// false when it could not be renewed now (offline, throttled: the session
// is kept; refused: the session ends).
export function refresh() {
  if (!session) return Promise.resolve(false);
  if (!navigator.onLine) return Promise.resolve(false);
  if (!refreshing) {
    const p = renew(session).finally(() => { if (refreshing === p) refreshing = null; });
    refreshing = p;
  }
  return refreshing;
}

// The access token for an API call, renewed first when it is about to expire.
export async function accessToken() {
  if (session && session.exp * 1000 - Date.now() < 2 * 60 * 1000) await refresh();
  return session?.access || null;
}

export async function signIn(email, password) {
  let r;
  try {
    r = await cognito('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
  } catch (e) {
    // cognito-local says InvalidPasswordException where Cognito says
    // NotAuthorizedException; neither tells whether the address exists.
    if (e.type === 'InvalidPasswordException') throw new AuthError('NotAuthorizedException', WRONG);
    throw e;
  }
  if (!r.AuthenticationResult) {
    throw new AuthError('challenge', 'Für dieses Konto ist ein neues Passwort nötig. Bitte nutzen Sie „Passwort vergessen“.');
  }
  refreshing = null; // a renewal of an earlier session in flight is not this one's
  store(r.AuthenticationResult, email);
  localStorage.setItem(LAST, email);
  authEvents.dispatchEvent(new Event('signedin'));
}

export const signUp = (email, password) => cognito('SignUp', {
  Username: email,
  Password: password,
  UserAttributes: [{ Name: 'email', Value: email }],
});
export const confirmSignUp = (email, code) => cognito('ConfirmSignUp', { Username: email, ConfirmationCode: code });
export const resendCode = (email) => cognito('ResendConfirmationCode', { Username: email });
export const forgotPassword = (email) => cognito('ForgotPassword', { Username: email });
export const confirmForgotPassword = (email, code, password) => cognito('ConfirmForgotPassword', {
  Username: email,
  ConfirmationCode: code,
  Password: password,
});

// Delete the sign-in itself at Cognito (DeleteUser with the learner's
// access token), after the API erased their data (docs/privacy.md).
// Resolves when Cognito confirmed; throws an AuthError otherwise (the API
// then answers 410 account_deleted at the next sign-in, and the app offers
// to finish). A user Cognito no longer knows counts as deleted.
export async function deleteCognitoUser() {
  const token = await accessToken();
  if (!token) throw new AuthError('NotAuthorizedException', 'Bitte melden Sie sich erneut an.');
  try {
    await cognito('DeleteUser', { AccessToken: token }, false);
  } catch (e) {
    if (e.type !== 'UserNotFoundException') throw e;
  }
}

// Forget the learner on this device (their account is gone): the session,
// the remembered e-mail and sub, the clock offset. The caller navigates.
export function forgetLearner() {
  refreshing = null;
  save(null);
  for (const k of [LAST, LAST_SUB, 'easysks.skew']) localStorage.removeItem(k);
  sessionStorage.clear();
}

export function signOut() {
  const token = session?.refresh;
  refreshing = null;
  save(null);
  // Best effort: revoke the refresh token so a copy of it is worthless.
  if (token && navigator.onLine) cognito('RevokeToken', { Token: token }).catch(() => {});
  authEvents.dispatchEvent(new Event('signedout'));
}

// After a long sleep (a phone in a pocket) the timer may be late.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && session) accessToken();
});
window.addEventListener('online', () => { if (session) accessToken(); });

// Called once the configuration is loaded.
export function initAuth() {
  schedule();
}
