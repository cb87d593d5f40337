// Applies prisma/migrations with Prisma's own wasm schema engine, which records them in
// _prisma_migrations exactly as `prisma migrate deploy` does (the Docker path uses that
// command; this machine has no native engine). `node scripts/migrate.mjs diff` prints the
// SQL that takes an empty database to prisma/schema.prisma, for writing a new migration.
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const migrationsDir = path.join(root, 'prisma/migrations');
const schemaPath = path.join(root, 'prisma/schema.prisma');

async function loadEngine(schema) {
  const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')), 'schema_engine_bg.wasm');
  const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set (source scripts/env.sh, or export it)');
  const factory = new PrismaPg({ connectionString: url });
  // The engine expects Prisma's bound, Result-returning wrapper, as the CLI passes it.
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  const log = (line) => process.env.DEBUG_MIGRATE && console.error(line);
  return bg.SchemaEngine.new({ datamodels: [[schemaPath, schema]] }, log, adapter);
}

async function migrationList() {
  const dirs = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      dirs.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8').then(
            (ok) => ({ tag: 'ok', value: ok }),
            (e) => ({ tag: 'error', value: String(e) }),
          ),
        },
      })),
    ),
  };
}

const schema = await readFile(schemaPath, 'utf8');
const engine = await loadEngine(schema);
const filters = { externalTables: [], externalEnums: [] };
if (process.argv[2] === 'diff') {
  const result = await engine.diff({
    from: { tag: 'empty' },
    to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
    script: true,
    exitCode: null,
    shadowDatabaseUrl: null,
    filters,
  });
  process.stdout.write(result.stdout ?? '');
} else {
  const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: await migrationList(), filters });
  console.log(appliedMigrationNames.length ? `[migrate] applied ${appliedMigrationNames.join(', ')}` : '[migrate] database is up to date');
}
engine.free?.();
