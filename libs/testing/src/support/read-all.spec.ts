import { Readable } from 'node:stream';
import { readAll } from './read-all';

describe(readAll.name, () => {
  it.each<[string, () => AsyncIterable<unknown>, Buffer]>([
    [
      'Buffer chunks, bytes kept exactly',
      () => Readable.from([Buffer.from([0, 0xff]), Buffer.from([0xfe, 0x0a])]),
      Buffer.from([0, 0xff, 0xfe, 0x0a]),
    ],
    ['string chunks', () => Readable.from(['h\u00e9', 'llo'], { objectMode: true }), Buffer.from('h\u00e9llo')],
    ['Uint8Array chunks', () => Readable.from([new Uint8Array([1, 2]), new Uint8Array([3])], { objectMode: true }), Buffer.from([1, 2, 3])],
    ['no chunks', () => Readable.from([]), Buffer.alloc(0)],
  ])('concatenates %s', async (_name, stream, expected) => {
    expect((await readAll(stream())).equals(expected)).toBe(true);
  });

  it('rejects with the error the stream fails with', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(readAll(failing)).rejects.toThrow('connection reset');
  });
});
