import type { KeycloakTestClient } from '../keycloak/keycloak-test.client';
import { ApiClient, type ApiResponse } from '../stack/api-client';
import type { BrowserLogin } from './keycloak-login';

/** The REST API called as `user`, with a JSON body when `json` is given. */
export type UserApi = <T = unknown>(user: BrowserLogin, method: string, route: string, json?: unknown) => Promise<ApiResponse<T>>;

/**
 * The REST API as a script would call it beside a browser test: as any of the test's users, with
 * a fresh token per call, because browser tests outlast a token's lifetime.
 */
export function userApiClient(baseUrl: string, keycloak: KeycloakTestClient, user: BrowserLogin): ApiClient {
  return new ApiClient(baseUrl, () => keycloak.passwordToken(user.username, user.password));
}

/** `userApiClient` as one call per request, for tests that switch users from call to call. */
export function userApi(baseUrl: string, keycloak: KeycloakTestClient): UserApi {
  return (user, method, route, json) => userApiClient(baseUrl, keycloak, user).call(method, route, { json });
}
