import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '@archiver/config';
import { WorkDirError, WorkDirs } from './work-dir';

const ARCHIVE = '6f1c8a5e-8d5a-4d1e-9a43-0b7c1f2e3d4a';
const RUN = '7b1b6fec-1111-4222-8333-944444444444';

describe(WorkDirs.name, () => {
  let root: string;
  let sut: WorkDirs;
  /** A pid that surely ran and is gone: a child that has exited. */
  const deadPid = () => spawnSync('true').pid as number;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'work-dirs-'));
    sut = new WorkDirs({ clone: { workDir: root }, worker: { hostId: 'host_a' } } as AppConfig);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('makes one dir per run, named after the archive, this process, the run and this host', async () => {
    const dir = await sut.create(ARCHIVE, RUN);
    expect(path.basename(dir)).toMatch(new RegExp(`^archive-${ARCHIVE}-${process.pid}-${RUN}-h\\.host_a-`));
    expect(await sut.create(ARCHIVE, RUN)).not.toBe(dir);
  });

  it('names dirs with only the characters ssh takes in a path (its key and known-hosts files live inside)', async () => {
    const dotted = new WorkDirs({ clone: { workDir: root }, worker: { hostId: 'worker_1.eu.example' } } as AppConfig);
    for (const dir of [await sut.create(ARCHIVE, RUN), await dotted.create(ARCHIVE, RUN)]) {
      expect(path.basename(dir)).toMatch(/^[A-Za-z0-9._-]+$/);
    }
  });

  it('sweeps only dirs of dead processes, and names the runs they belonged to', async () => {
    const live = await sut.create(ARCHIVE, RUN);
    const dead = path.join(root, `archive-${ARCHIVE}-${deadPid()}-${RUN}-abc123`);
    const older = path.join(root, `archive-${ARCHIVE}-${deadPid()}-xyz789`); // before run claims
    await mkdir(path.join(dead, 'repo.git'), { recursive: true });
    await mkdir(older);
    await writeFile(path.join(root, 'unrelated-file'), 'kept');

    const swept = await sut.sweepDead();
    expect(swept).toEqual(
      expect.arrayContaining([
        { dir: dead, archiveId: ARCHIVE, runId: RUN },
        { dir: older, archiveId: ARCHIVE, runId: undefined },
      ]),
    );
    expect(swept).toHaveLength(2);
    expect((await readdir(root)).sort()).toEqual([path.basename(live), 'unrelated-file'].sort());
  });

  it("never sweeps another host's dirs, whatever their PIDs mean here; its own and unnamed-host ones are swept", async () => {
    const dead = deadPid();
    const otherHost = [
      `archive-${ARCHIVE}-${dead}-${RUN}-h.host_b-abc123`,
      `archive-${ARCHIVE}-${process.pid + 100000}-${RUN}-h.host.a-abc123`,
      `archive-${ARCHIVE}-${dead}-${RUN}-h.host_a_2-abc123`,
    ];
    const mine = `archive-${ARCHIVE}-${dead}-${RUN}-h.host_a-def456`;
    const legacy = `archive-${ARCHIVE}-${dead}-${RUN}-ghi789`;
    for (const name of [...otherHost, mine, legacy]) await mkdir(path.join(root, name, 'repo.git'), { recursive: true });

    const swept = await sut.sweepDead();
    expect(swept.map((run) => path.basename(run.dir)).sort()).toEqual([legacy, mine].sort());
    expect((await readdir(root)).sort()).toEqual([...otherHost].sort());
  });

  it('reports a work dir it cannot make as WORK_DIR_FAILED, permanent unless the disk may free up', async () => {
    const file = path.join(root, 'a-file');
    await writeFile(file, '');
    const broken = new WorkDirs({ clone: { workDir: path.join(file, 'work') }, worker: { hostId: 'host_a' } } as AppConfig);
    const error = await broken.create(ARCHIVE, RUN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkDirError);
    expect(error).toMatchObject({ code: 'WORK_DIR_FAILED', transient: false, domain: 'worker' });
    expect((error as Error).message).toMatch(/ENOTDIR.*ARCHIVER_WORK_DIR/);
  });
});
