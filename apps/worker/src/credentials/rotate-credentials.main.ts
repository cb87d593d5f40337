import { loadConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
import { ImportRepository, PrismaService, RepositoryCredentialRepository, WebhookRepository } from '@archiver/database';
import { rotateCredentials } from './credential-rotation';

/*
 * `npm run credentials:rotate`: re-encrypts every repository credential, webhook endpoint secret
 * push-hook secret and import token under the first key of CREDENTIAL_KEYS (README, "Credentials"). Prints a JSON report; exits 1 when some credential
 * could not be read (it stays as it was, and so must the key it needs).
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  try {
    const cipher = new CredentialCipher(config.credentials.keys);
    const webhooks = new WebhookRepository(prisma);
    const report = await rotateCredentials(cipher, new RepositoryCredentialRepository(prisma));
    // Endpoint ids stand where the report says repositoryId for webhookSecrets.
    const webhookSecrets = await rotateCredentials(cipher, webhooks.endpointSecrets);
    const hookSecrets = await rotateCredentials(cipher, webhooks.hookSecrets);
    // Import ids stand where the report says repositoryId for importTokens.
    const importTokens = await rotateCredentials(cipher, new ImportRepository(prisma).tokens);
    process.stdout.write(
      `${JSON.stringify({ keyId: config.credentials.keys[0]?.id ?? null, ...report, webhookSecrets, hookSecrets, importTokens })}\n`,
    );
    return [report, webhookSecrets, hookSecrets, importTokens].every((r) => r.failed.length === 0) ? 0 : 1;
  } finally {
    await prisma.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`credential rotation failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
