import { randomUUID } from 'node:crypto';
import { loadConfig, loadStackSettings } from '@archiver/config';

export interface KeycloakTestClientOptions {
  /** Keycloak's base URL, e.g. http://localhost:18080 (the public one, so tokens carry the real issuer). */
  url: string;
  realm: string;
  /** Keycloak's bootstrap admin, in realm master. */
  admin: { username: string; password: string };
  timeoutMs?: number;
}

export interface TestUser {
  id: string;
  username: string;
  password: string;
}

export interface TestClientSpec {
  clientId: string;
  /** Adds an audience mapper for this client id (the API's is `archiver-api`); omit for a token without it. */
  audience?: string;
  /** Per-client access token lifespan, e.g. 1 to get tokens that expire almost at once. */
  accessTokenLifespanSeconds?: number;
}

/**
 * Talks to the test stack's real Keycloak: gets tokens the way scripts do and manages
 * throwaway users and clients through the admin REST API. Everything it creates is
 * remembered and removed by `cleanup()` — call it in afterAll.
 */
export class KeycloakTestClient {
  private readonly timeoutMs: number;
  private admin?: { token: string; expiresAt: number };
  private readonly createdUsers = new Set<string>();
  private readonly createdClients = new Set<string>();

  constructor(private readonly options: KeycloakTestClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Configured from the stack's environment (scripts/env.sh). */
  static fromEnvironment(): KeycloakTestClient {
    const { keycloak } = loadConfig();
    const { keycloakAdmin } = loadStackSettings();
    return new KeycloakTestClient({ url: keycloak.url, realm: keycloak.realm, admin: keycloakAdmin });
  }

  get realm(): string {
    return this.options.realm;
  }

  /** `<url>/realms/<realm>`: the `iss` of this realm's tokens. */
  realmUrl(realm = this.options.realm): string {
    return `${this.options.url}/realms/${realm}`;
  }

  /** An access token through the password grant (the client needs direct access grants). */
  async passwordToken(username: string, password: string, clientId = 'archiver-cli', realm = this.options.realm): Promise<string> {
    const response = await this.call(`${this.realmUrl(realm)}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password, scope: 'openid' }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /** A master-realm token of Keycloak's admin (also handy as "a token from another realm"). */
  async adminToken(): Promise<string> {
    if (this.admin && this.admin.expiresAt > Date.now() + 10_000) return this.admin.token;
    const response = await this.call(`${this.realmUrl('master')}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: this.options.admin.username,
        password: this.options.admin.password,
      }),
    });
    const body = (await response.json()) as { access_token: string; expires_in: number };
    this.admin = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    return body.access_token;
  }

  async createUser(spec: { username?: string; password?: string; realmRoles?: string[] } = {}): Promise<TestUser> {
    const username = spec.username ?? uniqueName('test-user');
    const password = spec.password ?? randomUUID();
    // Keycloak's user profile requires these attributes before it issues tokens to a user.
    const response = await this.adminCall('/users', 'POST', {
      username,
      enabled: true,
      email: `${username}@archiver.test`,
      emailVerified: true,
      firstName: 'Test',
      lastName: username,
      requiredActions: [],
      credentials: [{ type: 'password', value: password, temporary: false }],
    });
    const id = response.headers.get('location')?.split('/').pop();
    if (!id) throw new Error(`Keycloak created user ${username} but returned no Location header`);
    this.createdUsers.add(id);
    if (spec.realmRoles?.length) {
      const roles = await Promise.all(
        spec.realmRoles.map(async (role) => (await this.adminCall(`/roles/${encodeURIComponent(role)}`)).json()),
      );
      await this.adminCall(`/users/${id}/role-mappings/realm`, 'POST', roles);
    }
    return { id, username, password };
  }

  async deleteUser(id: string): Promise<void> {
    await this.adminCall(`/users/${id}`, 'DELETE', undefined, [404]);
    this.createdUsers.delete(id);
  }

  /** A public client with direct access grants, shaped by `spec`. Returns its clientId. */
  async createClient(spec: TestClientSpec): Promise<string> {
    await this.adminCall('/clients', 'POST', {
      clientId: spec.clientId,
      enabled: true,
      publicClient: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
      protocol: 'openid-connect',
      attributes: spec.accessTokenLifespanSeconds ? { 'access.token.lifespan': String(spec.accessTokenLifespanSeconds) } : {},
      protocolMappers: spec.audience
        ? [
            {
              name: `${spec.audience}-audience`,
              protocol: 'openid-connect',
              protocolMapper: 'oidc-audience-mapper',
              config: { 'included.client.audience': spec.audience, 'access.token.claim': 'true', 'id.token.claim': 'false' },
            },
          ]
        : [],
    });
    this.createdClients.add(spec.clientId);
    return spec.clientId;
  }

  async deleteClient(clientId: string): Promise<void> {
    const found = (await (await this.adminCall(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as Array<{ id: string }>;
    for (const client of found) await this.adminCall(`/clients/${client.id}`, 'DELETE', undefined, [404]);
    this.createdClients.delete(clientId);
  }

  /** Removes every user and client this instance created; reports all failures together. */
  async cleanup(): Promise<void> {
    const results = await Promise.allSettled([
      ...[...this.createdUsers].map((id) => this.deleteUser(id)),
      ...[...this.createdClients].map((clientId) => this.deleteClient(clientId)),
    ]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
    if (failures.length > 0) throw new Error(`Keycloak cleanup failed:\n  ${failures.join('\n  ')}`);
  }

  private async adminCall(path: string, method = 'GET', body?: unknown, okStatuses: number[] = []): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.adminToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.call(
      `${this.options.url}/admin/realms/${this.options.realm}${path}`,
      { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
      okStatuses,
    );
  }

  private async call(url: string, init: RequestInit, okStatuses: number[] = []): Promise<Response> {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok && !okStatuses.includes(response.status)) {
      throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${await response.text()}`);
    }
    return response;
  }
}

/** Names that cannot collide across parallel test runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
