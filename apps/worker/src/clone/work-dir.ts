import { Inject, Injectable } from '@nestjs/common';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { CodedError } from '@archiver/errors';
import { killProcessesUnder } from '@archiver/git';

const PREFIX = 'archive-';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/**
 * archive id, pid, (since runs claim archives) the run id, and (since WORKER_HOST_ID) the host.
 * Only characters ssh accepts in a file path (ssh-transport.ts SAFE_PATH): key files live inside.
 */
const OWNER = new RegExp(`^archive-(${UUID})-(\\d+)-(?:(${UUID})(?:-h\\.([A-Za-z0-9._]+))?-)?`);

/** A dir left by a process that no longer runs, and the run it belonged to. */
export interface DeadRun {
  dir: string;
  archiveId: string;
  /** Absent for dirs of workers older than run claims. */
  runId?: string;
}

/**
 * Temp dirs of the worker: `archive-<archiveId>-<pid>-<runId>-h.<hostId>-<random>` under the
 * configured work dir, one per run. The name says which host, process and run made it, so
 * leftovers of a crashed run (SIGKILL, OOM) are found by whoever starts next on that host —
 * who can also give that run's claim up at once — and a run never touches the dir of another
 * live run. A PID means something only on its own host: when several hosts share the work dir
 * (a network volume), each sweeps its own dirs only, and another host's are never taken for
 * dead. Dirs named before host ids are taken to be this host's, as they were.
 */
@Injectable()
export class WorkDirs {
  private readonly root: string;
  private readonly hostId: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = config.clone.workDir;
    this.hostId = config.worker.hostId;
  }

  async create(archiveId: string, runId: string): Promise<string> {
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      return await mkdtemp(path.join(this.root, `${PREFIX}${archiveId}-${process.pid}-${runId}-h.${this.hostId}-`));
    } catch (error) {
      throw WorkDirError.from(error, this.root);
    }
  }

  async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /**
   * Dirs of this host's processes that no longer run,
   * and any process still at work in them: git normally dies with its worker (parent-death
   * signal), this catches what escaped.
   */
  async sweepDead(): Promise<DeadRun[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const dead: DeadRun[] = [];
    for (const name of names) {
      const owner = OWNER.exec(name);
      if (!owner || (owner[4] !== undefined && owner[4] !== this.hostId) || isAlive(Number(owner[2]))) continue;
      dead.push({ dir: path.join(this.root, name), archiveId: owner[1] as string, runId: owner[3] });
    }
    for (const { dir } of dead) await killProcessesUnder(dir);
    await Promise.all(dead.map(({ dir }) => this.remove(dir)));
    return dead;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Errors of the filesystem that retrying may fix (space freed, too many open files). */
const TRANSIENT_FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);

/** The run's work dir could not be made: a misconfigured or full disk of this worker. */
export class WorkDirError extends CodedError<'WORK_DIR_FAILED'> {
  override readonly name = 'WorkDirError';
  readonly domain = 'worker';

  constructor(message: string, transient: boolean, options?: { cause?: unknown }) {
    super('WORK_DIR_FAILED', message, { cause: options?.cause, transient });
  }

  static from(error: unknown, root: string): WorkDirError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return new WorkDirError(
      `The worker could not create its temporary directory under ${root} (${code || (error as Error).message}); check ARCHIVER_WORK_DIR and free disk space`,
      TRANSIENT_FS_CODES.has(code),
      { cause: error },
    );
  }
}
