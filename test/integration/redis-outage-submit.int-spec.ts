import { loadConfig } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import {
  ApiClient,
  AppProcess,
  closeAll,
  KeycloakTestClient,
  PrivateService,
  startApp,
  startPrivateRedis,
  uniqueName,
  waitFor,
} from '@archiver/testing';

// Redis holds the queue and the rate limiter's counts, Postgres the record. With Redis gone a
// submission is still recorded and answered (202, pending) instead of failing or hanging: the
// limiter lets it through and says so, and the lost enqueue is the injector reconciler's to
// repair (queue.int-spec.ts). Each client call is bounded (ApiClient: 20 s), so a hang fails.
describe('submissions while Redis is down', () => {
  const keycloak = KeycloakTestClient.fromEnvironment();
  const prisma = new PrismaService(loadConfig());
  let redis: PrivateService | undefined;
  let frontend: AppProcess | undefined;
  let subject: string | undefined;

  afterAll(async () => {
    try {
      if (subject) await prisma.archive.deleteMany({ where: { requestedBy: subject } });
    } finally {
      await closeAll(frontend?.stop(), redis?.stop(), keycloak.cleanup(), prisma.$disconnect());
    }
  });

  it('are recorded as pending and answered 202, past the rate limit it can no longer count', async () => {
    redis = await startPrivateRedis();
    frontend = await startApp('frontend', { REDIS_URL: redis.url, SUBMISSIONS_PER_MINUTE: '2' });
    const user = await keycloak.createUser({ username: uniqueName('outage'), realmRoles: ['archiver-user'] });
    const api = new ApiClient(frontend.url, await keycloak.passwordToken(user.username, user.password));
    const target = (name: string) => `http://127.0.0.1:9/${uniqueName(`redis-outage-${name}`)}.git`;

    const before = await api.submit(target('before'));
    subject = before.requestedBy;
    await redis.stop();

    // Four more than the limit of 2 per minute: counted, the third and later would be 429.
    const during = [];
    for (let i = 0; i < 4; i++) during.push(await api.submit(target(`during-${i}`)));

    const rows = await prisma.archive.findMany({ where: { id: { in: during.map((a) => a.id) } } });
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatchObject({ status: 'pending', injectedAt: null, requestedBy: subject });
    await waitFor(
      'the frontend to log that the limit was not checked',
      async () => (/rate limit not checked: Redis did not answer/.test(frontend!.output()) ? true : undefined),
      10_000,
    );
  });
});
