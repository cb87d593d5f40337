import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '@archiver/config';
import { apiDocsSecurityHeaders } from './web-security-headers';

export const API_DOCS_PATH = 'api/docs';
/** The OpenAPI security scheme for signing in through Keycloak from the docs page. */
export const KEYCLOAK_SCHEME = 'keycloak';
const BEARER_SCHEME = 'bearer';

/**
 * The OpenAPI page. Besides a pasted token (`bearer`), it signs in through Keycloak with
 * Authorization Code + PKCE as the public client the web interface uses (archiver-web): no
 * client secret exists to leak, and its tokens carry the API's audience already. Keycloak
 * redirects to `<PUBLIC_URL>/api/docs/oauth2-redirect.html`, inside archiver-web's allowed
 * redirect URIs (`<PUBLIC_URL>/*`, deploy/keycloak/archiver-realm.json).
 */
export function setupApiDocs(app: NestExpressApplication, config: AppConfig): void {
  const headers = apiDocsSecurityHeaders(config.keycloak.url);
  // Before SwaggerModule.setup, so its page and static files leave with these headers.
  app.use(`/${API_DOCS_PATH}`, (_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    next();
  });
  const oidc = `${config.keycloak.url.replace(/\/$/, '')}/realms/${encodeURIComponent(config.keycloak.realm)}/protocol/openid-connect`;
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Repository Archiver API')
      .setDescription(
        'Submit git repositories for archiving and follow each archive through its stages. ' +
          'Authorize with "keycloak" to sign in (you need the role archiver-user), or paste an access token under "bearer".',
      )
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from realm "archiver"' },
        BEARER_SCHEME,
      )
      .addOAuth2(
        {
          type: 'oauth2',
          description: `Sign in through Keycloak (Authorization Code with PKCE, public client ${config.keycloak.webClient})`,
          flows: {
            authorizationCode: {
              authorizationUrl: `${oidc}/auth`,
              tokenUrl: `${oidc}/token`,
              scopes: { openid: 'Sign in (OpenID Connect)' },
            },
          },
        },
        KEYCLOAK_SCHEME,
      )
      .build(),
  );
  SwaggerModule.setup(API_DOCS_PATH, app, withKeycloakAlternative(document), {
    swaggerOptions: {
      oauth2RedirectUrl: `${config.http.publicUrl}/${API_DOCS_PATH}/oauth2-redirect.html`,
      initOAuth: { clientId: config.keycloak.webClient, usePkceWithAuthorizationCodeGrant: true, scopes: ['openid'] },
      // Tokens stay in the page's memory, never in localStorage.
      persistAuthorization: false,
    },
  });
}

/**
 * Operations declare `bearer` (ApiBearerAuth on the controllers); an OpenAPI security list is
 * a set of alternatives, so each protected operation also accepts the Keycloak sign-in here,
 * in one place, rather than on every controller.
 */
export function withKeycloakAlternative(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      const security = (operation as { security?: Record<string, string[]>[] } | undefined)?.security;
      if (!security?.some((requirement) => BEARER_SCHEME in requirement)) continue;
      if (!security.some((requirement) => KEYCLOAK_SCHEME in requirement)) security.push({ [KEYCLOAK_SCHEME]: ['openid'] });
    }
  }
  return document;
}
