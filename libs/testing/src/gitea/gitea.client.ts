import { randomBytes } from 'node:crypto';

/** Who calls the Gitea API: basic auth of a user (admin, or a user for its own tokens) or a token. */
export type GiteaAuth = { username: string; password: string } | { token: string };

export interface GiteaUser {
  id: number;
  username: string;
  /** Kept by the test: Gitea wants basic auth (not a token) to create a user's tokens. */
  password: string;
}

export interface GiteaToken {
  id: number;
  name: string;
  /** The secret, shown by Gitea only once. */
  token: string;
}

export interface GiteaRepo {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
  fork: boolean;
  archived: boolean;
  cloneUrl: string;
  sshUrl: string;
}

export interface CreateRepoOptions {
  private?: boolean;
  description?: string;
  defaultBranch?: string;
}

export class GiteaApiError extends Error {
  override readonly name = 'GiteaApiError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    body: string,
  ) {
    super(`Gitea ${method} ${path} answered ${status}: ${body.slice(0, 500)}`);
  }
}

const ALL_SCOPES = ['write:repository', 'write:user', 'write:organization', 'write:admin', 'write:misc'];

/**
 * A small typed client of the test forge's REST API (/api/v1), enough to build fixtures:
 * users, their tokens, organizations, repositories (private, public, forks, archived) and
 * deploy keys. Callers name fixtures with uniqueName (libs/testing) so test files never
 * collide on one long-lived Gitea.
 */
export class GiteaClient {
  constructor(
    readonly baseUrl: string,
    private readonly admin: { username: string; password: string },
  ) {}

  async version(): Promise<string> {
    return (await this.request<{ version: string }>('GET', '/version', this.admin)).version;
  }

  async createUser(username: string): Promise<GiteaUser> {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const body = { username, password, email: `${username}@forge.invalid`, must_change_password: false, send_notify: false };
    const user = await this.request<{ id: number; login: string }>('POST', '/admin/users', this.admin, body);
    return { id: user.id, username: user.login, password };
  }

  async createToken(user: GiteaUser, name: string, scopes: readonly string[] = ALL_SCOPES): Promise<GiteaToken> {
    const token = await this.request<{ id: number; name: string; sha1: string }>(
      'POST',
      `/users/${enc(user.username)}/tokens`,
      { username: user.username, password: user.password },
      { name, scopes },
    );
    return { id: token.id, name: token.name, token: token.sha1 };
  }

  async deleteToken(user: GiteaUser, token: GiteaToken): Promise<void> {
    await this.request('DELETE', `/users/${enc(user.username)}/tokens/${token.id}`, { username: user.username, password: user.password });
  }

  async createOrganization(
    owner: GiteaUser,
    name: string,
    visibility: 'public' | 'private' = 'public',
  ): Promise<{ id: number; name: string }> {
    const org = await this.request<{ id: number; name: string }>('POST', `/admin/users/${enc(owner.username)}/orgs`, this.admin, {
      username: name,
      visibility,
    });
    return { id: org.id, name: org.name };
  }

  /** A repository of a user or organization, created empty (push content with pushFixture). */
  async createRepo(owner: string, name: string, options: CreateRepoOptions = {}): Promise<GiteaRepo> {
    const body = {
      name,
      private: options.private ?? false,
      description: options.description ?? '',
      default_branch: options.defaultBranch ?? 'main',
      auto_init: false,
    };
    // The admin route creates for users and organizations alike.
    const isOrg = await this.isOrganization(owner);
    const path = isOrg ? `/orgs/${enc(owner)}/repos` : `/admin/users/${enc(owner)}/repos`;
    return toRepo(await this.request<RawRepo>('POST', path, this.admin, body));
  }

  async fork(repo: GiteaRepo, by: GiteaAuth, options: { organization?: string; name?: string } = {}): Promise<GiteaRepo> {
    return toRepo(await this.request<RawRepo>('POST', `/repos/${enc(repo.owner)}/${enc(repo.name)}/forks`, by, options));
  }

  async setArchived(repo: GiteaRepo, archived: boolean): Promise<GiteaRepo> {
    return toRepo(await this.request<RawRepo>('PATCH', `/repos/${enc(repo.owner)}/${enc(repo.name)}`, this.admin, { archived }));
  }

  async getRepo(owner: string, name: string, by: GiteaAuth = this.admin): Promise<GiteaRepo> {
    return toRepo(await this.request<RawRepo>('GET', `/repos/${enc(owner)}/${enc(name)}`, by));
  }

  /** Adds an SSH public key (OpenSSH one-line format) as a deploy key of the repository. */
  async addDeployKey(repo: GiteaRepo, title: string, publicKey: string, readOnly = true): Promise<{ id: number }> {
    const key = await this.request<{ id: number }>('POST', `/repos/${enc(repo.owner)}/${enc(repo.name)}/keys`, this.admin, {
      title,
      key: publicKey,
      read_only: readOnly,
    });
    return { id: key.id };
  }

  private async isOrganization(name: string): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/api/v1/orgs/${enc(name)}`, {
      headers: authHeaders(this.admin),
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
    return response.ok;
  }

  private async request<T = unknown>(method: string, path: string, auth: GiteaAuth, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: { ...authHeaders(auth), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new GiteaApiError(response.status, method, path, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** `Authorization` for the API and for git over HTTP (Gitea accepts a token as the basic-auth password). */
export function authHeaders(auth: GiteaAuth): Record<string, string> {
  if ('token' in auth) return { authorization: `token ${auth.token}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

interface RawRepo {
  id: number;
  name: string;
  full_name: string;
  owner: { login: string };
  private: boolean;
  fork: boolean;
  archived: boolean;
  clone_url: string;
  ssh_url: string;
}

function toRepo(raw: RawRepo): GiteaRepo {
  return {
    id: raw.id,
    owner: raw.owner.login,
    name: raw.name,
    fullName: raw.full_name,
    private: raw.private,
    fork: raw.fork,
    archived: raw.archived,
    cloneUrl: raw.clone_url,
    sshUrl: raw.ssh_url,
  };
}

const enc = encodeURIComponent;
