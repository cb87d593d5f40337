import { apiDocsSecurityHeaders, webSecurityHeaders } from './web-security-headers';

function directivesOf(headers: Record<string, string>): Map<string, string[]> {
  return new Map(
    headers['Content-Security-Policy'].split('; ').map((directive) => {
      const [name, ...values] = directive.split(' ');
      return [name, values] as const;
    }),
  );
}

describe(webSecurityHeaders.name, () => {
  const sut = webSecurityHeaders('http://localhost:18080/');
  const directives = directivesOf(sut);

  it('runs scripts and styles from this origin only (no inline code)', () => {
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(sut['Content-Security-Policy']).not.toContain('unsafe');
  });

  it('lets the SPA talk to Keycloak by its origin and embed its session iframes', () => {
    expect(directives.get('connect-src')).toEqual(["'self'", 'http://localhost:18080']);
    expect(directives.get('frame-src')).toEqual(['http://localhost:18080']);
  });

  it("shows images from this origin, data: and the file browser's blob: object URLs only", () => {
    expect(directives.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
  });

  it('cannot be framed', () => {
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(sut['X-Frame-Options']).toBe('DENY');
  });
});

describe(apiDocsSecurityHeaders.name, () => {
  const sut = apiDocsSecurityHeaders('http://localhost:18080/');
  const directives = directivesOf(sut);

  it('runs scripts from this origin only; only styles may be inline (Swagger UI needs them)', () => {
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect([...directives].filter(([name, values]) => name !== 'style-src' && values.some((v) => v.includes('unsafe')))).toEqual([]);
  });

  it("lets the docs page exchange Keycloak's code for a token, and keeps the login popup's opener", () => {
    expect(directives.get('connect-src')).toEqual(["'self'", 'http://localhost:18080']);
    expect(sut).not.toHaveProperty('Cross-Origin-Opener-Policy');
  });

  it('cannot be framed and leaks no address as a referrer', () => {
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(sut['X-Frame-Options']).toBe('DENY');
    expect(sut['Referrer-Policy']).toBe('no-referrer');
  });
});
