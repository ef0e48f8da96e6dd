// A real OpenID Connect provider for the console's tests: npm's OpenID-certified oidc-provider,
// configured as the programme's identity provider is expected to be (see the console README).
//
//   node oidc_provider.mjs CONFIG.json
//
// CONFIG: {"port": 0-65535, "client": {"client_id", "client_secret", "redirect_uris": [...]},
//          "accounts": {"<login>": {"name", "role", "association_id"?, "center_id"?, ...}}}
// Prints one line, "ready <issuer>", once it listens.
//
// What the services rely on: the access token is a JWT for the audience "fursa", signed with a
// key of the provider's JWKS, carrying the person's role and what binds it (association,
// center, region or province) — exactly the claims of a development token.
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const BINDING = ["role", "association_id", "center_id", "region_code", "province_code"];
const RESOURCE = "urn:fursa:api";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-1", alg: "RS256", use: "sig" };

function account(login) {
  const person = config.accounts[login];
  if (!person) return undefined;
  return {
    accountId: login,
    async claims() {
      return { sub: login, name: person.name };
    },
  };
}

const server = createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      ...config.client,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  claims: { openid: ["sub"], profile: ["name"] },
  // The console reads the person's name from the ID token; the role travels in the access token.
  conformIdTokenClaims: false,
  findAccount: (_ctx, sub) => account(sub),
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "fursa",
        audience: "fursa",
        accessTokenFormat: "jwt",
        accessTokenTTL: 3600,
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
  // The programme's own console needs no consent screen: its grant is given at sign-in.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid profile");
    grant.addResourceScope(RESOURCE, "fursa");
    await grant.save();
    return grant;
  },
  async extraTokenClaims(_ctx, token) {
    const person = config.accounts[token.accountId];
    if (!person) return undefined;
    return Object.fromEntries(BINDING.filter((name) => person[name]).map((name) => [name, person[name]]));
  },
});

server.on("request", provider.callback());
process.stdout.write(`ready ${issuer}\n`);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
