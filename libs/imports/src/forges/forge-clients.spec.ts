import { ForgePager } from '../forge-http';
import { ImportErrorCode } from '../import.error';
import { GiteaForge } from './gitea.forge';
import { GitHubForge } from './github.forge';
import { GitLabForge } from './gitlab.forge';
import { recordedTransport } from './recorded-transport';

// GitLab and GitHub are tested with answers recorded from their documented API shapes only
// (no live forge here); Gitea also runs for real in test/integration/imports.int-spec.ts.

const pager = (transport: ReturnType<typeof recordedTransport>) => new ForgePager(transport, 10);

describe(GitHubForge.name, () => {
  const api = 'https://api.github.com';
  const page1 = `${api}/orgs/octo-org/repos?type=all&per_page=2`;
  const page2 = `${api}/organizations/1/repos?type=all&per_page=2&page=2`;

  it('follows the Link header through an organization’s pages, with a Bearer token', async () => {
    const transport = recordedTransport({
      [page1]: {
        fixture: 'github-org-repos-page1.json',
        headers: { link: `<${page2}>; rel="next", <${api}/organizations/1/repos?type=all&per_page=2&page=2>; rel="last"` },
      },
      [page2]: {
        fixture: 'github-org-repos-page2.json',
        headers: { link: `<${page1}&page=1>; rel="first", <${page1}&page=1>; rel="prev"` },
      },
    });
    const sut = new GitHubForge(pager(transport));
    const listed = await sut.list({ baseUrl: api, owner: 'octo-org', token: 'ghp_secret', pageSize: 2 });
    expect(listed).toEqual([
      {
        fullName: 'octo-org/api',
        relativePath: 'api',
        cloneUrl: 'https://github.com/octo-org/api.git',
        private: false,
        fork: false,
        archived: false,
      },
      {
        fullName: 'octo-org/secrets',
        relativePath: 'secrets',
        cloneUrl: 'https://github.com/octo-org/secrets.git',
        private: true,
        fork: false,
        archived: false,
      },
      {
        fullName: 'octo-org/linux',
        relativePath: 'linux',
        cloneUrl: 'https://github.com/octo-org/linux.git',
        private: false,
        fork: true,
        archived: false,
      },
      {
        fullName: 'octo-org/old-site',
        relativePath: 'old-site',
        cloneUrl: 'https://github.com/octo-org/old-site.git',
        private: false,
        fork: false,
        archived: true,
      },
    ]);
    // The first page is asked once, though it also told the organization exists.
    expect(transport.requests.map((r) => r.url)).toEqual([page1, page2]);
    expect(transport.requests.every((r) => r.headers.Authorization === 'Bearer ghp_secret')).toBe(true);
  });

  it('falls back to the user’s repositories when there is no such organization', async () => {
    const transport = recordedTransport({
      [`${api}/orgs/octocat/repos?type=all&per_page=50`]: { status: 404, fixture: 'github-not-found.json' },
      [`${api}/users/octocat/repos?type=owner&per_page=50`]: { fixture: 'github-user-repos.json' },
    });
    const listed = await new GitHubForge(pager(transport)).list({ baseUrl: `${api}/`, owner: 'octocat', pageSize: 50 });
    expect(listed.map((r) => r.fullName)).toEqual(['octocat/dotfiles']);
    expect(transport.requests.every((r) => r.headers.Authorization === undefined)).toBe(true);
  });

  it('answers FORGE_NOT_FOUND when neither exists, and FORGE_UNAVAILABLE when the rate limit is used up', async () => {
    const missing = recordedTransport({
      [`${api}/orgs/ghost/repos?type=all&per_page=5`]: { status: 404, fixture: 'github-not-found.json' },
      [`${api}/users/ghost/repos?type=owner&per_page=5`]: { status: 404, fixture: 'github-not-found.json' },
    });
    await expect(new GitHubForge(pager(missing)).list({ baseUrl: api, owner: 'ghost', pageSize: 5 })).rejects.toMatchObject({
      code: ImportErrorCode.FORGE_NOT_FOUND,
    });
    const limited = recordedTransport({
      [`${api}/orgs/octo-org/repos?type=all&per_page=5`]: {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0' },
        body: '{"message":"API rate limit exceeded"}',
      },
    });
    await expect(new GitHubForge(pager(limited)).list({ baseUrl: api, owner: 'octo-org', pageSize: 5 })).rejects.toMatchObject({
      code: ImportErrorCode.FORGE_UNAVAILABLE,
      transient: true,
    });
  });
});

describe(GitLabForge.name, () => {
  const base = 'https://gitlab.example.com';
  const page = (n: number) => `${base}/api/v4/groups/acme/projects?include_subgroups=true&per_page=2&page=${n}`;

  it('lists a group with its subgroups through X-Next-Page, with PRIVATE-TOKEN; internal counts as private, forked_from_project as a fork', async () => {
    const transport = recordedTransport({
      [page(1)]: { fixture: 'gitlab-group-projects-page1.json', headers: { 'x-next-page': '2', 'x-page': '1', 'x-per-page': '2' } },
      [page(2)]: { fixture: 'gitlab-group-projects-page2.json', headers: { 'x-next-page': '', 'x-page': '2', 'x-per-page': '2' } },
    });
    const listed = await new GitLabForge(pager(transport)).list({ baseUrl: base, owner: 'acme', token: 'glpat-secret', pageSize: 2 });
    expect(listed).toEqual([
      {
        fullName: 'acme/backend',
        relativePath: 'backend',
        cloneUrl: `${base}/acme/backend.git`,
        private: true,
        fork: false,
        archived: false,
      },
      {
        fullName: 'acme/infra/charts',
        relativePath: 'infra/charts',
        cloneUrl: `${base}/acme/infra/charts.git`,
        private: true,
        fork: false,
        archived: false,
      },
      {
        fullName: 'acme/website',
        relativePath: 'website',
        cloneUrl: `${base}/acme/website.git`,
        private: false,
        fork: false,
        archived: true,
      },
      {
        fullName: 'acme/upstream-fork',
        relativePath: 'upstream-fork',
        cloneUrl: `${base}/acme/upstream-fork.git`,
        private: false,
        fork: true,
        archived: false,
      },
    ]);
    expect(transport.requests.map((r) => r.url)).toEqual([page(1), page(2)]);
    expect(transport.requests.every((r) => r.headers['PRIVATE-TOKEN'] === 'glpat-secret')).toBe(true);
  });

  it('prefers the Link header, encodes a subgroup path as the group id, and falls back to a user', async () => {
    const sub = `${base}/api/v4/groups/acme%2Finfra/projects?include_subgroups=true&per_page=2&page=1`;
    const next = `${base}/api/v4/groups/acme%2Finfra/projects?include_subgroups=true&per_page=2&page=2`;
    const transport = recordedTransport({
      [sub]: { fixture: 'gitlab-group-projects-page1.json', headers: { link: `<${next}>; rel="next"`, 'x-next-page': '9' } },
      [next]: { body: '[]' },
    });
    const listed = await new GitLabForge(pager(transport)).list({ baseUrl: base, owner: 'acme/infra', pageSize: 2 });
    expect(listed).toHaveLength(2);
    expect(transport.requests.map((r) => r.url)).toEqual([sub, next]);

    const user = recordedTransport({
      [`${base}/api/v4/groups/jane/projects?include_subgroups=true&per_page=2&page=1`]: { status: 404, fixture: 'gitlab-not-found.json' },
      [`${base}/api/v4/users/jane/projects?per_page=2&page=1`]: { body: '[]' },
    });
    await expect(new GitLabForge(pager(user)).list({ baseUrl: base, owner: 'jane', pageSize: 2 })).resolves.toEqual([]);
  });

  it('answers FORGE_AUTH_FAILED for a refused token, naming no token', async () => {
    const transport = recordedTransport({ [page(1)]: { status: 401, fixture: 'gitlab-unauthorized.json' } });
    const failure = new GitLabForge(pager(transport)).list({ baseUrl: base, owner: 'acme', token: 'glpat-secret', pageSize: 2 });
    await expect(failure).rejects.toMatchObject({ code: ImportErrorCode.FORGE_AUTH_FAILED, transient: false });
    await expect(failure).rejects.not.toThrow(/glpat-secret/);
  });

  it('refuses an answer without the documented fields', async () => {
    const transport = recordedTransport({ [page(1)]: { body: '[{"path_with_namespace": "acme/x", "visibility": "public"}]' } });
    await expect(new GitLabForge(pager(transport)).list({ baseUrl: base, owner: 'acme', pageSize: 2 })).rejects.toMatchObject({
      code: ImportErrorCode.FORGE_RESPONSE_INVALID,
      message: expect.stringContaining('http_url_to_repo'),
    });
  });
});

describe(GiteaForge.name, () => {
  const base = 'https://gitea.example.org';

  it('asks the organization with `Authorization: token`, and pages on while full pages come back without a Link header', async () => {
    const url = (n: number) => `${base}/api/v1/orgs/team/repos?limit=1&page=${n}`;
    const transport = recordedTransport({
      [url(1)]: { fixture: 'gitea-org-repos.json' },
      [url(2)]: { body: '[]' },
    });
    const listed = await new GiteaForge(pager(transport)).list({ baseUrl: base, owner: 'team', token: 't0k', pageSize: 1 });
    expect(listed).toEqual([
      { fullName: 'team/server', relativePath: 'server', cloneUrl: `${base}/team/server.git`, private: true, fork: false, archived: false },
    ]);
    expect(transport.requests).toEqual([
      { url: url(1), headers: { Authorization: 'token t0k' } },
      { url: url(2), headers: { Authorization: 'token t0k' } },
    ]);
  });
});
