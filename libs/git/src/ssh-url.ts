import type { GitError } from './git.error';
import { parseIp } from './ip-address';

/** What git connects to over SSH, every part checked so none of it can become an ssh option. */
export interface SshUrlParts {
  /** What git is given: `ssh://user@host:port/path`, or the scp-like form as written. */
  readonly url: string;
  /** `ssh://user@host[:port]/path`: lowercase host, no default port, no trailing `/` or `.git`. */
  readonly normalizedUrl: string;
  readonly user: string;
  /** Lowercase host name or IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_SSH_PORT = 22;

// git and ssh take an argument starting with "-" as an option: user, host and every path segment must not.
const USER = /^[A-Za-z0-9_][A-Za-z0-9._]*(-[A-Za-z0-9._]+)*$/;
const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const PATH_SEGMENT = /^[A-Za-z0-9_.~+][A-Za-z0-9_.~+-]*$/;
const SSH_SCHEME_URL = /^ssh:\/\/([^@/]*)@(\[[^\]/]*\]|[^:/[\]]*)(?::([0-9]*))?(\/.*)?$/i;
const SCP_LIKE_URL = /^([^@/:]*)@(\[[^\]/]*\]|[^:/[\]]*):(.*)$/;

/** Whether the input is meant as an SSH address (ssh:// or scp-like `user@host:path`). */
export function looksLikeSshUrl(input: string): boolean {
  return /^ssh:\/\//i.test(input) || SCP_LIKE_URL.test(input);
}

/**
 * Parses `ssh://user@host[:port]/path` and `user@host:path` strictly: a user name, a host
 * name or IP literal, a port, and path segments of plain characters. Anything else (`ext::`,
 * `-oProxyCommand=…` as host or user, `--upload-pack` as path, quotes, `%`, `..`) is refused
 * rather than escaped, since the parts end up as ssh and remote-shell arguments.
 */
export function parseSshUrl(input: string, invalid: (why: string) => GitError): SshUrlParts {
  const scheme = SSH_SCHEME_URL.exec(input);
  const scp = scheme ? null : SCP_LIKE_URL.exec(input);
  const match = scheme ?? scp;
  if (!match) throw invalid('an SSH URL must look like ssh://user@host[:port]/owner/repo.git or user@host:owner/repo.git');
  const [, user = '', rawHost = '', rawPort, rawPath = ''] = scheme ?? [scp![0], scp![1], scp![2], undefined, scp![3]];

  if (user === '') throw invalid('an SSH URL must name the user to log in as (e.g. git@host)');
  if (user.length > 64 || !USER.test(user)) {
    throw invalid('the SSH user name may only hold letters, digits, ".", "_" and inner "-" (it must not look like an option)');
  }
  const host = checkedHost(rawHost.toLowerCase().replace(/\.$/, ''), invalid);
  const port = rawPort === undefined || rawPort === '' ? DEFAULT_SSH_PORT : Number(rawPort);
  if (!/^[0-9]{0,5}$/.test(rawPort ?? '') || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid('the SSH port must be a number from 1 to 65535');
  }
  const segments = checkedPath(scheme ? rawPath.replace(/^\//, '') : rawPath, invalid);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const path = segments.join('/');
  const identityPath = path.replace(/^\/+/, '').replace(/\.git$/, '');
  const portPart = port === DEFAULT_SSH_PORT ? '' : `:${port}`;
  return {
    // The scp-like form stays as written: its path is relative to the login's home, an ssh:// path is not.
    url: scheme ? `ssh://${user}@${hostPart}:${port}/${path}` : `${user}@${hostPart}:${path}`,
    normalizedUrl: `ssh://${user}@${hostPart}${portPart}/${identityPath}`,
    user,
    host,
    port,
  };
}

function checkedHost(host: string, invalid: (why: string) => GitError): string {
  if (host === '') throw invalid('it has no host name');
  if (host.startsWith('[')) {
    const literal = host.slice(1, -1);
    if (parseIp(literal)?.family !== 6) throw invalid('the bracketed host is not an IPv6 address');
    return literal;
  }
  if (parseIp(host) || HOST_NAME.test(host)) return host;
  throw invalid('the SSH host must be a host name or an IP address (it must not look like an option)');
}

function checkedPath(rawPath: string, invalid: (why: string) => GitError): string[] {
  const trimmed = rawPath.replace(/\/+$/, '');
  if (trimmed === '') throw invalid('it names no repository path');
  const absolute = trimmed.startsWith('/');
  const segments = (absolute ? trimmed.slice(1) : trimmed).split('/');
  for (const segment of segments) {
    if (segment === '..' || segment === '.' || !PATH_SEGMENT.test(segment)) {
      throw invalid(
        'each part of an SSH repository path may only hold letters, digits, ".", "_", "~", "+" and "-", and must not start with "-" or be "." or ".."',
      );
    }
  }
  return absolute ? ['', ...segments] : segments;
}
