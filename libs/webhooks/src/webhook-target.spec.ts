import { GitError, UrlPolicy } from '@archiver/git';
import { vetWebhookUrl } from './webhook-target';

const dns: Record<string, string[]> = {
  'hooks.example.org': ['93.184.216.34'],
  'inside.example.org': ['10.0.0.5'],
  'mixed.example.org': ['93.184.216.34', '127.0.0.1'],
};
const policy = (allowedHosts: string[] = []) =>
  new UrlPolicy({
    allowedHosts,
    resolve: async (host) => (dns[host] ?? []).map((address) => ({ address, family: 4 as const })),
  });
const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof GitError) return error.code;
    throw error;
  }
};

describe(vetWebhookUrl.name, () => {
  it('returns the URL (query kept) and the addresses that passed, to connect to', async () => {
    const vetted = await vetWebhookUrl(policy(), 'https://hooks.example.org/notify?token=abc');
    expect(vetted.url.href).toBe('https://hooks.example.org/notify?token=abc');
    expect(vetted.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://[::1]/hook',
    'http://10.1.2.3/hook',
    'http://192.168.0.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://inside.example.org/hook',
    'http://mixed.example.org/hook',
    'http://0x7f.1/hook',
  ])('refuses %s (not public) unless allowlisted', async (url) => {
    expect(await codeOf(vetWebhookUrl(policy(), url))).toBe('BLOCKED_BY_POLICY');
  });

  it('allows loopback when the allowlist says so', async () => {
    await expect(vetWebhookUrl(policy(['127.0.0.0/8']), 'http://127.0.0.1:8080/hook')).resolves.toMatchObject({
      addresses: [{ address: '127.0.0.1' }],
    });
  });

  it.each([
    'ftp://hooks.example.org/x',
    'file:///etc/passwd',
    'https://user:pw@hooks.example.org/x',
    'https://hooks.example.org/x#frag',
    'not a url',
    `https://hooks.example.org/${'a'.repeat(2100)}`,
  ])('refuses %s as an invalid URL', async (url) => {
    expect(await codeOf(vetWebhookUrl(policy(), url))).toBe('INVALID_URL');
  });
});
