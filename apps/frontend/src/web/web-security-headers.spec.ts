import { webSecurityHeaders } from './web-security-headers';

describe(webSecurityHeaders.name, () => {
  const sut = webSecurityHeaders('http://localhost:18080/');
  const directives = new Map(
    sut['Content-Security-Policy'].split('; ').map((directive) => {
      const [name, ...values] = directive.split(' ');
      return [name, values] as const;
    }),
  );

  it('runs scripts and styles from this origin only (no inline code)', () => {
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(sut['Content-Security-Policy']).not.toContain('unsafe');
  });

  it('lets the SPA talk to Keycloak by its origin and embed its session iframes', () => {
    expect(directives.get('connect-src')).toEqual(["'self'", 'http://localhost:18080']);
    expect(directives.get('frame-src')).toEqual(['http://localhost:18080']);
  });

  it('cannot be framed', () => {
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(sut['X-Frame-Options']).toBe('DENY');
  });
});
