// Sign-in with Keycloak: Authorization Code flow with PKCE (S256) for the public client
// `archiver-web`. Tokens live in this module's memory only — keycloak-js keeps them on the
// instance, and we never copy them to localStorage, sessionStorage or cookies.
import Keycloak from '/vendor/keycloak-js/keycloak.js';

/** Seconds of validity a token must still have before an API call; otherwise it is refreshed first. */
const MIN_VALIDITY_SECONDS = 30;

export class Session {
  #keycloak;

  constructor(keycloak) {
    this.#keycloak = keycloak;
  }

  get subject() {
    return this.#keycloak.subject;
  }

  get username() {
    return this.#keycloak.tokenParsed?.preferred_username ?? this.#keycloak.subject;
  }

  /** "Demo User", falling back to the login name. */
  get displayName() {
    const claims = this.#keycloak.idTokenParsed ?? this.#keycloak.tokenParsed ?? {};
    return claims.name || [claims.given_name, claims.family_name].filter(Boolean).join(' ') || this.username;
  }

  get roles() {
    return this.#keycloak.realmAccess?.roles ?? [];
  }

  get isAdmin() {
    return this.roles.includes('archiver-admin');
  }

  get roleLabel() {
    return this.isAdmin ? 'Admin' : 'User';
  }

  /**
   * A valid access token for an API call, refreshed through the refresh token when it is about
   * to expire. When Keycloak refuses (SSO session ended), the person signs in again.
   */
  async accessToken() {
    try {
      await this.#keycloak.updateToken(MIN_VALIDITY_SECONDS);
    } catch {
      await this.signInAgain();
    }
    return this.#keycloak.token;
  }

  /** Back to Keycloak's login page, returning to the page the person is on. */
  signInAgain() {
    return this.#keycloak.login({ redirectUri: window.location.href });
  }

  /** Ends the Keycloak SSO session (RP-initiated logout) and lands on the signed-out page. */
  signOut() {
    return this.#keycloak.logout({ redirectUri: `${window.location.origin}/signed-out` });
  }
}

/**
 * Resolves with a signed-in Session. A visitor without a Keycloak session is redirected to the
 * login page (the promise then never settles); the redirect back lands on the page they asked for.
 */
export async function signIn(config) {
  const keycloak = new Keycloak({ url: config.keycloakUrl, realm: config.realm, clientId: config.clientId });
  // Refresh ahead of expiry even when no request is made, so an idle tab keeps working.
  keycloak.onTokenExpired = () => keycloak.updateToken(MIN_VALIDITY_SECONDS).catch(() => undefined);
  // A logout elsewhere (another tab, an admin ending the session) is reported by keycloak-js's
  // session-status iframe; with login-required it then drops the tokens and returns to the login page.
  await keycloak.init({
    onLoad: 'login-required',
    pkceMethod: 'S256',
    responseMode: 'fragment',
    checkLoginIframe: true,
  });
  return new Session(keycloak);
}
