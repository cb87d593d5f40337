import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createFixtureRepos,
  fixtureGit,
  GiteaApiError,
  generateSshKeyPair,
  gitWithAuth,
  rejectionOf,
  startGitea,
  uniqueName,
  type FixtureRepos,
  type GiteaClient,
  type GiteaForge,
  type GiteaRepo,
  type GiteaToken,
  type GiteaUser,
} from '@archiver/testing';

const refsOf = (lsRemote: string) => lsRemote.trim().split('\n').sort().join('\n');

// The real forge the private-repository, SSH, LFS and import tests run against: this file
// proves that what they rely on holds — private repositories refuse anonymous git, and a
// user's token (sent only by the test's own git) opens them.
describe('the Gitea test forge', () => {
  let base: string;
  let fixtures: FixtureRepos;
  let forge: GiteaForge;
  let gitea: GiteaClient;
  let owner: GiteaUser;
  let token: GiteaToken;
  let repo: GiteaRepo;
  let expectedRefs: string;

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-gitea-int-'));
    fixtures = await createFixtureRepos(base);
    expectedRefs = refsOf(
      (await fixtureGit(['for-each-ref', '--format=%(objectname)\t%(refname)', 'refs/heads', 'refs/tags'], fixtures.multi)).toString(),
    );
    forge = await startGitea();
    gitea = forge.client;
    owner = await gitea.createUser(uniqueName('owner'));
    token = await gitea.createToken(owner, uniqueName('push'));
    repo = await gitea.createRepo(owner.username, uniqueName('secret'), { private: true });
    await gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], fixtures.multi, {
      token: token.token,
    });
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('is the pinned Gitea, on loopback', async () => {
    expect(await gitea.version()).toMatch(/^1\.25\.4\b/);
    expect(new URL(forge.url).hostname).toBe('127.0.0.1');
    expect(new URL(repo.cloneUrl).host).toBe(new URL(forge.url).host);
  });

  it('creates a private repository holding exactly the pushed refs', async () => {
    expect(repo).toMatchObject({ private: true, fork: false, archived: false, owner: owner.username });
    const { stdout } = await gitWithAuth(['ls-remote', repo.cloneUrl], base, { token: token.token });
    const advertised = refsOf(
      stdout
        .split('\n')
        .filter((line) => /\trefs\/(heads|tags)\/[^^]*$/.test(line))
        .join('\n'),
    );
    expect(advertised).toBe(expectedRefs);
  });

  it('refuses anonymous git on the private repository as "authentication required"', async () => {
    const error = await rejectionOf(gitWithAuth(['ls-remote', repo.cloneUrl], base));
    expect(String((error as { stderr?: string }).stderr)).toMatch(
      /terminal prompts disabled|Authentication failed|could not read Username/i,
    );
  });

  it('hides a private repository from the anonymous API, and from another user', async () => {
    const stranger = await gitea.createUser(uniqueName('stranger'));
    const error = await rejectionOf(gitea.getRepo(repo.owner, repo.name, { username: stranger.username, password: stranger.password }));
    expect(error).toBeInstanceOf(GiteaApiError);
    expect((error as GiteaApiError).status).toBe(404);
  });

  it('stops accepting a token once it is deleted', async () => {
    const spare = await gitea.createToken(owner, uniqueName('spare'));
    await gitWithAuth(['ls-remote', repo.cloneUrl], base, { token: spare.token });
    await gitea.deleteToken(owner, spare);
    await expect(gitWithAuth(['ls-remote', repo.cloneUrl], base, { token: spare.token })).rejects.toThrow();
  });

  it('builds the fixtures later tests need: organizations, public, forked and archived repositories, deploy keys', async () => {
    const org = await gitea.createOrganization(owner, uniqueName('org'));
    const pub = await gitea.createRepo(org.name, uniqueName('public'));
    await gitWithAuth(['push', '--quiet', pub.cloneUrl, 'refs/heads/main:refs/heads/main'], fixtures.multi, { token: token.token });
    const stranger = await gitea.createUser(uniqueName('forker'));
    const fork = await gitea.fork(pub, { username: stranger.username, password: stranger.password });
    const archived = await gitea.setArchived(await gitea.createRepo(org.name, uniqueName('old')), true);
    const key = await gitea.addDeployKey(repo, 'archiver', (await generateSshKeyPair(base)).publicKey);
    expect(pub).toMatchObject({ private: false, owner: org.name });
    expect(fork).toMatchObject({ fork: true, owner: stranger.username });
    expect(archived.archived).toBe(true);
    expect(key.id).toBeGreaterThan(0);
    // Public content needs no credential.
    const { stdout } = await gitWithAuth(['ls-remote', pub.cloneUrl, 'refs/heads/main'], base);
    expect(stdout).toContain('refs/heads/main');
  });
});
