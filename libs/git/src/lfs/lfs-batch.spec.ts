import { LfsMissingCode } from './lfs-missing';
import { batchRequestBody, parseBatchResponse } from './lfs-batch';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const requested = [
  { oid: A, size: 10 },
  { oid: B, size: 20 },
];
const download = (oid: string, size: number, extra: Record<string, unknown> = {}) => ({
  oid,
  size,
  actions: { download: { href: `https://lfs.example.org/objects/${oid}?sig=1`, header: { Authorization: 'Bearer x' }, ...extra } },
});

describe(parseBatchResponse.name, () => {
  it('gives each requested object its download href and headers', () => {
    const sut = parseBatchResponse({ transfer: 'basic', objects: [download(A, 10), download(B, 20)] }, requested);
    expect(sut.get(A)).toEqual({
      kind: 'download',
      href: `https://lfs.example.org/objects/${A}?sig=1`,
      header: { Authorization: 'Bearer x' },
    });
    expect(sut.get(B)).toMatchObject({ kind: 'download' });
  });

  it.each([
    ['404', { code: 404, message: 'Not found' }, LfsMissingCode.NOT_ON_SERVER],
    ['410', { code: 410 }, LfsMissingCode.NOT_ON_SERVER],
    ['403', { code: 403, message: 'no' }, LfsMissingCode.AUTH_REFUSED],
    ['422', { code: 422, message: 'bad' }, LfsMissingCode.SERVER_ERROR],
    ['an error without a code', {}, LfsMissingCode.SERVER_ERROR],
  ])('reports an object error %s as missing', (_name, error, code) => {
    const sut = parseBatchResponse({ objects: [{ oid: A, size: 10, error }, download(B, 20)] }, requested);
    expect(sut.get(A)).toMatchObject({ kind: 'missing', reason: { code } });
    expect(sut.get(B)).toMatchObject({ kind: 'download' });
  });

  it.each([
    ['not an object', 'nope'],
    ['no objects list', { transfer: 'basic' }],
    ['objects not a list', { objects: {} }],
    ['another transfer', { transfer: 'tus', objects: [download(A, 10), download(B, 20)] }],
    ['null', null],
  ])('makes every object missing when the whole answer is %s', (_name, body) => {
    const sut = parseBatchResponse(body, requested);
    expect([...sut.values()].map((a) => a.kind === 'missing' && a.reason.code)).toEqual([
      LfsMissingCode.INVALID_ANSWER,
      LfsMissingCode.INVALID_ANSWER,
    ]);
  });

  it.each([
    ['a different size', { ...download(A, 11) }],
    ['no actions', { oid: A, size: 10 }],
    ['no href', { oid: A, size: 10, actions: { download: { header: {} } } }],
    ['a relative href', download(A, 10, { href: '/objects/x' })],
    ['a file: href', download(A, 10, { href: 'file:///etc/passwd' })],
    ['an href with credentials', download(A, 10, { href: 'https://u:p@lfs.example.org/x' })],
    ['a header with a newline', download(A, 10, { header: { 'X-Evil': 'a\r\nHost: other' } })],
    ['a Host header', download(A, 10, { header: { Host: 'other.example' } })],
    ['a header name with a space', download(A, 10, { header: { 'X Evil': 'a' } })],
    ['a non-string header value', download(A, 10, { header: { 'X-N': 1 } })],
    ['header not an object', download(A, 10, { header: ['a'] })],
  ])('makes only that object missing for %s', (_name, item) => {
    const sut = parseBatchResponse({ objects: [item, download(B, 20)] }, requested);
    expect(sut.get(A)).toMatchObject({ kind: 'missing', reason: { code: LfsMissingCode.INVALID_ANSWER } });
    expect(sut.get(B)).toMatchObject({ kind: 'download' });
  });

  it('ignores objects nobody asked for, and reports those the answer left out', () => {
    const other = 'c'.repeat(64);
    const sut = parseBatchResponse({ objects: [download(other, 5), download(A, 10)] }, requested);
    expect([...sut.keys()].sort()).toEqual([A, B]);
    expect(sut.get(B)).toMatchObject({
      kind: 'missing',
      reason: { code: LfsMissingCode.INVALID_ANSWER, message: expect.stringMatching(/did not mention/) },
    });
  });

  it('keeps the first answer of an oid listed twice', () => {
    const sut = parseBatchResponse({ objects: [download(A, 10), { oid: A, size: 10, error: { code: 404 } }, download(B, 20)] }, requested);
    expect(sut.get(A)).toMatchObject({ kind: 'download' });
  });
});

describe(batchRequestBody.name, () => {
  it('asks for a download by basic transfer of exactly the given objects', () => {
    expect(JSON.parse(batchRequestBody(requested))).toEqual({ operation: 'download', transfers: ['basic'], objects: requested });
  });
});
