import { z } from 'zod';

/**
 * What a repository may carry to reach a private upstream. The secret fields never leave the
 * process in clear: stored as ciphertext (CredentialCipher), handed to git only for one visit.
 */
export type Credential = TokenCredential | BasicCredential | SshCredential | HmacSecret;
export type CredentialKind = Credential['kind'];

/** An HTTPS access token (Gitea, GitLab, GitHub…), sent as the password of HTTP basic auth. */
export interface TokenCredential {
  kind: 'token';
  token: string;
  /** The user name sent with the token; forges ignore it for tokens, but git needs one. */
  username?: string;
}

export interface BasicCredential {
  kind: 'basic';
  username: string;
  password: string;
}

/** An SSH private key (e.g. a deploy key) and, optionally, the server's host key to pin. */
export interface SshCredential {
  kind: 'ssh';
  privateKey: string;
  hostKey?: string;
}

/**
 * A shared secret this service signs or verifies webhooks with (notification endpoints, a
 * repository's push-hook secret): stored like the others, never handed to git.
 */
export interface HmacSecret {
  kind: 'hmac';
  secret: string;
}

/** What the API may show of a credential: never the secret. */
export interface CredentialSummary {
  kind: CredentialKind;
  set: true;
  lastUsedAt: Date | null;
}

/** The user name git sends with a token when none is given (GitHub's documented one; Gitea and GitLab accept any). */
export const TOKEN_USERNAME = 'x-access-token';

// Bounded so a stored ciphertext stays small; no control characters, which would end a git credential line.
const secretText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\0\r\n]*$/, 'must be one line without control characters');

export const credentialSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('token'), token: secretText(4096), username: secretText(256).optional() }),
  z.strictObject({ kind: z.literal('basic'), username: secretText(256), password: secretText(4096) }),
  z.strictObject({
    kind: z.literal('ssh'),
    privateKey: z
      .string()
      .min(1)
      .max(16_384)
      .regex(/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'must be a PEM/OpenSSH private key'),
    hostKey: secretText(16_384).optional(),
  }),
  z.strictObject({ kind: z.literal('hmac'), secret: secretText(1024) }),
]);

/** The kinds a repository's git credential may be (an hmac secret is not one). */
export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['token', 'basic', 'ssh'];
