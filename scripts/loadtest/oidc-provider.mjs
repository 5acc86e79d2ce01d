// The Node.js oidc-provider configured like the load test's demo IdP, for a side-by-side run:
// the same clients (scripts/loadtest/clients.json), the same signing keys (PKCS#8 PEM files the
// demo created), the same user, an in-memory adapter (the library's default), production mode.
//
//   npm install --prefix "$DIR" oidc-provider@9.13.3     # a scratch directory outside the repo
//   cp scripts/loadtest/oidc-provider.mjs "$DIR"/
//   KEYS_DIR=… CLIENTS=… PORT=9090 NODE_ENV=production node "$DIR"/oidc-provider.mjs
//
// scripts/loadtest/run.sh does all of this when NODE_OP_DIR is set.
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 9090);
const issuer = `http://127.0.0.1:${port}`;
const keys = process.env.KEYS_DIR;
const jwk = (file, alg) => ({
  ...createPrivateKey(readFileSync(`${keys}/${file}`)).export({ format: 'jwk' }),
  alg,
  use: 'sig',
  kid: alg.toLowerCase(),
});
const clients = JSON.parse(readFileSync(process.env.CLIENTS, 'utf8')).map(
  ({ client_name, ...metadata }) => metadata,
);

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk('oidc-demo.rs256.pem', 'RS256'), jwk('oidc-demo.es256.pem', 'ES256')] },
  responseTypes: ['code id_token', 'code'],
  cookies: { keys: ['a-cookie-signing-key-for-the-load-test-only'] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
  },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id,
      name: 'Alice Liddell',
      given_name: 'Alice',
      family_name: 'Liddell',
      email: 'alice@example.com',
      email_verified: true,
    }),
  }),
});
provider.listen(port, '127.0.0.1', () => {
  console.error(`oidc-provider listening: issuer ${issuer}, pid ${process.pid}`);
});
// A clean exit on SIGINT / SIGTERM (so that `node --cpu-prof` writes its profile).
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
