import { SnapshotIndexCache } from './snapshot-index.cache';
import { SnapshotTree } from './snapshot-tree';

const index = (commit: string) => ({ commit, tree: SnapshotTree.fromFiles([]) });

describe(SnapshotIndexCache.name, () => {
  const loader = (weight = 1) => {
    const calls: string[] = [];
    return { calls, load: (key: string) => async () => (calls.push(key), { index: index(key), weight }) };
  };

  it('loads each key once and answers later requests from memory', async () => {
    const sut = new SnapshotIndexCache({ maxEntries: 4, maxWeight: 100 });
    const { calls, load } = loader();
    const [a, b] = await Promise.all([sut.get('a', load('a')), sut.get('a', load('a'))]);
    expect(a).toBe(b);
    expect(await sut.get('a', load('a'))).toBe(a);
    expect(calls).toEqual(['a']);
  });

  it('evicts the least recently used entry beyond the entry bound', async () => {
    const sut = new SnapshotIndexCache({ maxEntries: 2, maxWeight: 100 });
    const { calls, load } = loader();
    await sut.get('a', load('a'));
    await sut.get('b', load('b'));
    await sut.get('a', load('a'));
    await sut.get('c', load('c'));
    await sut.get('a', load('a'));
    await sut.get('b', load('b'));
    expect(calls).toEqual(['a', 'b', 'c', 'b']);
    expect(sut.size).toBe(2);
  });

  it('keeps the summed weight within its bound, and does not keep one entry heavier than all of it', async () => {
    const sut = new SnapshotIndexCache({ maxEntries: 10, maxWeight: 10 });
    await sut.get('a', loader(4).load('a'));
    await sut.get('b', loader(4).load('b'));
    await sut.get('c', loader(4).load('c'));
    expect(sut.totalWeight).toBeLessThanOrEqual(10);
    expect(sut.size).toBe(2);
    expect((await sut.get('huge', loader(50).load('huge'))).commit).toBe('huge');
    expect(sut.totalWeight).toBeLessThanOrEqual(10);
  });

  it('forgets a failed load, so the next request tries again', async () => {
    const sut = new SnapshotIndexCache({ maxEntries: 4, maxWeight: 100 });
    await expect(sut.get('a', () => Promise.reject(new Error('storage down')))).rejects.toThrow('storage down');
    expect(sut.size).toBe(0);
    expect((await sut.get('a', loader().load('a'))).commit).toBe('a');
  });
});
