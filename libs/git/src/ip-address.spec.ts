import { formatIp, parseIp, parseIpRange, rangeContains, specialPurposeOf, unmapIPv4 } from './ip-address';

const ip = (text: string) => {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`test address ${text} did not parse`);
  return parsed;
};
const cidr = (text: string) => {
  const parsed = parseIpRange(text);
  if (!parsed) throw new Error(`test range ${text} did not parse`);
  return parsed;
};

describe('ip-address', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['::', '::'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('parses %s and formats it as %s', (text, formatted) => {
    expect(formatIp(ip(text))).toBe(formatted);
  });

  it.each(['', '1.2.3', '256.1.1.1', '0177.0.0.1', 'example.com', '1::2::3', '[1.2.3.4]'])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });

  it('unmaps IPv4-mapped IPv6 only', () => {
    expect(formatIp(unmapIPv4(ip('::ffff:7f00:1')))).toBe('127.0.0.1');
    expect(unmapIPv4(ip('::7f00:1')).family).toBe(6);
  });

  it('matches ranges on bit boundaries, and IPv4 ranges against mapped addresses', () => {
    expect(rangeContains(cidr('172.16.0.0/12'), ip('172.31.255.255'))).toBe(true);
    expect(rangeContains(cidr('172.16.0.0/12'), ip('172.32.0.0'))).toBe(false);
    expect(rangeContains(cidr('fe80::/10'), ip('febf::1'))).toBe(true);
    expect(rangeContains(cidr('fe80::/10'), ip('fec0::1'))).toBe(false);
    expect(rangeContains(cidr('127.0.0.0/8'), ip('::ffff:127.9.9.9'))).toBe(true);
    expect(rangeContains(cidr('::/0'), ip('1.2.3.4'))).toBe(false);
    expect(rangeContains(cidr('0.0.0.0/0'), ip('1.2.3.4'))).toBe(true);
    expect(rangeContains(cidr('1.2.3.4'), ip('1.2.3.4'))).toBe(true);
  });

  it.each(['1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/x', '::/129', 'host/8'])('refuses the range %j', (text) => {
    expect(parseIpRange(text)).toBeNull();
  });

  it.each([
    ['8.8.8.8', null],
    ['2606:4700::1111', null],
    ['64:ff9b::808:808', null],
    ['2002:808:808::1', null],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'Teredo tunnel'],
    ['64:ff9b::a00:1', 'private'],
    ['fec0::1', 'site-local (deprecated)'],
  ])('classifies %s as %s', (text, label) => {
    expect(specialPurposeOf(ip(text))).toBe(label);
  });
});
