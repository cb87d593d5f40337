import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixtureGit } from './fixture-git.command';

/** Bare repositories served by the fixture git servers; names are the keys, dirs end in `.git`. */
export interface FixtureRepos {
  /** Directory holding `<name>.git` for every fixture: use it as the servers' root. */
  readonly root: string;
  /** Branches main/feature/nested-work/release, tags v1.0 (light) and v2.0 (annotated), odd files. */
  readonly multi: string;
  /** `git init --bare`, no commits at all. */
  readonly empty: string;
  /** A single branch named `trunk`, which is also its HEAD. */
  readonly trunk: string;
}

export type FixtureRepoName = 'multi' | 'empty' | 'trunk';

/** Paths inside `multi` whose names or modes exercise the reader. */
export const MULTI_FIXTURE_PATHS = {
  unicode: 'docs/h\u00e9llo w\u00f6rld \u2713.txt',
  executable: 'bin/run.sh',
  symlink: 'link-to-readme',
  symlinkTarget: 'README.md',
  binary: 'assets/logo.bin',
  large: 'assets/large.bin',
  deep: 'src/lib/util/deep/nested.txt',
  submodule: 'vendor/sub',
} as const;

/** Incompressible, reproducible bytes (xorshift), so packs do not shrink the large blob away. */
export function fixtureBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Builds the fixture repositories under `baseDir` with the plain git CLI. */
export async function createFixtureRepos(baseDir: string): Promise<FixtureRepos> {
  const root = path.join(baseDir, 'repos');
  const scratch = path.join(baseDir, 'scratch');
  await mkdir(root, { recursive: true });
  await mkdir(scratch, { recursive: true });
  try {
    const repos: FixtureRepos = {
      root,
      multi: await buildMulti(root, path.join(scratch, 'multi')),
      empty: path.join(root, 'empty.git'),
      trunk: await buildTrunk(root, path.join(scratch, 'trunk')),
    };
    await fixtureGit(['init', '--quiet', '--bare', '--initial-branch=main', repos.empty], baseDir, scratch);
    return repos;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function put(work: string, file: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const full = path.join(work, file);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, content);
  await chmod(full, mode);
}

async function commitAll(work: string, message: string): Promise<void> {
  await fixtureGit(['add', '--all'], work);
  await fixtureGit(['commit', '--quiet', '-m', message], work);
}

async function buildMulti(root: string, work: string): Promise<string> {
  const p = MULTI_FIXTURE_PATHS;
  await fixtureGit(['init', '--quiet', '--initial-branch=main', work], root, work);
  await put(work, 'README.md', '# multi\n\nA fixture with branches, tags and odd files.\n');
  await put(work, 'src/app/main.ts', "export const main = (): string => 'multi';\n");
  await put(work, p.deep, 'deep inside\n');
  await commitAll(work, 'initial layout');
  await fixtureGit(['tag', 'v1.0'], work);

  await put(work, p.executable, '#!/bin/sh\necho run\n', 0o755);
  await symlink(p.symlinkTarget, path.join(work, p.symlink));
  await put(work, p.unicode, 'spaces and unicode in the name\n');
  const binary = Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 0x0a, 0x0d]), fixtureBytes(64 * 1024, 7)]);
  await put(work, p.binary, binary);
  await put(work, p.large, fixtureBytes(1536 * 1024));
  await put(work, 'empty-file.txt', '');
  await commitAll(work, 'binary, executable, symlink and unicode files');
  // A submodule entry (gitlink) without its repository: readers must skip it, not follow it.
  const head = (await fixtureGit(['rev-parse', 'HEAD'], work)).toString('utf8').trim();
  await fixtureGit(['update-index', '--add', '--cacheinfo', `160000,${head},${p.submodule}`], work);
  await fixtureGit(['commit', '--quiet', '-m', 'add a gitlink'], work);
  await fixtureGit(['tag', '-a', 'v2.0', '-m', 'annotated release 2.0'], work);

  await fixtureGit(['checkout', '--quiet', '-b', 'feature/x'], work);
  await put(work, 'feature.txt', 'only on feature/x\n');
  await commitAll(work, 'feature work');
  await fixtureGit(['checkout', '--quiet', '-b', 'release', 'v1.0'], work);
  await put(work, 'RELEASE.md', 'release branch from v1.0\n');
  await commitAll(work, 'release notes');
  await fixtureGit(['checkout', '--quiet', 'main'], work);

  const bare = path.join(root, 'multi.git');
  await fixtureGit(['clone', '--quiet', '--bare', work, bare], root, work);
  return bare;
}

async function buildTrunk(root: string, work: string): Promise<string> {
  await fixtureGit(['init', '--quiet', '--initial-branch=trunk', work], root, work);
  await put(work, 'TRUNK.md', 'the default branch is trunk\n');
  await commitAll(work, 'trunk commit');
  const bare = path.join(root, 'trunk.git');
  await fixtureGit(['clone', '--quiet', '--bare', work, bare], root, work);
  return bare;
}
