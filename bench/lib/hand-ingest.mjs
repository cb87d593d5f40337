// The ingest phase's honest baseline (issue 13 item 9): the least a Node process can do for an
// authenticated submission — the same I/O as POST /api/archives, nothing else. One
// `node:http` handler: read the JSON body, verify the bearer token's RS256 signature against the
// realm's key (fetched once), its expiry, issuer and role, upsert the repository and insert the
// archive in one statement (the product's own SQL), add the BullMQ job to `pending`, answer 202.
// No framework, validation library, logging, metrics or rate limit. Run as its own process by
// bench/phases/ingest.mjs: `node bench/lib/hand-ingest.mjs <port>`; prints `ready` when listening.
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(ROOT, 'package.json'));
const { Pool } = require('pg');
const { Queue } = require('bullmq');

const port = Number(process.argv[2]);
const issuer = `${process.env.KEYCLOAK_URL}/realms/${process.env.KEYCLOAK_REALM || 'archiver'}`;
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const redis = new URL(process.env.REDIS_URL);
const pending = new Queue('pending', {
  connection: { host: redis.hostname, port: Number(redis.port), password: decodeURIComponent(redis.password) },
});
pending.on('error', () => undefined);

const certs = await (await fetch(`${issuer}/protocol/openid-connect/certs`)).json();
const keys = new Map(certs.keys.filter((k) => k.use !== 'enc').map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]));

/** The token's claims when its RS256 signature, expiry, issuer and role check out; else null. */
function claimsOf(header) {
  const token = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
  const [head, body, signature] = token?.split('.') ?? [];
  if (!signature) return null;
  const { kid, alg } = JSON.parse(Buffer.from(head, 'base64url').toString());
  const key = keys.get(kid);
  if (alg !== 'RS256' || !key || !verify('RSA-SHA256', Buffer.from(`${head}.${body}`), key, Buffer.from(signature, 'base64url')))
    return null;
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  if (claims.iss !== issuer || claims.exp * 1000 < Date.now() || !claims.realm_access?.roles?.includes('archiver-user')) return null;
  return claims;
}

const send = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/archives') return send(res, 404, { error: 'not found' });
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      const claims = claimsOf(req.headers.authorization);
      if (!claims) return send(res, 401, { error: 'unauthenticated' });
      const { url } = JSON.parse(Buffer.concat(chunks).toString());
      const normalizedUrl = url.replace(/\/+$/, '').replace(/\.git$/, '');
      const { rows } = await pool.query(
        `WITH repo AS (
           INSERT INTO repository (id, url, normalized_url) VALUES ($1::uuid, $3, $4)
           ON CONFLICT (normalized_url) DO UPDATE SET normalized_url = EXCLUDED.normalized_url RETURNING id)
         INSERT INTO archive (id, url, normalized_url, requested_by, requested_by_name, updated_at, repository_id)
         SELECT $2::uuid, $3, $4, $5, $6, now(), repo.id FROM repo
         ON CONFLICT DO NOTHING RETURNING id, status, created_at`,
        [randomUUID(), randomUUID(), url, normalizedUrl, claims.sub, claims.preferred_username],
      );
      if (!rows[0]) return send(res, 409, { error: 'active' });
      await pending.add('pending', { archiveId: rows[0].id }, { jobId: rows[0].id, removeOnComplete: true });
      send(res, 202, { id: rows[0].id, url, status: rows[0].status, createdAt: rows[0].created_at });
    } catch (error) {
      send(res, 500, { error: error.message });
    }
  });
}).listen(port, '127.0.0.1', () => console.log('ready'));
