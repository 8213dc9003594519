// A real OpenID provider (panva/oidc-provider) for gennai's identity tests, on loopback only.
//
// Usage: node server.mjs <config.json>
//   { "port": 4001, "issuer": "http://127.0.0.1:4001",
//     "client": { "client_id": "...", "client_secret": "...", "redirect_uris": [...],
//                 "post_logout_redirect_uris": [...] },
//     "accounts": { "alice": { "email": "...", "name": "...", "groups": [...], "organization": "..." } } }
//
// Sign-in is a one-field form (the account id, no password) and consent is granted automatically,
// so tests drive the real redirect flow without scripting a consent screen.
// POST /__rotate publishes a new signing key in front of the old one (key rotation mid-test).
// With "keys_file", the private signing keys are written there, so tests can mint tokens that are
// correctly signed but wrong in one claim (expired, other audience, …).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const signingKeys = [newSigningKey()];
const saveKeys = () => config.keys_file && writeFileSync(config.keys_file, JSON.stringify({ keys: signingKeys }));
saveKeys();

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function buildProvider() {
  const provider = new Provider(config.issuer, {
    clients: [{
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...config.client,
    }],
    jwks: { keys: signingKeys },
    cookies: { keys: ['gennai-test-idp-cookie-key'] },
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups', 'organization'],
    },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = config.accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email_verified: true, ...account };
        },
      };
    },
  });
  provider.proxy = false;
  return provider;
}

let provider = buildProvider();

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, isPost) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (details.prompt.name === 'login') {
    if (!isPost) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><title>Test IdP sign-in</title></head><body>
        <h1>Sign in to ${escapeHtml(config.issuer)}</h1>
        <form method="post" action="/interaction/${escapeHtml(uid)}">
          <label for="login">Account</label> <input id="login" name="login" autofocus>
          <button type="submit">Sign in</button>
        </form></body></html>`);
      return;
    }
    const login = (await readForm(req)).get('login') ?? '';
    const result = config.accounts[login]
      ? { login: { accountId: login } }
      : { error: 'access_denied', error_description: 'unknown account' };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, config.issuer);
    if (req.method === 'POST' && url.pathname === '/__rotate') {
      signingKeys.unshift(newSigningKey());
      saveKeys();
      provider = buildProvider();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kid: signingKeys[0].kid }));
      return;
    }
    const match = url.pathname.match(/^\/interaction\/([^/]+)$/);
    if (match) {
      await interaction(req, res, match[1], req.method === 'POST');
      return;
    }
    provider.callback()(req, res);
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(error));
  }
});

server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${config.issuer}\n`);
});
