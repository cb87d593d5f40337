import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';

// The credential of a private upstream, as POST/PATCH /api/repositories and POST /api/archives
// take it. Kept free of other DTO imports: archive.dto and repository.dto both use it.

// A private upstream's credential; the secret is validated for shape only and never echoed back.
const secret = (name: string, max: number) =>
  z
    .string({ error: `${name} must be a string` })
    .min(1, { error: `${name} must not be empty` })
    .max(max, { error: `${name} must be at most ${max} characters` })
    .regex(/^[^\0\r\n]*$/, { error: `${name} must be one line` });

// Keys span lines; ssh-keygen (RepositoryCredentialsService) decides whether one is usable.
const multiline = (name: string, max: number) =>
  z
    .string({ error: `${name} must be a string` })
    .min(1, { error: `${name} must not be empty` })
    .max(max, { error: `${name} must be at most ${max} characters` })
    .regex(/^[^\0]*$/, { error: `${name} must be text` });

export const credentialInputSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('token'), token: secret('token', 4096), username: secret('username', 256).optional() }).strict(),
    z.object({ kind: z.literal('basic'), username: secret('username', 256), password: secret('password', 4096) }).strict(),
    z
      .object({
        kind: z.literal('ssh'),
        privateKey: multiline('privateKey', 16_384).regex(/-----BEGIN [A-Z ]*PRIVATE KEY-----/, {
          error: 'privateKey must be a whole OpenSSH or PEM private key, from its -----BEGIN … PRIVATE KEY----- line on',
        }),
        hostKey: multiline('hostKey', 16_384).optional(),
      })
      .strict(),
  ],
  {
    error:
      'credential must be {"kind": "token", "token": "…"}, {"kind": "basic", "username": "…", "password": "…"} or {"kind": "ssh", "privateKey": "…", "hostKey"?: "…"}',
  },
);

export type CredentialInput = z.infer<typeof credentialInputSchema>;

export class CredentialInputBody {
  @ApiProperty({ enum: ['token', 'basic', 'ssh'] })
  kind!: 'token' | 'basic' | 'ssh';

  @ApiPropertyOptional({ description: 'kind token: the access token (sent as the password of HTTP basic auth)' })
  token?: string;

  @ApiPropertyOptional({ description: 'kind basic: the user name; kind token: optional, the user name sent with the token' })
  username?: string;

  @ApiPropertyOptional({ description: 'kind basic: the password' })
  password?: string;

  @ApiPropertyOptional({ description: 'kind ssh: the private key (e.g. a deploy key) without a passphrase, OpenSSH or PEM, whole' })
  privateKey?: string;

  @ApiPropertyOptional({
    description:
      "kind ssh: the server's public host key(s), as ssh-keyscan prints them; omitted: pinned at the first visit. Give it to accept a changed key",
  })
  hostKey?: string;
}
