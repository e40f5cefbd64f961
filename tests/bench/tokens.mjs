// Bench learners as real cognito-local users: create N users in the pool,
// sign each in (USER_PASSWORD_AUTH) and print one access token per line.
// The same tokens go to EasySKS and to the peer: both verify them against
// the pool's issuer and app client (cognito-local signs them with its key).
//
//   node tests/bench/tokens.mjs --endpoint http://127.0.0.1:PORT --pool ID --client ID --count N
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    pool: { type: 'string' },
    client: { type: 'string' },
    count: { type: 'string', default: '50' },
    prefix: { type: 'string', default: 'bench-learner' },
  },
});
if (!values.endpoint || !values.pool || !values.client) {
  console.error('usage: tokens.mjs --endpoint URL --pool ID --client ID [--count N]');
  process.exit(2);
}
const password = 'Bench-Passw0rd!';

async function idp(target, body) {
  const res = await fetch(values.endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${target}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function learner(i) {
  const email = `${values.prefix}-${i}@bench.local`;
  try {
    await idp('AdminCreateUser', {
      UserPoolId: values.pool,
      Username: email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
      ],
    });
  } catch (err) {
    if (!/UsernameExists/.test(err.message)) throw err;
  }
  await idp('AdminSetUserPassword', { UserPoolId: values.pool, Username: email, Password: password, Permanent: true });
  const auth = await idp('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: values.client,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return auth.AuthenticationResult.AccessToken;
}

// cognito-local keeps its users in one JSON file: a few at a time.
const n = Number(values.count);
const tokens = [];
for (let i = 1; i <= n; i += 5) {
  const batch = [];
  for (let j = i; j < i + 5 && j <= n; j++) batch.push(learner(j));
  tokens.push(...(await Promise.all(batch)));
}
process.stdout.write(tokens.join('\n') + '\n');
