import { createHmac, randomBytes } from 'node:crypto';
import type { AppConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
import type { TrackedRepositoryRepository, WebhookRepository } from '@archiver/database';
import type { ArchiveRequestsService } from '../archives/archive-requests.service';
import { PUSH_HOOK_REQUESTER, PushHooksService } from './push-hooks.service';

describe(PushHooksService.name, () => {
  const cipher = new CredentialCipher([{ id: 'k1', key: randomBytes(32) }]);
  const secret = 'repository-hook-secret-0123';
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const signed = { 'x-gitea-event': 'push', 'x-gitea-signature': createHmac('sha256', secret).update(body).digest('hex') };
  const config = { pushHooks: { cooldownMs: 60_000, perMinute: 0 } } as AppConfig;
  let stored: string | null;
  let repository: { id: string; url: string; state: string } | null;
  let lastVisitAt: Date | null;
  let repositories: { findById: jest.Mock; listVisits: jest.Mock; updateSettings: jest.Mock };
  let archives: { submit: jest.Mock };
  let sut: PushHooksService;

  beforeEach(() => {
    stored = cipher.encrypt({ kind: 'hmac', secret }, 'r-1');
    repository = { id: 'r-1', url: 'https://git.example.org/o/r.git', state: 'active' };
    lastVisitAt = new Date(Date.now() - 120_000);
    repositories = {
      findById: jest.fn(async () => repository),
      listVisits: jest.fn(async () => ({ items: lastVisitAt ? [{ id: 'a-0', createdAt: lastVisitAt }] : [], total: 1 })),
      updateSettings: jest.fn(async () => null),
    };
    archives = { submit: jest.fn(async () => ({ id: 'a-1', existing: false })) };
    const webhooks = { findHookSecret: jest.fn(async () => stored) };
    sut = new PushHooksService(
      config,
      webhooks as unknown as WebhookRepository,
      repositories as unknown as TrackedRepositoryRepository,
      cipher,
      archives as unknown as ArchiveRequestsService,
    );
  });

  it('queues a visit of the repository’s URL as the push-hook requester', async () => {
    await expect(sut.receive('r-1', signed, body)).resolves.toEqual({ queued: true, archiveId: 'a-1', verifiedBy: 'gitea' });
    expect(archives.submit).toHaveBeenCalledWith('https://git.example.org/o/r.git', PUSH_HOOK_REQUESTER);
  });

  it.each([
    ['no secret set', () => (stored = null)],
    ['a wrong signature', () => (stored = cipher.encrypt({ kind: 'hmac', secret: 'another-secret-entirely' }, 'r-1'))],
  ])('answers 401 for %s and queues nothing', async (_case, arrange) => {
    arrange();
    await expect(sut.receive('r-1', signed, body)).rejects.toMatchObject({ code: 'HOOK_UNAUTHORIZED' });
    expect(archives.submit).not.toHaveBeenCalled();
  });

  it('within the cooldown: acknowledged, nothing queued, the recent visit named', async () => {
    lastVisitAt = new Date(Date.now() - 5_000);
    await expect(sut.receive('r-1', signed, body)).resolves.toMatchObject({
      queued: false,
      archiveId: 'a-0',
      reason: expect.stringMatching(/60 s/),
    });
    expect(archives.submit).not.toHaveBeenCalled();
  });

  it.each([
    ['a paused repository', () => (repository!.state = 'paused'), /paused/],
    ['a signed ping event', () => undefined, /not a push event \(ping\)/],
  ])('%s: acknowledged, nothing queued', async (name, arrange, reason) => {
    arrange();
    const headers = name.includes('ping') ? { ...signed, 'x-gitea-event': 'ping' } : signed;
    await expect(sut.receive('r-1', headers, body)).resolves.toMatchObject({ queued: false, reason: expect.stringMatching(reason) });
    expect(archives.submit).not.toHaveBeenCalled();
  });

  it('re-enables a disabled repository, as asking for a visit does', async () => {
    repository!.state = 'disabled';
    await expect(sut.receive('r-1', signed, body)).resolves.toMatchObject({ queued: true });
    expect(repositories.updateSettings).toHaveBeenCalledWith('r-1', { state: 'active', stateReason: null, consecutiveFailures: 0 });
  });
});
