// A real OpenID Connect provider for konvent's tests (issue 19): panva's oidc-provider
// on a loopback port, with one client ("konvent"), two people (anna, bert) and a
// `groups` claim. It prints `listening http://127.0.0.1:PORT` once it serves.
//
// Environment: OIDC_PORT (0: any free port), OIDC_REDIRECT_URI (konvent's callback),
// OIDC_POST_LOGOUT_URI, OIDC_BACKCHANNEL_URI (konvent's back-channel logout endpoint).
//
// For the refusal tests a control endpoint switches misbehaviour on:
//   POST /__test/mode?jwks=foreign   the JWKS names a key the tokens are not signed with
//   POST /__test/mode?expire=1       ID tokens live one second and reach konvent after two
//   POST /__test/mode?audience=other  ID tokens name another client as their audience
//                                    (re-signed with the provider's own key)
//   POST /__test/mode?person=bert&groups=a,b   bert's groups claim from now on
//   POST /__test/mode                everything back to normal
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT ?? 0);
const redirect = process.env.OIDC_REDIRECT_URI ?? 'http://127.0.0.1:8080/anmelden/oidc/test/zurueck';
const postLogout = process.env.OIDC_POST_LOGOUT_URI ?? 'http://127.0.0.1:8080/';
const backchannel = process.env.OIDC_BACKCHANNEL_URI;

const people = {
  anna: { email: 'anna@land.example', name: 'Anna Adler', groups: ['konvent-admin'] },
  bert: { email: 'bert@land.example', name: 'Bert Brandt', groups: ['fachmk-DMK-sprecher', 'it-plr-mitglied'] },
};
// Tests change a person's groups to see grants follow the claim.
const groupsOverride = {};

const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const publicOf = ({ kty, n, e }, kid) => ({ kty, n, e, kid, use: 'sig', alg: 'RS256' });
const mode = { jwks: 'normal', idTokenTtl: 3600, tokenDelayMs: 0, audience: null };

// A JWT of this provider with its claims changed by `change`, signed again with the
// provider's own key: a token that is genuine in every respect but the changed one.
const signingKey = createPrivateKey({ key: signing, format: 'jwk' });
function resigned(jwt, change) {
  const [header, payload] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  change(claims);
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), signingKey).toString('base64url')}`;
}

const client = {
  client_id: 'konvent',
  client_secret: 'konvent-test-secret',
  redirect_uris: [redirect],
  post_logout_redirect_uris: [postLogout],
  grant_types: ['authorization_code'],
  response_types: ['code'],
};
if (backchannel) {
  client.backchannel_logout_uri = backchannel;
  client.backchannel_logout_session_required = true;
}

let issuer = `http://127.0.0.1:${port}`;
const configuration = {
  clients: [client],
  jwks: { keys: [{ ...signing, kid: 'k1', use: 'sig', alg: 'RS256' }] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  // The provider refuses to call special-use addresses (SSRF protection); konvent runs
  // on 127.0.0.1 in the tests, so its back-channel logout is called without that guard.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  ttl: { IdToken: () => mode.idTokenTtl },
  // No consent screen: the test client is first-party.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const person = people[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: person.email,
          email_verified: true,
          name: person.name,
          groups: groupsOverride[id] ?? person.groups,
        };
      },
    };
  },
};

function start(listenPort) {
  return new Promise((resolve) => {
    const probe = { server: null };
    const provider = new Provider(issuer, configuration);
    provider.proxy = false;
    // Failures the tests should see (stderr).
    provider.on('backchannel.error', (ctx, err, client) => console.error('backchannel.error', client?.clientId, err?.message, err?.cause?.message ?? ''));
    provider.on('server_error', (ctx, err) => console.error('server_error', err?.message));
    provider.use(async (ctx, next) => {
      if (ctx.path === '/__test/mode' && ctx.method === 'POST') {
        mode.jwks = ctx.query.jwks === 'foreign' ? 'foreign' : 'normal';
        mode.idTokenTtl = ctx.query.expire ? 1 : 3600;
        mode.tokenDelayMs = ctx.query.expire ? 2100 : 0;
        mode.audience = ctx.query.audience ?? null;
        if (ctx.query.person) groupsOverride[ctx.query.person] = (ctx.query.groups ?? '').split(',').filter(Boolean);
        ctx.status = 204;
        return;
      }
      if (ctx.path === '/favicon.ico') {
        ctx.status = 204; // browsers ask; a 404 would be a console error in the e2e guard
        return;
      }
      if (ctx.path === '/jwks' && mode.jwks === 'foreign') {
        ctx.body = { keys: [publicOf(foreign, 'k1')] };
        return;
      }
      await next();
      // The development pages import a web font from Google: konvent's browser tests
      // allow no third-party host, so the import is taken out.
      if (typeof ctx.body === 'string' && ctx.type?.includes('html')) {
        ctx.body = ctx.body.replace(/@import url\(https:[^)]*\);?/g, '');
      }
      if (ctx.path === '/token' && mode.audience && ctx.body?.id_token) {
        ctx.body = { ...ctx.body, id_token: resigned(ctx.body.id_token, (c) => { c.aud = mode.audience; }) };
      }
      if (ctx.path === '/token' && mode.tokenDelayMs > 0) {
        await new Promise((r) => setTimeout(r, mode.tokenDelayMs));
      }
    });
    probe.server = provider.listen(listenPort, '127.0.0.1', () => resolve(probe.server));
  });
}

// The issuer names the port: with port 0 learn it first, then serve on it.
let server = await start(port);
if (port === 0) {
  const chosen = server.address().port;
  await new Promise((r) => server.close(r));
  issuer = `http://127.0.0.1:${chosen}`;
  server = await start(chosen);
}
console.log(`listening ${issuer}`);
process.on('SIGTERM', () => process.exit(0));
