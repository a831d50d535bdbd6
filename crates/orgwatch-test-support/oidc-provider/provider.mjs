// The OpenID provider of orgwatch's single sign-on tests: the npm `oidc-provider` (the
// version package.json pins; scripts/test installs it into $HOME/.cache/orgwatch-npm) on a
// loopback port, with one client and users whose `groups` claim the command line gives.
// Its interactions are oidc-provider's devInteractions: a login form any test can post
// (`prompt=login&login=USER&password=…`; the password is not checked, the user must exist);
// consent is granted at once, as for a first-party client.
//
//   node provider.mjs --package-dir DIR/node_modules/oidc-provider --port PORT
//        --client-id ID --client-secret SECRET --redirect-uri URL [--post-logout-uri URL]
//        [--user NAME=GROUP,GROUP ...] [--groups-in userinfo|id_token] [--id-token-ttl SECS]
//        [--tamper aud|key]
//
// --groups-in   where the claims of the `profile`, `email` and `groups` scopes go: the
//               userinfo endpoint only (the default, as the specification has it for the
//               code flow) or the ID token too.
// --tamper      a misbehaving provider, to test that the client refuses it: every ID token
//               the token endpoint issues is re-signed with `aud` set to another client
//               (`aud`: same key, so only the audience is wrong), or signed by a key that is
//               not in the JWKS (`key`: same kid, so only the signature is wrong).
//
// It prints `listening on http://127.0.0.1:PORT` once the discovery document is served.
import { generateKeyPairSync, createSign } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'package-dir': { type: 'string' },
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    'post-logout-uri': { type: 'string' },
    user: { type: 'string', multiple: true, default: [] },
    'groups-in': { type: 'string', default: 'userinfo' },
    'id-token-ttl': { type: 'string', default: '3600' },
    tamper: { type: 'string' },
  },
});
for (const required of ['package-dir', 'port', 'client-id', 'client-secret', 'redirect-uri']) {
  if (!args[required]) {
    console.error(`provider.mjs: --${required} is required`);
    process.exit(2);
  }
}
if (!['userinfo', 'id_token'].includes(args['groups-in'])) {
  console.error('provider.mjs: --groups-in is userinfo or id_token');
  process.exit(2);
}
if (args.tamper && !['aud', 'key'].includes(args.tamper)) {
  console.error('provider.mjs: --tamper is aud or key');
  process.exit(2);
}

const { default: Provider } = await import(
  pathToFileURL(join(args['package-dir'], 'lib', 'index.js')).href
);

// NAME=GROUP,GROUP (no groups after `=`: a user in no group).
const users = new Map();
for (const spec of args.user) {
  const at = spec.indexOf('=');
  const name = at < 0 ? spec : spec.slice(0, at);
  const groups = at < 0 ? [] : spec.slice(at + 1).split(',').filter((g) => g.length > 0);
  users.set(name, groups);
}

const signingKey = () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'orgwatch-test', alg: 'RS256', use: 'sig' };
};
const key = signingKey();
const issuer = `http://127.0.0.1:${args.port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: [args['redirect-uri']],
      post_logout_redirect_uris: args['post-logout-uri'] ? [args['post-logout-uri']] : [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [key] },
  cookies: { keys: ['orgwatch-test-provider-cookie-key'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  conformIdTokenClaims: args['groups-in'] === 'userinfo',
  pkce: { required: () => true },
  ttl: {
    IdToken: Number(args['id-token-ttl']),
    AccessToken: 600,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(_ctx, id) {
    if (!users.has(id)) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: id,
          preferred_username: id,
          email: `${id}@example.test`,
          groups: users.get(id),
        };
      },
    };
  },
  // First-party client: consent is given with the login.
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const id = session.grantIdFor(client.clientId);
    if (id) return ctx.oidc.provider.Grant.find(id);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid profile email groups');
    await grant.save();
    return grant;
  },
});

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sign = (header, payload, jwk) => {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = createSign('RSA-SHA256').update(input).sign({ key: jwk, format: 'jwk' });
  return `${input}.${signature.toString('base64url')}`;
};
const tampered = (token) => {
  const [h, p] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  if (args.tamper === 'aud') {
    return sign(header, { ...payload, aud: 'another-client' }, key);
  }
  return sign(header, payload, signingKey());
};
if (args.tamper) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: tampered(ctx.body.id_token) };
    }
  });
}

const server = provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
