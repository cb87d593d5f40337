// Imports deploy/keycloak/archiver-realm.json into the running Keycloak through its admin
// API, once per stack (Docker uses the same file with --import-realm). `${NAME}`
// placeholders are filled from the environment, as Keycloak's own import does.
import { readFile } from 'node:fs/promises';

const base = `http://127.0.0.1:${process.env.KEYCLOAK_PORT}`;
const realmFile = new URL('../deploy/keycloak/archiver-realm.json', import.meta.url);

function fill(text) {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name) => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`realm file needs ${name}, which is not set`);
    return JSON.stringify(value).slice(1, -1);
  });
}

async function call(path, init = {}) {
  const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(15000) });
  if (!res.ok && res.status !== 404 && res.status !== 409)
    throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/**
 * Creates the client, or updates it in place (PUT by its internal id) so that running this
 * again changes nothing. Protocol mappers are matched by name and created or updated one by
 * one: a client PUT does not reliably touch them.
 */
async function syncClient(realmName, client) {
  const clients = `/admin/realms/${realmName}/clients`;
  const { protocolMappers = [], ...settings } = client;
  const [found] = await (await call(`${clients}?clientId=${encodeURIComponent(client.clientId)}`, { headers })).json();
  if (!found) {
    await call(clients, { method: 'POST', headers, body: JSON.stringify(client) });
    return;
  }
  await call(`${clients}/${found.id}`, { method: 'PUT', headers, body: JSON.stringify({ ...settings, id: found.id }) });
  const mappersPath = `${clients}/${found.id}/protocol-mappers/models`;
  const existing = await (await call(mappersPath, { headers })).json();
  for (const mapper of protocolMappers) {
    const current = existing.find((m) => m.name === mapper.name);
    if (current)
      await call(`${mappersPath}/${current.id}`, { method: 'PUT', headers, body: JSON.stringify({ ...mapper, id: current.id }) });
    else await call(mappersPath, { method: 'POST', headers, body: JSON.stringify(mapper) });
  }
}

const tokenRes = await call('/realms/master/protocol/openid-connect/token', {
  method: 'POST',
  body: new URLSearchParams({
    grant_type: 'password',
    client_id: 'admin-cli',
    username: process.env.KEYCLOAK_ADMIN_USER,
    password: process.env.KEYCLOAK_ADMIN_PASSWORD,
  }),
});
const { access_token: token } = await tokenRes.json();
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const realm = JSON.parse(fill(await readFile(realmFile, 'utf8')));
const existing = await call(`/admin/realms/${realm.realm}`, { headers });
if (existing.status === 404) {
  const created = await call('/admin/realms', { method: 'POST', headers, body: JSON.stringify(realm) });
  // 409: a concurrent start imported it first, which is just as good.
  console.log(`[keycloak] realm ${realm.realm} ${created.status === 409 ? 'already imported' : 'imported'}`);
} else {
  // A realm imported by an older version of this file keeps its clients as they were; bring
  // each client in the file up to date (e.g. archiver-web turning into a public PKCE client).
  for (const client of realm.clients) await syncClient(realm.realm, client);
  // Keep the demo logins in step with configuration when the realm already exists.
  for (const user of realm.users) {
    const [found] = await (await call(`/admin/realms/${realm.realm}/users?exact=true&username=${user.username}`, { headers })).json();
    if (!found) continue;
    const credential = user.credentials[0];
    await call(`/admin/realms/${realm.realm}/users/${found.id}/reset-password`, {
      method: 'PUT',
      headers,
      body: JSON.stringify(credential),
    });
  }
  console.log(`[keycloak] realm ${realm.realm} present; clients and demo passwords synced`);
}
