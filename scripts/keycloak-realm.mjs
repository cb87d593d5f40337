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
  if (!res.ok && res.status !== 404 && res.status !== 409) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return res;
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
  // Keep the demo logins in step with configuration when the realm already exists.
  for (const user of realm.users) {
    const [found] = await (await call(`/admin/realms/${realm.realm}/users?exact=true&username=${user.username}`, { headers })).json();
    if (!found) continue;
    const credential = user.credentials[0];
    await call(`/admin/realms/${realm.realm}/users/${found.id}/reset-password`, { method: 'PUT', headers, body: JSON.stringify(credential) });
  }
  console.log(`[keycloak] realm ${realm.realm} present; demo passwords synced`);
}
