// A minimal stand-in for two AWS JSON 1.1 APIs, for the staging rehearsal
// (deploy/staging-local.sh), as the AWS CLI speaks them; signatures are not
// checked.
//
// Secrets Manager GetSecretValue: from a JSON file {"<secret-id>": "<value>"},
// re-read on every request so a test can rotate a value. A secret id mapped
// to null behaves like a secret without a value (ResourceNotFoundException),
// an unknown id likewise. A secret id mapped to {"deleted": true} behaves
// like a secret scheduled for deletion (InvalidRequestException).
//
// SSM parameters GetParameter, PutParameter (ParameterAlreadyExists without
// Overwrite: what the deploy lock relies on) and DeleteParameter: kept in
// SECRETS.json's sibling PARAMS file (SECRETS.json with .params appended), so
// a test can read or seed them.
//
//   node tests/deploy/aws-stub.mjs SECRETS.json PORT_FILE
//
// Listens on 127.0.0.1 on a port the kernel picks and writes it to PORT_FILE.
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [file, portFile] = process.argv.slice(2);
if (!file || !portFile) {
  console.error('usage: aws-stub.mjs SECRETS.json PORT_FILE');
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
    if (target.startsWith('AmazonSSM.')) return ssm(res, target.slice('AmazonSSM.'.length), body);
    if (target !== 'secretsmanager.GetSecretValue') {
      return reply(res, 400, { __type: 'UnknownOperationException', message: `not implemented: ${target}` });
    }
    const secrets = JSON.parse(readFileSync(file, 'utf8'));
    const id = body.SecretId;
    const value = Object.prototype.hasOwnProperty.call(secrets, id) ? secrets[id] : null;
    if (value !== null && typeof value === 'object' && value.deleted) {
      return reply(res, 400, {
        __type: 'InvalidRequestException',
        message: "You can't perform this operation on the secret because it was marked for deletion.",
      });
    }
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

const paramsFile = `${file}.params`;
const loadParams = () => (existsSync(paramsFile) ? JSON.parse(readFileSync(paramsFile, 'utf8')) : {});

function ssm(res, op, body) {
  const params = loadParams();
  const name = body.Name;
  const missing = () => reply(res, 400, { __type: 'ParameterNotFound', message: `parameter ${name} not found` });
  switch (op) {
    case 'GetParameter':
      if (!(name in params)) return missing();
      return reply(res, 200, { Parameter: { Name: name, Type: 'String', Value: params[name].value, Version: params[name].version } });
    case 'PutParameter': {
      if (name in params && !body.Overwrite) {
        return reply(res, 400, { __type: 'ParameterAlreadyExists', message: 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.' });
      }
      const version = (params[name]?.version ?? 0) + 1;
      params[name] = { value: body.Value, version };
      writeFileSync(paramsFile, JSON.stringify(params));
      return reply(res, 200, { Version: version, Tier: 'Standard' });
    }
    case 'DeleteParameter':
      if (!(name in params)) return missing();
      delete params[name];
      writeFileSync(paramsFile, JSON.stringify(params));
      return reply(res, 200, {});
    default:
      return reply(res, 400, { __type: 'UnknownOperationException', message: `not implemented: AmazonSSM.${op}` });
  }
}

server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile, String(server.address().port));
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
