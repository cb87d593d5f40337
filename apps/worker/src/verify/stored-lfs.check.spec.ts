import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { lfsObjectKey, type SnapshotLfs, StorageError, StorageErrorCode } from '@archiver/storage';
import { SnapshotCheckCode } from '../bundle/snapshot-check.error';
import { checkStoredLfsObjects } from './stored-lfs.check';

const object = (text: string) => {
  const bytes = Buffer.from(text);
  return { bytes, oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
};

describe(checkStoredLfsObjects.name, () => {
  const one = object('first');
  const two = object('second');
  const lfs: SnapshotLfs = {
    objectCount: 2,
    byteCount: one.size + two.size,
    missingCount: 1,
    uploadedCount: 2,
    entries: [
      { path: 'a', oid: one.oid, size: one.size, status: 'stored' },
      { path: 'b', oid: two.oid, size: two.size, status: 'stored' },
      { path: 'c', oid: 'c'.repeat(64), size: 3, status: 'missing', missing: { code: 'LFS_NOT_ON_SERVER', message: 'gone' } },
    ],
  };
  const storeWith = (objects: Map<string, Buffer>) => ({
    getObject: jest.fn(async (_bucket: string, key: string) => {
      const bytes = objects.get(key);
      if (!bytes) throw new StorageError(StorageErrorCode.NOT_FOUND, `${key} not found`);
      return Readable.from([bytes]);
    }),
  });
  const signal = () => AbortSignal.timeout(5000);

  it('passes when every stored object is its oid’s bytes, and does not look for missing ones', async () => {
    const store = storeWith(new Map([one, two].map((o) => [lfsObjectKey(o.oid), o.bytes])));
    await checkStoredLfsObjects(store, 'bucket', lfs, signal());
    expect(store.getObject).toHaveBeenCalledTimes(2);
  });

  it.each([
    [
      'other bytes',
      new Map([
        [lfsObjectKey(one.oid), Buffer.from('FIRST')],
        [lfsObjectKey(two.oid), two.bytes],
      ]),
      SnapshotCheckCode.FILE_CHECKSUM_MISMATCH,
    ],
    [
      'a shorter object',
      new Map([
        [lfsObjectKey(one.oid), Buffer.from('firs')],
        [lfsObjectKey(two.oid), two.bytes],
      ]),
      SnapshotCheckCode.FILE_CHECKSUM_MISMATCH,
    ],
    ['no object', new Map([[lfsObjectKey(two.oid), two.bytes]]), SnapshotCheckCode.MISSING_OBJECT],
  ])('fails a stored object with %s', async (_name, objects, code) => {
    await expect(checkStoredLfsObjects(storeWith(objects), 'bucket', lfs, signal())).rejects.toMatchObject({ code });
  });

  it('has nothing to check in a snapshot without LFS', async () => {
    const store = storeWith(new Map());
    await checkStoredLfsObjects(store, 'bucket', undefined, signal());
    expect(store.getObject).not.toHaveBeenCalled();
  });
});
