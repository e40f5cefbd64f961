// A minimal AWS Secrets Manager stand-in for the staging rehearsal
// (deploy/staging-local.sh): answers GetSecretValue (JSON 1.1 protocol, as
// the AWS CLI speaks it) from a JSON file {"<secret-id>": "<value>", ...},
// re-read on every request so a test can rotate a value. Signatures are not
// checked. A secret id mapped to null behaves like a secret without a value
// (ResourceNotFoundException), an unknown id likewise.
//
//   node tests/deploy/secretsmanager-stub.mjs SECRETS.json PORT_FILE
//
// Listens on 127.0.0.1 on a port the kernel picks and writes it to PORT_FILE.
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';

const [file, portFile] = process.argv.slice(2);
if (!file || !portFile) {
  console.error('usage: secretsmanager-stub.mjs SECRETS.json PORT_FILE');
  process.exit(2);
}

function reply(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const target = req.headers['x-amz-target'] || '';
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return reply(res, 400, { __type: 'SerializationException', message: 'bad JSON' });
    }
    if (target !== 'secretsmanager.GetSecretValue') {
      return reply(res, 400, { __type: 'UnknownOperationException', message: `not implemented: ${target}` });
    }
    const secrets = JSON.parse(readFileSync(file, 'utf8'));
    const id = body.SecretId;
    const value = Object.prototype.hasOwnProperty.call(secrets, id) ? secrets[id] : null;
    if (value === null) {
      return reply(res, 400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      });
    }
    return reply(res, 200, {
      ARN: id, Name: id, VersionId: 'stub-version', VersionStages: ['AWSCURRENT'],
      SecretString: value, CreatedDate: Math.floor(Date.now() / 1000),
    });
  });
});

server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile, String(server.address().port));
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
