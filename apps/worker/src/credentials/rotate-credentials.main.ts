import { loadConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
import { PrismaService, RepositoryCredentialRepository } from '@archiver/database';
import { rotateCredentials } from './credential-rotation';

/*
 * `npm run credentials:rotate`: re-encrypts every repository credential under the first key of
 * CREDENTIAL_KEYS (README, "Credentials"). Prints a JSON report; exits 1 when some credential
 * could not be read (it stays as it was, and so must the key it needs).
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  try {
    const report = await rotateCredentials(new CredentialCipher(config.credentials.keys), new RepositoryCredentialRepository(prisma));
    process.stdout.write(`${JSON.stringify({ keyId: config.credentials.keys[0]?.id ?? null, ...report })}\n`);
    return report.failed.length === 0 ? 0 : 1;
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
