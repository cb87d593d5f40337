import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import { Client } from 'pg';
import { loadConfig } from '@archiver/config';

const MIGRATIONS = path.resolve(__dirname, '../../prisma/migrations');
const TARGET = '_tracked_repositories';

/**
 * The tracked-repositories migration on a database that already holds archives in every
 * status: applied to a scratch schema of the stack's database (the app's role owns the
 * database, so it may create one), after the migrations before it, with rows inserted between.
 */
describe('migration tracked_repositories', () => {
  const schema = `migration_check_${randomBytes(6).toString('hex')}`;
  // Unqualified names in the migrations then create and find everything in the scratch schema.
  const connection = { connectionString: loadConfig().database.url, options: `-c search_path=${schema}` };
  const client = new Client(connection);
  let engine: SqlDriverAdapter;
  const all = readdirSync(MIGRATIONS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const target = all.find((name) => name.endsWith(TARGET));
  // Through the driver adapter scripts/migrate.mjs uses, so the script is split as it will be in production.
  const apply = (name: string) => engine.executeScript(readFileSync(path.join(MIGRATIONS, name, 'migration.sql'), 'utf8'));
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute));

  // One archive per status of repository A (its url spelled differently over time), and
  // repositories that only ever had a pending or a failed archive.
  const rows = [
    {
      id: 'a0000000-0000-4000-8000-000000000001',
      url: 'https://h.example/A.git',
      n: 'https://h.example/a',
      status: 'completed',
      created: 1,
      finished: 2,
      bucket: 'bkt-a',
    },
    {
      id: 'a0000000-0000-4000-8000-000000000002',
      url: 'https://h.example/a',
      n: 'https://h.example/a',
      status: 'failed',
      created: 3,
      finished: 4,
      bucket: null,
    },
    {
      id: 'a0000000-0000-4000-8000-000000000003',
      url: 'https://h.example/a.git',
      n: 'https://h.example/a',
      status: 'completed',
      created: 5,
      finished: 6,
      bucket: 'bkt-a',
    },
    {
      id: 'a0000000-0000-4000-8000-000000000004',
      url: 'https://h.example/a',
      n: 'https://h.example/a',
      status: 'running',
      created: 7,
      finished: null,
      bucket: 'bkt-a',
    },
    {
      id: 'a0000000-0000-4000-8000-000000000005',
      url: 'https://h.example/a',
      n: 'https://h.example/a',
      status: 'queued',
      created: 8,
      finished: null,
      bucket: null,
    },
    {
      id: 'a0000000-0000-4000-8000-000000000006',
      url: 'https://h.example/a',
      n: 'https://h.example/a',
      status: 'pending',
      created: 9,
      finished: null,
      bucket: null,
    },
    {
      id: 'b0000000-0000-4000-8000-000000000001',
      url: 'https://h.example/b',
      n: 'https://h.example/b',
      status: 'pending',
      created: 10,
      finished: null,
      bucket: null,
    },
    {
      id: 'c0000000-0000-4000-8000-000000000001',
      url: 'https://h.example/c',
      n: 'https://h.example/c',
      status: 'failed',
      created: 11,
      finished: 12,
      bucket: null,
    },
  ];

  beforeAll(async () => {
    expect(target).toBeDefined();
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    engine = await new PrismaPg(connection).connect();
    for (const name of all.filter((n) => n < target!)) await apply(name);
    for (const r of rows) {
      await client.query(
        `INSERT INTO archive (id, url, normalized_url, status, requested_by, created_at, updated_at, finished_at, bucket)
         VALUES ($1, $2, $3, $4, $8, $5, $5, $6, $7)`,
        // One requester per archive: the active-archive index allows one active archive per user and URL.
        [r.id, r.url, r.n, r.status, at(r.created), r.finished === null ? null : at(r.finished), r.bucket, `sub-${r.id}`],
      );
    }
    await apply(target!);
  });

  afterAll(async () => {
    try {
      await engine?.dispose();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  it('creates one unscheduled, active repository per normalized URL with its stamps from the archives', async () => {
    const { rows: repositories } = await client.query(
      `SELECT normalized_url, url, bucket, state, next_visit_at, last_visit_at, last_success_at, last_change_at,
              consecutive_failures, interval_seconds, created_at
       FROM repository ORDER BY normalized_url`,
    );
    const common = { state: 'active', next_visit_at: null, consecutive_failures: 0, interval_seconds: 86_400 };
    expect(repositories).toEqual([
      {
        ...common,
        normalized_url: 'https://h.example/a',
        url: 'https://h.example/A.git',
        bucket: 'bkt-a',
        last_visit_at: at(6),
        last_success_at: at(6),
        last_change_at: at(6),
        created_at: at(1),
      },
      {
        ...common,
        normalized_url: 'https://h.example/b',
        url: 'https://h.example/b',
        bucket: null,
        last_visit_at: null,
        last_success_at: null,
        last_change_at: null,
        created_at: at(10),
      },
      {
        ...common,
        normalized_url: 'https://h.example/c',
        url: 'https://h.example/c',
        bucket: null,
        last_visit_at: at(12),
        last_success_at: null,
        last_change_at: null,
        created_at: at(11),
      },
    ]);
  });

  it('makes every archive a visit of its repository, completed ones changed, without touching what the archives hold', async () => {
    const { rows: visits } = await client.query(
      `SELECT a.id, r.normalized_url, a.outcome, a.refs_hash, a.status, a.bucket, a.updated_at, a.created_at
       FROM archive a JOIN repository r ON r.id = a.repository_id ORDER BY a.id`,
    );
    expect(visits).toEqual(
      rows.map((r) => ({
        id: r.id,
        normalized_url: r.n,
        outcome: r.status === 'completed' ? 'changed' : null,
        refs_hash: null,
        status: r.status,
        bucket: r.bucket,
        updated_at: at(r.created),
        created_at: at(r.created),
      })),
    );
  });

  it('requires every later archive to belong to a repository', async () => {
    await expect(
      client.query(`INSERT INTO archive (id, url, normalized_url, requested_by, updated_at)
        VALUES ('d0000000-0000-4000-8000-000000000001', 'https://h.example/d', 'https://h.example/d', 'sub', now())`),
    ).rejects.toThrow(/repository_id/);
  });
});
