// A real OpenID Connect provider for the console's browser tests: panva's oidc-provider (OpenID
// certified), pinned by package-lock.json, with its development login and consent pages.
//
//   LMP_OIDC_PORT=... LMP_OIDC_CLIENT='{"client_id":...,"client_secret":...,"redirect_uris":[...]}' \
//   LMP_OIDC_ACCOUNTS='{"login":{"name":...,"roles":[...],"cities":[...]}}' node oidc-provider.mjs
//
// Any password signs in a login of LMP_OIDC_ACCOUNTS; other logins are refused. The ID token
// carries the account's `roles` and `cities` claims (scope openid), as a directory would map
// them. PKCE is required of every client. Prints one line "listening <issuer>" when ready.
import process from 'node:process';

import Provider from 'oidc-provider';

function setting(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const port = Number(setting('LMP_OIDC_PORT'));
const client = JSON.parse(setting('LMP_OIDC_CLIENT'));
const accounts = JSON.parse(setting('LMP_OIDC_ACCOUNTS'));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...client,
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub', 'roles', 'cities'],
    profile: ['name'],
  },
  // The claims of the granted scopes go into the ID token too (authlib reads the ID token).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['lmp-browser-test-oidc-cookie-key'] },
  async findAccount(_ctx, sub) {
    const account = accounts[sub];
    if (account === undefined) {
      return undefined;
    }
    return {
      accountId: sub,
      async claims() {
        return { sub, name: account.name ?? sub, roles: account.roles, cities: account.cities };
      },
    };
  },
});

provider.on('server_error', (_ctx, error) => console.error('server_error', error));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
