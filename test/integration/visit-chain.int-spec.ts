import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '@archiver/config';
import { ArchiveRepository, PrismaService, RefChangeRepository } from '@archiver/database';
import { foldRefChanges, type RefChange, summarizeRefChanges } from '@archiver/git';
import { RefChangesService } from '../../apps/frontend/src/repositories/ref-changes.service';

type Kind = RefChange['kind'];

// Deleting visits (retention, DELETE /api/archives/:id) on the real Postgres: the changes
// between any two snapshots left read exactly as before, whichever visits go and in what order,
// also when two are deleted at once. Histories are random (seeded), names are bytes.
describe('deleting visits keeps the ref-change chain whole', () => {
  const prisma = new PrismaService(loadConfig());
  const archives = new ArchiveRepository(prisma);
  const service = new RefChangesService(new RefChangeRepository(prisma));
  const requestedBy = `test-${randomUUID()}`;

  afterAll(async () => {
    try {
      const rows = await prisma.archive.findMany({ where: { requestedBy }, select: { repositoryId: true } });
      await prisma.archive.deleteMany({ where: { requestedBy } });
      await prisma.repository.deleteMany({ where: { id: { in: [...new Set(rows.map((r) => r.repositoryId))] } } });
    } finally {
      await prisma.$disconnect();
    }
  });

  /** Deterministic (mulberry32): a failing seed replays. */
  const random = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const NAMES = [
    Buffer.from('refs/heads/main'),
    Buffer.from('refs/heads/topic'),
    Buffer.from('refs/tags/v1.0'),
    Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0x68, 0x65, 0x61, 0x64, 0x73, 0x2f, 0xe9]), // refs/heads/<latin-1 é>
  ];

  /** Records one completed visit per step, each step its ref changes since the visit before. */
  async function scripted(steps: readonly RefChange[][]): Promise<{ repositoryId: string; ids: string[] }> {
    const name = `chain-${randomUUID()}`;
    const ids: string[] = [];
    let repositoryId = '';
    for (const [v, refs] of steps.entries()) {
      const { archive } = await archives.createOrFindActive({
        url: `https://example.org/${name}.git`,
        normalizedUrl: `https://example.org/${name}`,
        requestedBy,
      });
      const at = new Date(Date.UTC(2026, 0, 1 + v));
      const runId = randomUUID();
      await archives.markQueued(archive.id, at);
      await archives.claimRun(archive.id, runId, 60_000, at);
      const done = await archives.markCompleted(archive.id, runId, { commit: null, refCount: 0, fileCount: 0, byteCount: 0n }, at, {
        outcome: refs.length > 0 ? 'changed' : 'unchanged',
        refsHash: null,
        changes: { sinceId: ids.at(-1) ?? null, refs, summary: summarizeRefChanges(refs) },
      });
      expect(done).not.toBeNull();
      repositoryId = archive.repositoryId;
      ids.push(archive.id);
    }
    return { repositoryId, ids };
  }

  /** Records `count` completed visits of a new repository, each with random ref changes since the one before. */
  async function visits(seed: number, count: number): Promise<{ repositoryId: string; ids: string[]; states: Map<string, string[]> }> {
    const next = random(seed);
    const commits = Array.from({ length: 3 }, () => randomBytes(20).toString('hex'));
    const state = new Map<number, string>();
    const steps: RefChange[][] = [];
    const stateAfter: string[][] = [];
    for (let v = 0; v < count; v++) {
      const refs: RefChange[] = [];
      NAMES.forEach((nameBytes, i) => {
        const old = state.get(i) ?? null;
        const roll = next();
        const commit = commits[Math.floor(next() * commits.length)]!;
        const now = old === null ? (roll < 0.6 ? commit : null) : roll < 0.15 ? null : roll < 0.65 ? commit : old;
        if (now === old) return;
        const isTag = nameBytes.subarray(0, 10).toString() === 'refs/tags/';
        const kind: Kind =
          old === null ? 'created' : now === null ? 'deleted' : isTag ? 'tag_moved' : next() < 0.5 ? 'fast_forward' : 'non_fast_forward';
        refs.push({ nameBytes, kind, oldSha: old, newSha: now });
        if (now === null) state.delete(i);
        else state.set(i, now);
      });
      steps.push(refs);
      stateAfter.push([...state.values()].sort());
    }
    const { repositoryId, ids } = await scripted(steps);
    return { repositoryId, ids, states: new Map(ids.map((id, v) => [id, stateAfter[v]!])) };
  }

  /** The API's answer for every range between two of the given visits (oldest first). */
  async function answers(repositoryId: string, ids: readonly string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (let to = 1; to < ids.length; to++) {
      for (let from = 0; from < to; from++) {
        const view = await service.between(repositoryId, ids[from], ids[to]);
        out.set(`${ids[from]}..${ids[to]}`, { summary: view.summary, changes: view.changes });
      }
    }
    return out;
  }

  it('any visits, deleted in any order, leave every remaining range as it was (12 random histories)', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const { repositoryId, ids, states } = await visits(seed, 6);
      const before = await answers(repositoryId, ids);
      let left = [...ids];
      const next = random(seed * 31);
      while (left.length > 1) {
        const gone = left[Math.floor(next() * left.length)]!;
        await archives.deleteVisit(gone, foldRefChanges);
        left = left.filter((id) => id !== gone);
        for (const [range, answer] of await answers(repositoryId, left)) {
          expect({ seed, range, answer }).toEqual({ seed, range, answer: before.get(range) });
        }
        // The oldest one left now counts from nothing: every ref it holds, created.
        const oldest = await service.between(repositoryId, undefined, left[0]);
        expect({
          seed,
          from: oldest.from,
          kinds: new Set(oldest.changes.map((c) => c.kind)),
          shas: oldest.changes.map((c) => c.newSha).sort(),
        }).toEqual({
          seed,
          from: null,
          kinds: new Set(oldest.changes.length > 0 ? ['created'] : []),
          shas: states.get(left[0]!),
        });
        // Each visit's own counts are its changes since the snapshot before it that is left.
        const listed = await new RefChangeRepository(prisma).listSnapshots(repositoryId);
        for (let k = 1; k < left.length; k++) {
          const own = listed.find((s) => s.id === left[k])!;
          expect({ seed, id: own.id, since: own.changesSinceId, summary: own.changeSummary }).toEqual({
            seed,
            id: own.id,
            since: left[k - 1],
            summary: (before.get(`${left[k - 1]}..${left[k]}`) as { summary: unknown }).summary,
          });
        }
        expect(listed.find((link) => link.id === left[0])!.changesSinceId).toBeNull();
      }
    }
  });

  it('a branch force-pushed away and back in a deleted stretch still reads as not fast-forwarded over the range', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(40));
    const main = Buffer.from('refs/heads/main');
    const { repositoryId, ids } = await scripted([
      [{ nameBytes: main, kind: 'created', oldSha: null, newSha: a! }],
      [{ nameBytes: main, kind: 'non_fast_forward', oldSha: a!, newSha: b! }],
      [{ nameBytes: main, kind: 'non_fast_forward', oldSha: b!, newSha: a! }],
      [{ nameBytes: main, kind: 'fast_forward', oldSha: a!, newSha: c! }],
    ]);
    const whole = await service.between(repositoryId, ids[0], ids[3]);
    expect(whole.changes).toEqual([expect.objectContaining({ kind: 'non_fast_forward', oldSha: a, newSha: c })]);
    // v1 goes: v2 now counts from v0, and moved main nowhere on the way (no change of its own).
    await archives.deleteVisit(ids[1]!, foldRefChanges);
    expect((await service.between(repositoryId, ids[0], ids[2])).changes).toEqual([]);
    expect(await service.between(repositoryId, ids[0], ids[3])).toEqual(whole);
  });

  it('two neighbours deleted at once still leave the chain whole', async () => {
    for (let seed = 101; seed <= 106; seed++) {
      const { repositoryId, ids } = await visits(seed, 5);
      const before = await answers(repositoryId, ids);
      await Promise.all([archives.deleteVisit(ids[1]!, foldRefChanges), archives.deleteVisit(ids[2]!, foldRefChanges)]);
      const left = [ids[0]!, ids[3]!, ids[4]!];
      const after = await answers(repositoryId, left);
      for (const range of [`${ids[0]}..${ids[3]}`, `${ids[0]}..${ids[4]}`, `${ids[3]}..${ids[4]}`]) {
        expect({ seed, range, answer: after.get(range) }).toEqual({ seed, range, answer: before.get(range) });
      }
    }
  });

  it('a visit recorded before ref changes folds nothing: ranges across it stay unknown, later ones are kept', async () => {
    const { repositoryId, ids } = await visits(201, 4);
    const before = await answers(repositoryId, ids);
    await prisma.$executeRaw`UPDATE archive SET change_summary = NULL WHERE id = ${ids[1]}::uuid`;
    await archives.deleteVisit(ids[1]!, foldRefChanges);
    await expect(service.between(repositoryId, ids[0], ids[2])).rejects.toMatchObject({ code: 'CHANGES_UNAVAILABLE' });
    expect(await service.between(repositoryId, ids[2], ids[3])).toMatchObject(before.get(`${ids[2]}..${ids[3]}`) as object);
    // A range over decades of daily visits: more ids than Postgres takes bind parameters (Prisma splits the IN list).
    const many = [...ids, ...Array.from({ length: 70_000 }, () => randomUUID())];
    const refChanges = new RefChangeRepository(prisma);
    expect(await refChanges.findChanges(many)).toEqual(await refChanges.findChanges(ids));
    // Deleting something that is not there is not an error (a retried prune).
    await archives.deleteVisit(ids[1]!, foldRefChanges);
    await archives.deleteVisit(randomUUID(), foldRefChanges);
  });
});
