import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { PrismaService } from '@archiver/database';
import type { ObjectStoreRepository } from '@archiver/storage';
import type { AppProcess } from '../stack/app-process';
import { searchForSecrets, type SecretSearch } from './secret-search';

const SECRET = 'the-secret-token-0123456789';
const JWT = 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x';
const shapes = [{ name: 'LFS token', pattern: /Bearer\s+eyJ/g }];

/** Every place searchForSecrets reads, each holding `text`, or `clean` everywhere but `place`. */
type Place = 'log' | 'answer' | 'command line' | 'database' | 'bucket' | 'file';
const PLACES: Place[] = ['log', 'answer', 'command line', 'database', 'bucket', 'file'];

/**
 * The stack's clients reduced to the reads the search makes: a row per query and one bucket
 * with one object. Unit scope: the queries themselves run against Postgres in the credential suites.
 */
async function placesHolding(text: string, place: Place, workDir: string): Promise<Omit<SecretSearch, 'secrets' | 'shapes'>> {
  const at = (where: Place) => (where === place ? text : 'nothing to see');
  const prisma = {
    $queryRaw: async (query: TemplateStringsArray) =>
      query.join('?').includes('DISTINCT bucket') ? [{ bucket: 'b1' }] : [{ j: at('database') }],
  } as unknown as PrismaService;
  const store = {
    listAllObjects: async () => [{ name: 'snapshots/1/manifest.json' }],
    getObject: async () => Readable.from([Buffer.from(at('bucket'), 'latin1')]),
  } as unknown as ObjectStoreRepository;
  await mkdir(path.join(workDir, 'visit-1'), { recursive: true });
  if (place === 'file') await writeFile(path.join(workDir, 'visit-1', 'ssh-identity'), '');
  const app = { name: 'worker', output: () => at('log') } as unknown as AppProcess;
  return {
    apps: [app],
    answers: [at('answer')],
    commandLines: [at('command line')],
    prisma,
    store,
    normalizedUrlLike: 'http://127.0.0.1:1/%',
    workDir,
  };
}

describe(searchForSecrets.name, () => {
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'secret-search-'));
  });
  afterEach(() => rm(workDir, { recursive: true, force: true }));

  it.each(PLACES)('finds a secret in the %s, and a secret known only by its shape there too', async (place) => {
    const bySecret = await searchForSecrets({ ...(await placesHolding(`x ${SECRET} y`, place, workDir)), secrets: [SECRET], shapes });
    expect(bySecret.found).toHaveLength(1);
    if (place === 'file') return; // a left-over credential file is a finding by its name alone
    const byShape = await searchForSecrets({ ...(await placesHolding(JWT, place, workDir)), secrets: [SECRET], shapes });
    expect(byShape.found).toEqual([expect.stringContaining('(LFS token)')]);
  });

  it('finds nothing where nothing leaked, and says how much it searched', async () => {
    const sut = await searchForSecrets({ ...(await placesHolding('clean', 'answer', workDir)), secrets: [SECRET], shapes });
    expect(sut).toEqual({ found: [], searched: { rows: 1, buckets: 1, objects: 1, commandLines: 1 } });
  });

  it('finds a shape in every place that holds it, even with a /g pattern (whose lastIndex would skip some)', async () => {
    const search = await placesHolding(JWT, 'log', workDir);
    const sut = await searchForSecrets({ ...search, answers: [JWT, JWT], commandLines: [JWT], secrets: [], shapes });
    expect(sut.found).toEqual([
      'worker log (LFS token)',
      'API answers (LFS token)',
      expect.stringMatching(/^command line .*\(LFS token\)$/),
    ]);
  });
});
