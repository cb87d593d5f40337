import { deleteRepositoryQuerySchema, listRepositoriesQuerySchema, trackRepositorySchema, updateRepositorySchema } from './repository.dto';

describe('repository request schemas', () => {
  describe('trackRepositorySchema', () => {
    it.each([[{ url: 'https://h/a.git' }], [{ url: 'https://h/a.git', intervalHours: 1 }], [{ url: 'x', intervalHours: 8760 }]])(
      'accepts %j',
      (body) => expect(trackRepositorySchema.safeParse(body).success).toBe(true),
    );

    it.each([
      [{}],
      [{ url: 1 }],
      [{ url: 'x', intervalHours: 0.99 }],
      [{ url: 'x', intervalHours: 8761 }],
      [{ url: 'x', intervalHours: '24' }],
      [{ url: 'x', extra: 1 }],
      [[]],
    ])('refuses %j', (body) => expect(trackRepositorySchema.safeParse(body).success).toBe(false));
  });

  describe('updateRepositorySchema', () => {
    it.each([[{ state: 'active' }], [{ state: 'paused' }], [{ intervalHours: null }], [{ intervalHours: 12, state: 'paused' }]])(
      'accepts %j',
      (body) => expect(updateRepositorySchema.safeParse(body).success).toBe(true),
    );

    it.each([[{}], [{ state: 'disabled' }], [{ state: null }], [{ intervalHours: 0 }], [{ other: 1 }]])('refuses %j', (body) =>
      expect(updateRepositorySchema.safeParse(body).success).toBe(false),
    );
  });

  it('defaults list paging and refuses repeated or out-of-range values', () => {
    expect(listRepositoriesQuerySchema.parse({})).toEqual({ page: 1, pageSize: 20 });
    for (const query of [{ page: '0' }, { pageSize: '101' }, { state: 'gone' }, { q: ['a', 'b'] }]) {
      expect(listRepositoriesQuerySchema.safeParse(query).success).toBe(false);
    }
  });

  it('reads the delete flags as exactly true or false', () => {
    expect(deleteRepositoryQuerySchema.parse({})).toEqual({ all: false, purge: false });
    expect(deleteRepositoryQuerySchema.parse({ all: 'true', purge: 'false' })).toEqual({ all: true, purge: false });
    for (const value of ['1', 'yes', 'TRUE', '']) expect(deleteRepositoryQuerySchema.safeParse({ purge: value }).success).toBe(false);
  });
});
