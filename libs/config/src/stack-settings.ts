import { z } from 'zod';

// Settings of the native stack that only scripts, tests and benchmarks need (demo logins,
// Keycloak's admin account, where the stack keeps its state). The apps never read these.
const stackSchema = z.object({
  STACK: z.enum(['dev', 'test', 'test1', 'test2', 'test3', 'test4', 'test5', 'bench']).default('dev'),
  ARCHIVER_STATE_DIR: z.string().optional(),
  DEMO_PASSWORD: z.string().min(1),
  ADMIN_PASSWORD: z.string().min(1),
  KEYCLOAK_ADMIN_USER: z.string().min(1),
  KEYCLOAK_ADMIN_PASSWORD: z.string().min(1),
  KEYCLOAK_PORT: z.coerce.number().int(),
  REDIS_PORT: z.coerce.number().int(),
  MINIO_PORT: z.coerce.number().int(),
  PG_PORT: z.coerce.number().int(),
  // The Gitea forge of the integration tests (scripts/stack.sh start-service gitea).
  GITEA_URL: z.string().optional(),
  GITEA_SSH_PORT: z.coerce.number().int().optional(),
  GITEA_ADMIN_USER: z.string().optional(),
  GITEA_ADMIN_PASSWORD: z.string().optional(),
});

export interface StackSettings {
  stack: 'dev' | 'test' | 'test1' | 'test2' | 'test3' | 'test4' | 'test5' | 'bench';
  demo: { username: 'demo'; password: string };
  admin: { username: 'admin'; password: string };
  keycloakAdmin: { username: string; password: string };
  ports: { keycloak: number; redis: number; minio: number; postgres: number };
  /** Undefined when scripts/env.sh did not set it (an old shell): tests that need Gitea say so. */
  gitea?: { url: string; sshPort: number; admin: { username: string; password: string } };
  /** The process environment, for spawning the apps as child processes in tests. */
  env: Record<string, string | undefined>;
}

export function loadStackSettings(env: Record<string, string | undefined> = process.env): StackSettings {
  const s = stackSchema.parse(env);
  return {
    stack: s.STACK,
    demo: { username: 'demo', password: s.DEMO_PASSWORD },
    admin: { username: 'admin', password: s.ADMIN_PASSWORD },
    keycloakAdmin: { username: s.KEYCLOAK_ADMIN_USER, password: s.KEYCLOAK_ADMIN_PASSWORD },
    ports: { keycloak: s.KEYCLOAK_PORT, redis: s.REDIS_PORT, minio: s.MINIO_PORT, postgres: s.PG_PORT },
    gitea:
      s.GITEA_URL && s.GITEA_SSH_PORT && s.GITEA_ADMIN_USER && s.GITEA_ADMIN_PASSWORD
        ? {
            url: s.GITEA_URL.replace(/\/$/, ''),
            sshPort: s.GITEA_SSH_PORT,
            admin: { username: s.GITEA_ADMIN_USER, password: s.GITEA_ADMIN_PASSWORD },
          }
        : undefined,
    env: { ...env },
  };
}
