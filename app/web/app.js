// EasySKS web client: sign in against the Cognito user pool, then call the
// API with the access token. No framework, no build step.
//
// The Cognito endpoint and app client id come from /api/client-config (in
// development the endpoint is /cognito/ on this origin, proxied by nginx to
// cognito-local). The access token lives in sessionStorage: gone when the tab
// closes. Figures under /media/ need the token too, so they are fetched and
// shown from blob: URLs.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'easysks.accessToken';
const SAMPLE_FIGURE = '/media/seemannschaft_i_q41_a1.gif';

let config;

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(path, { ...options, headers });
}

async function signIn(username, password) {
  const res = await fetch(config.auth.endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: config.auth.client_id,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.AuthenticationResult) {
    throw new Error(body.message || 'Anmeldung fehlgeschlagen');
  }
  sessionStorage.setItem(TOKEN_KEY, body.AuthenticationResult.AccessToken);
}

function show(section) {
  $('signin').hidden = section !== 'signin';
  $('profile').hidden = section !== 'profile';
  $('status').hidden = true;
}

async function showFigure() {
  const res = await api(SAMPLE_FIGURE);
  if (!res.ok) return;
  const img = $('sample-figure');
  if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(await res.blob());
}

async function refresh() {
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    show('signin');
    return;
  }
  const res = await api('/api/me');
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    show('signin');
    return;
  }
  if (!res.ok) throw new Error(`/api/me: ${res.status}`);
  const me = await res.json();
  $('profile-sub').textContent = me.email || me.username || me.sub;
  $('profile-plan').textContent = me.plan === 'premium' ? 'Premium' : 'Kostenlos';
  $('profile-created').textContent = new Date(me.created_at).toLocaleDateString('de-DE');
  show('profile');
  await showFigure();
}

async function main() {
  const res = await fetch('/api/client-config');
  config = await res.json();
  if (!config.auth.endpoint || !config.auth.client_id) {
    $('status').textContent = 'Anmeldung ist nicht konfiguriert.';
    return;
  }

  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const error = $('signin-error');
    error.hidden = true;
    try {
      await signIn(form.get('username'), form.get('password'));
      event.target.reset();
      await refresh();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    show('signin');
  });
  await refresh();
}

main().catch((e) => {
  $('status').textContent = `Fehler: ${e.message}`;
  $('status').hidden = false;
});
