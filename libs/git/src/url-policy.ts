import { lookup, Resolver } from 'node:dns/promises';
import { GitError, GitErrorCode } from './git.error';
import { IpRange, parseIp, parseIpRange, rangeContains, specialPurposeOf } from './ip-address';
import { looksLikeSshUrl, parseSshUrl } from './ssh-url';

export const MAX_URL_LENGTH = 2048;

export interface NormalizedRepositoryUrl {
  /**
   * What to clone: the WHATWG serialisation of the input (path case, `.git` and slashes kept).
   * Cloning this rather than the raw text means git and curl see the very host we vetted, even
   * for inputs like `http://0x7f.1/` or `http://a\@b/` that parsers disagree about.
   */
  readonly url: string;
  /** Identity for dedupe: lowercase scheme and host, no default port, no trailing `/` or `.git`. */
  readonly normalizedUrl: string;
  /** Lowercase host name or IP address (IPv6 without brackets, no trailing dot). */
  readonly host: string;
  /** Always explicit (80/443 when the URL leaves it out). */
  readonly port: number;
  readonly protocol: 'http:' | 'https:' | 'ssh:';
  /** The login name of an SSH URL (absent for http and https). */
  readonly sshUser?: string;
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface VettedRepositoryUrl extends NormalizedRepositoryUrl {
  /** The addresses that passed the policy; connect only to these (DNS may answer differently next time). */
  readonly addresses: readonly ResolvedAddress[];
}

/** Resolves a host name to every address it has, like `dns.lookup(host, { all: true })`. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface UrlPolicyOptions {
  /**
   * Host names, IP addresses or CIDRs (IPv4 and IPv6) that may be fetched from even though they
   * are loopback/private/link-local, e.g. `['127.0.0.0/8', '::1', 'localhost']` for tests.
   */
  readonly allowedHosts: readonly string[];
  /**
   * DNS servers (`ip` or `ip:port`, IPv6 as `[ip]:port`) to ask for A and AAAA records instead
   * of the system resolver (`dns.lookup`, which also reads /etc/hosts). Empty: the system's.
   */
  readonly dnsServers?: readonly string[];
  /** Replaces DNS altogether, for unit tests. */
  readonly resolve?: HostResolver;
}

const CONTROL_OR_WHITESPACE = /[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202f\ufeff]/u;
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

function invalid(input: string, why: string): GitError {
  const shown = input.length > 200 ? `${input.slice(0, 200)}…` : input;
  return new GitError(GitErrorCode.INVALID_URL, `Invalid repository URL ${JSON.stringify(shown)}: ${why}`);
}

/** Syntax-only checks and normalisation; no DNS. Throws GitError INVALID_URL. */
export function normalizeRepositoryUrl(input: string): NormalizedRepositoryUrl {
  if (typeof input !== 'string' || input.length === 0) throw invalid(String(input), 'the URL is empty');
  if (input.length > MAX_URL_LENGTH) throw invalid(input, `it is longer than ${MAX_URL_LENGTH} characters`);
  // WHATWG parsing silently drops tabs and newlines, so "looks fine after parsing" proves nothing.
  if (CONTROL_OR_WHITESPACE.test(input)) throw invalid(input, 'it contains whitespace or control characters');

  if (looksLikeSshUrl(input)) {
    const ssh = parseSshUrl(input, (why) => invalid(input, why));
    return { url: ssh.url, normalizedUrl: ssh.normalizedUrl, host: ssh.host, port: ssh.port, protocol: 'ssh:', sshUser: ssh.user };
  }
  const scheme = SCHEME.exec(input)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme.includes('.')) {
    throw invalid(input, 'it must start with https://, http:// or ssh://, or be an SSH address like git@host:owner/repo.git');
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw invalid(input, `only https:// and http:// (or SSH) repositories can be archived (got "${scheme}:")`);
  }

  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    throw invalid(input, 'it is not a well-formed URL');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw invalid(input, 'it must not contain a user name or password; only public repositories can be archived');
  }
  if (parsed.search !== '' || parsed.hash !== '') throw invalid(input, 'it must not contain a query (?…) or fragment (#…)');
  if (parsed.hostname.endsWith('.')) parsed.hostname = parsed.hostname.slice(0, -1);
  if (parsed.hostname === '' || parsed.hostname.startsWith('.')) throw invalid(input, 'it has no host name');

  const protocol = parsed.protocol as 'http:' | 'https:';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? (DEFAULT_PORTS[protocol] ?? 0) : Number(parsed.port);
  const path = parsed.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  return { url: parsed.href, normalizedUrl: `${protocol}//${parsed.host}${path}`, host, port, protocol };
}

/**
 * Decides whether a repository URL may be fetched: scheme and syntax, then every address its
 * host resolves to. One non-public address is enough to refuse, because a resolver may hand
 * any of them to the connection.
 */
export class UrlPolicy {
  private readonly allowedNames = new Set<string>();
  private readonly allowedRanges: IpRange[] = [];
  private readonly resolve: HostResolver;

  constructor(options: UrlPolicyOptions) {
    for (const raw of options.allowedHosts) {
      const entry = raw.trim().toLowerCase().replace(/\.$/, '');
      if (entry === '') continue;
      const range = parseIpRange(entry);
      if (range) this.allowedRanges.push(range);
      else if (HOST_NAME.test(entry) && !entry.includes('/')) this.allowedNames.add(entry);
      else {
        throw new GitError(
          GitErrorCode.INVALID_ARGUMENT,
          `Allowed host entry ${JSON.stringify(raw)} is neither a host name, an IP address nor a CIDR (e.g. 127.0.0.0/8)`,
        );
      }
    }
    this.resolve = options.resolve ?? (options.dnsServers?.length ? resolverUsing(options.dnsServers) : resolveWithDns);
  }

  async check(input: string): Promise<VettedRepositoryUrl> {
    const target = normalizeRepositoryUrl(input);
    const nameAllowed = this.allowedNames.has(target.host);
    const literal = parseIp(target.host);
    const addresses: ResolvedAddress[] = literal ? [{ address: target.host, family: literal.family }] : await this.lookup(target);

    for (const { address } of addresses) {
      const parsed = parseIp(address);
      const purpose = parsed ? specialPurposeOf(parsed) : 'unrecognised';
      if (purpose === null || nameAllowed) continue;
      if (parsed && this.allowedRanges.some((range) => rangeContains(range, parsed))) continue;
      const via = literal ? '' : ` resolves to ${address}, which`;
      throw new GitError(
        GitErrorCode.BLOCKED_BY_POLICY,
        `Refusing to fetch ${target.url}: ${target.host}${via} is a ${purpose} address. ` +
          'Loopback, private, link-local and other internal networks are blocked; an administrator can allowlist the host if this is intended.',
      );
    }
    return { ...target, addresses };
  }

  private async lookup(target: NormalizedRepositoryUrl): Promise<ResolvedAddress[]> {
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolve(target.host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') {
        throw new GitError(GitErrorCode.NOT_FOUND, `Host ${target.host} does not exist (DNS has no address for it): check the URL`, {
          cause: error,
        });
      }
      throw new GitError(GitErrorCode.NETWORK, `Could not resolve ${target.host} (${code ?? 'DNS error'})`, { cause: error });
    }
    if (addresses.length === 0) {
      throw new GitError(GitErrorCode.NOT_FOUND, `Host ${target.host} has no addresses: check the URL`);
    }
    return addresses;
  }
}

async function resolveWithDns(hostname: string): Promise<ResolvedAddress[]> {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/** Per query try; a name that does not answer within about 10 s in all is a NETWORK failure. */
const DNS_TIMEOUT_MS = 2500;
const DNS_TRIES = 2;
const NO_SUCH_RECORD = new Set(['ENOTFOUND', 'ENODATA']);

/** A and AAAA from the given servers; one family missing is fine, both missing is ENOTFOUND. */
export function resolverUsing(servers: readonly string[]): HostResolver {
  const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: DNS_TRIES });
  try {
    resolver.setServers([...servers]);
  } catch (error) {
    throw new GitError(
      GitErrorCode.INVALID_ARGUMENT,
      `DNS servers ${JSON.stringify(servers)} are not valid: use ip or ip:port entries, IPv6 as [ip]:port`,
      { cause: error },
    );
  }
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const addresses: ResolvedAddress[] = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (addresses.length > 0) return addresses;
    const failures = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as NodeJS.ErrnoException] : []));
    // A real failure (timeout, refused, SERVFAIL) says more than "no such record" of the other family.
    throw (
      failures.find((e) => !NO_SUCH_RECORD.has(e.code ?? '')) ?? failures[0] ?? Object.assign(new Error('no address'), { code: 'ENODATA' })
    );
  };
}
