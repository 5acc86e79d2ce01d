// A relying party built on the `openid-client` library (with its `code id_token` hybrid
// support) against a running demo OpenID Provider. It is also its own scripted user agent:
// it follows the authorization request through the demo's login and consent forms with fetch,
// then hands the response (fragment URL or form_post request) to openid-client, which validates
// the front-channel ID token (signature, nonce, c_hash, state, iss), redeems the code with PKCE,
// validates the second ID token, calls UserInfo, refreshes and introspects (RFC 7662).
//
// Environment: ISSUER, CLIENT_ID, AUTH (basic | post | client_secret_jwt | private_key_jwt),
// CLIENT_SECRET (the secret methods), CLIENT_KEY, CLIENT_KEY_ALG (ES256 | PS256) and
// CLIENT_KEY_KID (private_key_jwt: a PKCS#8 PEM key), RESPONSE_MODE (fragment | form_post),
// ID_TOKEN_ALG (RS256 | ES256), PAR=1 (push a request object signed with the client key first,
// RFC 9126 + RFC 9101), USERNAME, PASSWORD. Prints one JSON line with the results on success;
// exits non-zero with the reason otherwise.

import { createPrivateKey } from 'node:crypto';
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
};

const issuer = env('ISSUER');
const clientId = env('CLIENT_ID');
const mode = env('RESPONSE_MODE');
const par = process.env.PAR === '1';

// The client's private key as WebCrypto wants it (private_key_jwt and request objects).
async function clientKey() {
  const der = createPrivateKey(env('CLIENT_KEY')).export({ type: 'pkcs8', format: 'der' });
  const algorithm = env('CLIENT_KEY_ALG') === 'ES256'
    ? { name: 'ECDSA', namedCurve: 'P-256' }
    : { name: 'RSA-PSS', hash: 'SHA-256' };
  const key = await crypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return { key, kid: env('CLIENT_KEY_KID') };
}

const method = env('AUTH');
const key = method === 'private_key_jwt' || par ? await clientKey() : undefined;
const auth = {
  basic: () => client.ClientSecretBasic(env('CLIENT_SECRET')),
  post: () => client.ClientSecretPost(env('CLIENT_SECRET')),
  client_secret_jwt: () => client.ClientSecretJwt(env('CLIENT_SECRET')),
  private_key_jwt: () => client.PrivateKeyJwt(key),
}[method]();
const redirectUri = `${issuer}/playground/callback`;

// --- a minimal browser: cookies, no redirect following, HTML forms --------------------------

const cookies = new Map();

async function request(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (cookies.size) {
    headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
  }
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return { status: response.status, headers: response.headers, url, body: await response.text() };
}

const unescape = (s) =>
  s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&#96;', '`')
    .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) out[m[1].toLowerCase()] = unescape(m[2] ?? '');
  return out;
}

function firstForm(html) {
  const start = html.indexOf('<form');
  if (start < 0) return null;
  const body = html.slice(start, html.indexOf('</form>', start));
  const form = attributes(body.slice(0, body.indexOf('>')));
  const fields = [];
  const buttons = [];
  for (const m of body.matchAll(/<input\s([^>]*)>/g)) {
    const a = attributes(m[1]);
    if (a.name) fields.push([a.name, a.value ?? '']);
  }
  for (const m of body.matchAll(/<button\s([^>]*)>/g)) {
    const a = attributes(m[1]);
    if (!a.type || a.type === 'submit') buttons.push([a.name ?? '', a.value ?? '']);
  }
  return { action: new URL(form.action, issuer).href, fields, buttons };
}

async function submit(form, fill, button = 0) {
  const params = new URLSearchParams();
  for (const [name, value] of form.fields) if (!(name in fill)) params.append(name, value);
  for (const [name, value] of Object.entries(fill)) params.append(name, value);
  const [name, value] = form.buttons[button] ?? ['', ''];
  if (name) params.append(name, value);
  return request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
}

// --- the relying party ----------------------------------------------------------------------

const metadata = { id_token_signed_response_alg: process.env.ID_TOKEN_ALG || 'RS256' };
const config = await client.discovery(new URL(issuer), clientId, metadata, auth, {
  // The demo runs on http://127.0.0.1 (loopback); openid-client insists on https otherwise.
  execute: [client.allowInsecureRequests, client.useCodeIdTokenResponseType],
});

const nonce = client.randomNonce();
const state = client.randomState();
const verifier = client.randomPKCECodeVerifier();
const parameters = {
  redirect_uri: redirectUri,
  // The flow refreshes: offline_access with prompt=consent (OIDC Core §11).
  scope: 'openid profile email offline_access',
  prompt: 'consent',
  nonce,
  state,
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
};
if (mode === 'form_post') parameters.response_mode = 'form_post';
let authorizationUrl;
if (par) {
  // The parameters in a request object signed with the client key, pushed with client
  // authentication; the browser gets only client_id and the request_uri.
  const signed = await client.buildAuthorizationUrlWithJAR(config, parameters, key);
  authorizationUrl = await client.buildAuthorizationUrlWithPAR(config, signed.searchParams);
  const names = [...authorizationUrl.searchParams.keys()].sort().join(' ');
  if (names !== 'client_id request_uri') throw new Error(`unexpected PAR redirect ${authorizationUrl}`);
} else {
  authorizationUrl = client.buildAuthorizationUrl(config, parameters);
  if (authorizationUrl.searchParams.get('response_type') !== 'code id_token') {
    throw new Error(`unexpected response_type ${authorizationUrl.searchParams.get('response_type')}`);
  }
}

let page = await request(authorizationUrl.href);
let callback;
for (let step = 0; step < 4 && !callback; step++) {
  if (page.status === 303) {
    callback = new URL(page.headers.get('location'));
    break;
  }
  if (page.status !== 200) throw new Error(`unexpected ${page.status} at ${page.url}: ${page.body}`);
  const form = firstForm(page.body);
  if (!form) throw new Error(`no form at ${page.url}`);
  if ((page.headers.get('content-security-policy') || '').includes("form-action *")) {
    // The form_post page: what the browser would POST to the redirect URI.
    callback = new Request(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form.fields).toString(),
    });
    break;
  }
  if (form.fields.some(([name]) => name === 'password')) {
    page = await submit(form, { username: env('USERNAME'), password: env('PASSWORD') });
  } else if (form.buttons[0]?.[0] === 'decision') {
    page = await submit(form, {}, 0); // the first button approves
  } else {
    throw new Error(`unexpected form at ${page.url}`);
  }
}
if (!callback) throw new Error('the authorization did not complete');

const tokens = await client.authorizationCodeGrant(config, callback, {
  expectedNonce: nonce,
  expectedState: state,
  pkceCodeVerifier: verifier,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const refreshedClaims = refreshed.claims();
// Introspection (RFC 7662) of the refreshed access token and of the first one, whose grant
// still lives (refreshing rotates the refresh token only).
const introspected = await client.tokenIntrospection(config, refreshed.access_token);
const unknown = await client.tokenIntrospection(config, 'not-a-token-of-this-provider');

console.log(JSON.stringify({
  ok: true,
  mode,
  auth: method,
  pushed: authorizationUrl.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:') ?? false,
  delivered: callback instanceof URL ? 'fragment' : 'form_post',
  iss: claims.iss,
  sub: claims.sub,
  nonce_matches: claims.nonce === nonce,
  auth_time: claims.auth_time,
  userinfo_sub: userinfo.sub,
  email: userinfo.email,
  refreshed_sub: refreshedClaims?.sub,
  refreshed_auth_time: refreshedClaims?.auth_time,
  introspected_active: introspected.active,
  introspected_sub: introspected.sub,
  introspected_client_id: introspected.client_id,
  introspected_token_type: introspected.token_type,
  introspected_scope: introspected.scope,
  unknown_active: unknown.active,
}));
