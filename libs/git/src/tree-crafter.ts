import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hardenedGitEnv } from './git-process';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Crafter',
  GIT_AUTHOR_EMAIL: 'crafter@example.test',
  GIT_COMMITTER_NAME: 'Crafter',
  GIT_COMMITTER_EMAIL: 'crafter@example.test',
};

/** One entry of a crafted tree; `name` is raw bytes, so anything git's own commands refuse is possible. */
export interface CraftedTreeEntry {
  readonly mode: '100644' | '100755' | '120000' | '40000' | '160000';
  readonly name: Buffer | string;
  readonly sha: string;
}

/**
 * Builds repositories a hostile server could serve, with git plumbing only: trees written with
 * `hash-object --literally` (duplicate entries, `..`, empty names, names with `/`, any byte),
 * refs with names that are not UTF-8 (`update-ref --stdin`, since argv cannot carry such bytes
 * from Node), HEAD to a missing branch. For tests (the reader's and the exact-content
 * integration test); nothing in the apps uses it.
 */
export class CraftedRepository {
  private constructor(readonly gitDir: string) {}

  static async init(gitDir: string): Promise<CraftedRepository> {
    const repo = new CraftedRepository(gitDir);
    await repo.git(['init', '--quiet', '--bare', '--initial-branch=main', gitDir], undefined, path.dirname(gitDir));
    return repo;
  }

  git(args: readonly string[], input?: Buffer | string, cwd = this.gitDir, extraEnv: Record<string, string> = {}): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const env = { ...hardenedGitEnv(cwd), ...IDENTITY, ...extraEnv };
      const child = execFile('git', args, { cwd, env, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args.join(' ')} failed: ${stderr.toString('utf8').trim() || error.message}`));
        else resolve(stdout);
      });
      child.stdin?.end(input);
    });
  }

  async blob(content: Buffer | string): Promise<string> {
    return (await this.git(['hash-object', '-w', '--stdin'], content)).toString('latin1').trim();
  }

  /** A tree object exactly as given: no sorting, no checks. */
  async tree(entries: readonly CraftedTreeEntry[]): Promise<string> {
    const body = Buffer.concat(
      entries.map(({ mode, name, sha }) =>
        Buffer.concat([Buffer.from(`${mode} `), Buffer.from(name), Buffer.from([0]), Buffer.from(sha, 'hex')]),
      ),
    );
    return (await this.git(['hash-object', '-w', '-t', 'tree', '--literally', '--stdin'], body)).toString('latin1').trim();
  }

  async commit(tree: string, message = 'crafted', parents: readonly string[] = [], date = '2024-01-02T03:04:05Z'): Promise<string> {
    const args = ['commit-tree', tree, '-m', message, ...parents.flatMap((p) => ['-p', p])];
    const out = await this.git(args, undefined, this.gitDir, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    return out.toString('latin1').trim();
  }

  /** An annotated tag object pointing at `target` (of `type`), dated so tags can be ordered. */
  async tagObject(target: string, type: string, tagName: string, date: number): Promise<string> {
    const body = `object ${target}\ntype ${type}\ntag ${tagName}\ntagger Crafter <crafter@example.test> ${date} +0000\n\ncrafted\n`;
    return (await this.git(['hash-object', '-w', '-t', 'tag', '--stdin'], body)).toString('latin1').trim();
  }

  /** Creates or moves refs; names are bytes. */
  async updateRefs(refs: readonly { name: Buffer | string; sha: string }[]): Promise<void> {
    const input = Buffer.concat(
      refs.map(({ name, sha }) => Buffer.concat([Buffer.from('update '), Buffer.from(name), Buffer.from(` ${sha}\n`)])),
    );
    await this.git(['update-ref', '--stdin'], input);
  }

  /** Points HEAD at `ref`, which need not exist. */
  async setHead(ref: Buffer | string): Promise<void> {
    await writeFile(path.join(this.gitDir, 'HEAD'), Buffer.concat([Buffer.from('ref: '), Buffer.from(ref), Buffer.from('\n')]));
  }

  /** `git ls-tree -r -z` of `commit`: each file's exact path bytes and blob id, in git's order. */
  async files(commit: string): Promise<{ path: Buffer; sha: string; mode: string }[]> {
    const out = await this.git(['ls-tree', '-r', '-z', '--full-tree', commit]);
    const files: { path: Buffer; sha: string; mode: string }[] = [];
    for (let start = 0, nul = out.indexOf(0); nul >= 0; start = nul + 1, nul = out.indexOf(0, start)) {
      const line = out.subarray(start, nul);
      const tab = line.indexOf(0x09);
      const [mode = '', type = '', sha = ''] = line.subarray(0, tab).toString('latin1').split(' ');
      if (type === 'blob') files.push({ path: Buffer.from(line.subarray(tab + 1)), sha, mode });
    }
    return files;
  }
}
