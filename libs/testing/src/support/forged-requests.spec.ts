import { apiOperations, FORGED_PATH_VALUES, forgedBodies, forgedRequests, type OpenApiDocument, WRONG_VALUES } from './forged-requests';

const document: OpenApiDocument = {
  paths: {
    '/health': { get: {} },
    '/api/things': {
      get: { parameters: [{ name: 'page', in: 'query', schema: { type: 'number' } }] },
      post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/ThingBody' } } } } },
    },
    '/api/things/{id}/files/{path}': { get: { parameters: [{ name: 'id', in: 'path' }] }, delete: {} },
  },
  components: {
    schemas: {
      ThingBody: {
        type: 'object',
        properties: { url: { type: 'string' }, count: { type: 'number' }, secret: { allOf: [{ $ref: '#/components/schemas/Secret' }] } },
        required: ['url'],
      },
      Secret: { type: 'object', properties: { kind: { type: 'string', enum: ['a', 'b'] } }, required: ['kind'] },
    },
  },
};
const context = { url: 'http://127.0.0.1:9/x.git' };

describe(apiOperations.name, () => {
  it('lists every method of every path under the prefix, with its path, query and resolved body parameters', () => {
    const sut = apiOperations(document);

    expect(sut.map((operation) => `${operation.method} ${operation.path}`)).toEqual([
      'GET /api/things',
      'POST /api/things',
      'GET /api/things/{id}/files/{path}',
      'DELETE /api/things/{id}/files/{path}',
    ]);
    expect(sut[0].queryParams).toEqual(['page']);
    expect(sut[2].pathParams).toEqual(['id', 'path']);
    expect(sut[1].body?.properties?.secret.properties?.kind.enum).toEqual(['a', 'b']);
  });
});

describe(forgedRequests.name, () => {
  const [list, create, files, remove] = apiOperations(document);

  it('forges every path parameter with every forged value, the others holding a uuid', () => {
    const sut = forgedRequests(files, context);

    for (const name of ['id', 'path']) {
      for (const [label, value] of FORGED_PATH_VALUES) {
        expect(sut).toContainEqual(expect.objectContaining({ input: expect.stringContaining(`path ${name}: ${label}`) }));
        expect(sut.some((request) => request.target.includes(`/${value}`))).toBe(true);
      }
    }
  });

  it('forges documented and paging query parameters on GET routes, and sends an unknown one everywhere', () => {
    for (const name of ['page', 'pageSize', 'scope']) {
      expect(forgedRequests(list, context).some((request) => request.target.includes(`?${name}=1e309`))).toBe(true);
    }
    expect(forgedRequests(remove, context).some((request) => request.target.includes('pageSize'))).toBe(false);
    expect(forgedRequests(remove, context).some((request) => request.target.endsWith('?zzUnknown=1'))).toBe(true);
    expect(forgedRequests(remove, context).some((request) => request.target.length > 20_000)).toBe(true);
  });

  it('uses existing values only on GET routes, so nothing that exists is changed', () => {
    const existingValue = () => 'existing-id';

    expect(forgedRequests(files, { ...context, existingValue }).some((request) => request.target.includes('existing-id'))).toBe(true);
    expect(forgedRequests(remove, { ...context, existingValue }).some((request) => request.target.includes('existing-id'))).toBe(false);
  });

  it('sends bodies only on POST, PUT and PATCH, one of them with no content type', () => {
    expect(forgedRequests(list, context).every((request) => request.body === undefined)).toBe(true);
    const sut = forgedRequests(create, context);
    expect(sut.filter((request) => request.body !== undefined && request.contentType === undefined)).toHaveLength(1);
    expect(sut.some((request) => request.contentType === 'text/plain')).toBe(true);
    expect(sut.some((request) => request.contentType === 'application/merge-patch+json')).toBe(true);
    expect(sut.filter((request) => request.headers?.['content-encoding'] !== undefined)).toHaveLength(3);
  });
});

describe(forgedBodies.name, () => {
  const [, create] = apiOperations(document);
  const sut = forgedBodies(create.body, context);
  const texts = sut.map(([, body]) => body);

  it('gives every property every wrong value, alone and beside valid required fields', () => {
    for (const name of ['url', 'count', 'secret']) {
      for (const [label] of WRONG_VALUES) {
        expect(sut.map(([input]) => input)).toEqual(
          expect.arrayContaining([`${name}: ${label}`, `${name}: ${label}, beside valid fields`]),
        );
      }
    }
    expect(texts).toContain('{"url":"http://127.0.0.1:9/x.git","count":1e309}');
  });

  it('forges the properties of a nested object inside its valid required fields', () => {
    expect(texts).toContain('{"url":"http://127.0.0.1:9/x.git","secret":{"kind":null}}');
  });

  it('writes __proto__ and constructor as fields of the JSON text, and includes invalid JSON', () => {
    expect(texts).toContain('{"url":"http://127.0.0.1:9/x.git","__proto__":{"isAdmin":true}}');
    expect(texts).toContain('{"url":"http://127.0.0.1:9/x.git","constructor":{"prototype":{"isAdmin":true}}}');
    expect(texts.filter((text) => !isJson(text)).length).toBeGreaterThanOrEqual(2);
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
