import type { OpenAPIObject } from '@nestjs/swagger';
import { KEYCLOAK_SCHEME, withKeycloakAlternative } from './api-docs';

function documentWith(paths: OpenAPIObject['paths']): OpenAPIObject {
  return { openapi: '3.0.0', info: { title: 't', version: '1' }, paths };
}

describe(withKeycloakAlternative.name, () => {
  it('lets every bearer-protected operation also be called after signing in through Keycloak', () => {
    const sut = withKeycloakAlternative(
      documentWith({
        '/api/archives': { get: { responses: {}, security: [{ bearer: [] }] }, post: { responses: {}, security: [{ bearer: [] }] } },
        '/api/stats': { get: { responses: {}, security: [{ bearer: [] }] } },
      }),
    );

    for (const operation of [sut.paths['/api/archives'].get, sut.paths['/api/archives'].post, sut.paths['/api/stats'].get]) {
      expect(operation?.security).toEqual([{ bearer: [] }, { [KEYCLOAK_SCHEME]: ['openid'] }]);
    }
  });

  it('leaves public operations public and adds the alternative only once', () => {
    const sut = withKeycloakAlternative(
      withKeycloakAlternative(
        documentWith({
          '/health': { get: { responses: {} } },
          '/api/x': { get: { responses: {}, security: [{ bearer: [] }] }, parameters: [] },
        }),
      ),
    );

    expect(sut.paths['/health'].get?.security).toBeUndefined();
    expect(sut.paths['/api/x'].get?.security).toEqual([{ bearer: [] }, { [KEYCLOAK_SCHEME]: ['openid'] }]);
  });
});
