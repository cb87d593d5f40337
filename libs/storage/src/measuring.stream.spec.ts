import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readAll } from '@archiver/testing';
import { MeasuringStream } from './measuring.stream';
import { StorageErrorCode } from './storage.error';

async function drain(chunks: Buffer[], sut: MeasuringStream): Promise<Buffer> {
  let out: Buffer = Buffer.alloc(0);
  await pipeline(Readable.from(chunks), sut, async (source: AsyncIterable<Buffer>) => {
    out = await readAll(source);
  });
  return out;
}

describe(MeasuringStream.name, () => {
  const data = [Buffer.from('hello '), Buffer.from('world')];

  it('passes bytes through while counting and hashing them', async () => {
    const sut = new MeasuringStream({ expectedSize: 11, sha256: true, label: 'k' });
    expect((await drain(data, sut)).toString()).toBe('hello world');
    expect(sut.bytes).toBe(11);
    expect(sut.sha256()).toBe(createHash('sha256').update('hello world').digest('hex'));
  });

  it('fails a stream shorter than declared', async () => {
    const sut = new MeasuringStream({ expectedSize: 12, label: 'b/k' });
    await expect(drain(data, sut)).rejects.toMatchObject({
      code: StorageErrorCode.INVALID,
      message: 'b/k: declared 12 bytes but the stream carried 11',
    });
  });

  it('fails a stream longer than declared as soon as it overflows', async () => {
    const sut = new MeasuringStream({ expectedSize: 6, label: 'b/k' });
    await expect(drain(data, sut)).rejects.toMatchObject({ message: 'b/k: declared 6 bytes but the stream carried more than 6' });
  });
});
