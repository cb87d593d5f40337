import { execFile } from 'node:child_process';

/** Fixed PATH for fixture git processes: test helpers, like libs, do not read process.env. */
export const FIXTURE_SEARCH_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * A reproducible git: no system/global config, a fixed identity and clock, so fixture repos
 * (and their object ids) are the same on every machine.
 */
export function fixtureGitEnv(home: string): Record<string, string> {
  return {
    PATH: FIXTURE_SEARCH_PATH,
    HOME: home,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Fixture Author',
    GIT_AUTHOR_EMAIL: 'author@fixture.test',
    GIT_AUTHOR_DATE: '2024-01-02T03:04:05Z',
    GIT_COMMITTER_NAME: 'Fixture Committer',
    GIT_COMMITTER_EMAIL: 'committer@fixture.test',
    GIT_COMMITTER_DATE: '2024-01-02T03:04:05Z',
  };
}

/** Runs git and returns stdout as a Buffer (names and blobs may be arbitrary bytes). */
export function fixtureGit(args: readonly string[], cwd: string, home: string = cwd): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: fixtureGitEnv(home), encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr.toString('utf8').trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Moves `branch` of a bare repository on by one commit with the tip's own tree: a new commit
 * upstream without a work tree. Returns its id.
 */
export async function commitOnBranch(gitDir: string, branch: string, message: string): Promise<string> {
  const commit = (await fixtureGit(['commit-tree', `${branch}^{tree}`, '-p', branch, '-m', message], gitDir)).toString().trim();
  await fixtureGit(['update-ref', `refs/heads/${branch}`, commit], gitDir);
  return commit;
}
