const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443, 'ssh:': 22 };
// git's scp-like form `user@host:path` (libs/git ssh-url.ts vets it; here only its host is read).
const SCP_LIKE = /^[^@/:]*@(\[[^\]/]*\]|[^:/[\]]*):/;

/**
 * The upstream host a repository URL contacts, as the key its politeness is counted under:
 * `host[:port]`, lower-case, the scheme's default port left out — so http, https and ssh of one
 * forge on their usual ports share one budget, while two servers on one address (distinct
 * ports) do not. The same on every worker of every machine: it depends on the URL alone.
 */
export function hostKeyOf(url: string): string {
  const scp = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? null : SCP_LIKE.exec(url);
  if (scp) return bracketed(normalizedHost(scp[1].replace(/^\[(.*)\]$/, '$1')));
  const parsed = new URL(url);
  const host = normalizedHost(parsed.hostname.replace(/^\[(.*)\]$/, '$1'));
  const port = parsed.port === '' ? undefined : Number(parsed.port);
  return port === undefined || port === DEFAULT_PORTS[parsed.protocol] ? bracketed(host) : `${bracketed(host)}:${port}`;
}

function normalizedHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
