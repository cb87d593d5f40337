import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { PrismaService } from '@archiver/database';
import type { ObjectStoreRepository } from '@archiver/storage';
import type { AppProcess } from '../stack/app-process';
import { CommandLineSampler } from './command-line-sampler';
import { readAll } from './read-all';

/**
 * Names of the files the worker writes a credential into for git and ssh (the credential
 * helper's file, the ssh identity and known hosts). They must go with git's throw-away home,
 * whatever the visit's outcome.
 */
const CREDENTIAL_FILE = /^credential$|ssh-identity|ssh-known-hosts/;

/** Every place a secret of a visit could end up, as the architecture lists them. */
export interface SecretSearch {
  /** The secrets in every form they travel in (e.g. a token and its Basic authorization value). */
  secrets: string[];
  /**
   * Secrets the test never holds, known by their shape only (e.g. a forge's short-lived LFS
   * token, sent as "Bearer eyJ…"), each with the name a finding reports.
   */
  shapes?: Array<{ name: string; pattern: RegExp }>;
  /** Processes whose output is searched, stopped ones included. */
  apps: AppProcess[];
  /** The text of every answer the API gave the test. */
  answers: string[];
  /** Command lines seen while visits ran (CommandLineSampler). */
  commandLines: Iterable<string>;
  prisma: PrismaService;
  store: ObjectStoreRepository;
  /**
   * SQL LIKE pattern of the normalized URLs of the test's repositories: their repository,
   * archive and archive_credential rows, and every object of their completed archives' buckets.
   */
  normalizedUrlLike: string;
  /** The worker's ARCHIVER_WORK_DIR: no credential file may be left in it. */
  workDir: string;
}

export interface SecretSearchResult {
  /** Where a secret was found, one entry per secret and place; empty when none leaked. */
  found: string[];
  /** How much was searched, so a test can tell "nothing leaked" from "nothing was looked at". */
  searched: { rows: number; buckets: number; objects: number; commandLines: number };
}

/** Looks for every secret in logs, API answers, command lines, the database, the buckets and left-over files. */
export async function searchForSecrets(search: SecretSearch): Promise<SecretSearchResult> {
  const found: string[] = [];
  const shapes = search.shapes ?? [];
  const look = (where: string, text: string) => {
    found.push(...search.secrets.filter((s) => text.includes(s)).map(() => where));
    // search(), not test(): a /g pattern's lastIndex would make test() skip matches in later texts.
    found.push(...shapes.filter((shape) => text.search(shape.pattern) >= 0).map((shape) => `${where} (${shape.name})`));
  };

  for (const app of search.apps) look(`${app.name} log`, app.output());
  look('API answers', search.answers.join('\n'));
  const commandLines = [...search.commandLines];
  for (const line of commandLines) look(`command line ${line.slice(0, 200)}`, line);

  const like = search.normalizedUrlLike;
  const rows = await search.prisma.$queryRaw<{ j: string }[]>`
    SELECT row_to_json(r)::text AS j FROM repository r WHERE normalized_url LIKE ${like}
    UNION ALL SELECT row_to_json(a)::text FROM archive a WHERE normalized_url LIKE ${like}
    UNION ALL SELECT row_to_json(c)::text FROM archive_credential c JOIN archive a ON a.id = c.archive_id
      WHERE a.normalized_url LIKE ${like}`;
  look('database', rows.map((row) => row.j).join('\n'));

  const buckets = await search.prisma.$queryRaw<{ bucket: string }[]>`
    SELECT DISTINCT bucket FROM archive WHERE normalized_url LIKE ${like} AND status = 'completed' AND bucket IS NOT NULL`;
  let objects = 0;
  for (const { bucket } of buckets) {
    for (const object of await search.store.listAllObjects(bucket, '')) {
      objects += 1;
      look(`${bucket}/${object.name}`, (await readAll(await search.store.getObject(bucket, object.name))).toString('latin1'));
    }
  }

  const entries = await readdir(search.workDir, { recursive: true }).catch(() => [] as string[]);
  found.push(...entries.filter((entry) => CREDENTIAL_FILE.test(path.basename(entry))).map((entry) => `file ${entry}`));

  return { found, searched: { rows: rows.length, buckets: buckets.length, objects, commandLines: commandLines.length } };
}

/**
 * One suite's watch over its secrets: collects what they could leak into while the suite runs
 * (API answers through a RecordingApiClient on `answers`, command lines while `commandLines`
 * samples), then searches that and every other place with `searchForSecrets`.
 */
export class SecretLeakWatch {
  readonly answers: string[] = [];
  readonly commandLines = new CommandLineSampler();

  constructor(private readonly stores: Pick<SecretSearch, 'prisma' | 'store' | 'workDir'>) {}

  search(found: Pick<SecretSearch, 'secrets' | 'shapes' | 'apps' | 'normalizedUrlLike'>): Promise<SecretSearchResult> {
    return searchForSecrets({ ...this.stores, ...found, answers: this.answers, commandLines: this.commandLines.seen });
  }
}
