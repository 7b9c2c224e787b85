// The authorization server of the OAuth2 test tier: panva's oidc-provider (a certified
// OpenID/OAuth 2.0 implementation) on a loopback port, with
//   - "smtpsend-test": a public client (no secret, PKCE required) for the code and device grants,
//     with refresh tokens that rotate on every use;
//   - "dovecot": a confidential client that Dovecot's oauth2 passdb uses to introspect tokens;
//   - dev interactions (any login name, any password) that the tier's BROWSER script drives.
// Environment: OAUTH2_TEST_PORT (required), OAUTH2_TEST_DOVECOT_SECRET (the introspection
// client's secret, required), OAUTH2_TEST_CONFIDENTIAL_SECRET (the secret of a confidential
// installed-app client, "smtpsend-confidential"), OAUTH2_TEST_ACCESS_TTL (seconds, default
// 3600), OAUTH2_TEST_TTL_FILE (a file holding the access-token lifetime in seconds, read at each
// issuance, so a scenario can shorten it without a restart; it wins over the variable).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.OAUTH2_TEST_PORT);
const defaultTTL = Number(process.env.OAUTH2_TEST_ACCESS_TTL || 3600);
const ttlFile = process.env.OAUTH2_TEST_TTL_FILE;
const accessTTL = () => {
  try {
    return Number(readFileSync(ttlFile, 'utf8').trim()) || defaultTTL;
  } catch {
    return defaultTTL;
  }
};
const confidentialSecret = process.env.OAUTH2_TEST_CONFIDENTIAL_SECRET;
const dovecotSecret = process.env.OAUTH2_TEST_DOVECOT_SECRET;
if (!port || !dovecotSecret) {
  console.error('server.js: OAUTH2_TEST_PORT and OAUTH2_TEST_DOVECOT_SECRET are required');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'urn:smtpsend-test:smtp';

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'smtpsend-test',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      // Loopback redirects: any port is accepted at run time (RFC 8252 7.3).
      redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
    },
    ...(confidentialSecret ? [{
      // An installed app with a (non-confidential) secret, as Google's desktop clients are.
      client_id: 'smtpsend-confidential',
      client_secret: confidentialSecret,
      token_endpoint_auth_method: 'client_secret_post',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
    }] : []),
    {
      client_id: 'dovecot',
      client_secret: dovecotSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', 'smtp'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: {
      enabled: true,
      // Dovecot (the resource server) may introspect any token; the public client its own.
      allowedPolicy: async (ctx, client, token) =>
        client.clientId === 'dovecot' || token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, indicator) => {
        if (indicator !== RESOURCE) throw new Error(`unknown resource ${indicator}`);
        return { scope: 'smtp', accessTokenFormat: 'opaque', accessTokenTTL: accessTTL(),
          audience: RESOURCE };
      },
    },
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: () => accessTTL(),
    DeviceCode: 600,
    RefreshToken: 86400,
    Grant: 86400,
    Interaction: 600,
    Session: 86400,
  },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
});
provider.proxy = false;
// One request per connection: Dovecot's HTTP client keeps idle connections longer than Node's
// keep-alive timeout and would otherwise now and then send an introspection onto a closed one.
provider.use(async (ctx, next) => {
  ctx.set('Connection', 'close');
  await next();
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
for (const event of ['grant.error', 'revocation.error', 'introspection.error',
  'authorization.error']) {
  provider.on(event, (ctx, err) => console.error(event, err.message, err.error_detail || ''));
}
provider.listen(port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
