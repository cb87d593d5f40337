import { randomUUID } from 'node:crypto';

/** The parts of an OpenAPI 3 document the sweep reads (as @nestjs/swagger writes it). */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; schema?: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface JsonSchema {
  $ref?: string;
  allOf?: JsonSchema[];
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
}

/** One route of the API as its document declares it. */
export interface SweptOperation {
  method: string;
  /** The template, e.g. `/api/archives/{id}`. */
  path: string;
  /** Every `{name}` of the template (a wildcard like `{path}` may be missing from `parameters`). */
  pathParams: string[];
  queryParams: string[];
  /** The JSON body's schema with `$ref` and `allOf` resolved; undefined when none is documented. */
  body?: JsonSchema;
}

/** One request to send, and how a failure report names it. */
export interface ForgedRequest {
  /** The documented operation, `METHOD /template`. */
  operation: string;
  method: string;
  /** Path and query, already encoded as they go on the wire (some deliberately badly). */
  target: string;
  body?: string;
  contentType?: string;
  /** Further headers, e.g. a Content-Encoding the body does not have. */
  headers?: Record<string, string>;
  /** What was forged, for the failure report. */
  input: string;
}

/** What the forged requests fill in where a real value is wanted. */
export interface ForgeContext {
  /** A URL the stack accepts (allowlisted, and whose rows the suite removes afterwards). */
  url: string;
  /**
   * A path parameter's value naming something that exists (encoded), so that forged query and
   * path parts of GET routes reach past "not found"; only GET, so nothing that exists is changed.
   */
  existingValue?: (operation: SweptOperation, param: string) => string | undefined;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const PAGING_PARAMS = ['page', 'pageSize', 'scope'];

/** Every operation under `prefix`, in document order. */
export function apiOperations(document: OpenApiDocument, prefix = '/api/'): SweptOperation[] {
  const operations: SweptOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith(prefix)) continue;
    for (const [method, operation] of Object.entries(item)) {
      const parameters = operation.parameters ?? [];
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]),
        queryParams: parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        body: bodySchema ? resolveSchema(document, bodySchema) : undefined,
      });
    }
  }
  return operations;
}

/** Follows `$ref` and merges `allOf`, two levels down (bodies hold one nested object: the credential). */
export function resolveSchema(document: OpenApiDocument, schema: JsonSchema, depth = 0): JsonSchema {
  let resolved = schema;
  if (resolved.$ref) resolved = document.components?.schemas?.[resolved.$ref.replace('#/components/schemas/', '')] ?? {};
  if (resolved.allOf) {
    const { allOf, ...rest } = resolved;
    resolved = allOf.reduce<JsonSchema>((merged, part) => ({ ...merged, ...resolveSchema(document, part, depth) }), rest);
  }
  if (resolved.properties && depth < 2) {
    const properties = Object.fromEntries(
      Object.entries(resolved.properties).map(([name, property]) => [name, resolveSchema(document, property, depth + 1)]),
    );
    resolved = { ...resolved, properties };
  }
  return resolved;
}

/** Path parameter values that name nothing, or nothing sane; already encoded for the wire. */
export const FORGED_PATH_VALUES: ReadonlyArray<[string, string]> = [
  ['not a uuid', 'not-a-uuid'],
  ['300 characters', 'a'.repeat(300)],
  ['encoded traversal', '..%2F..%2Fetc'],
  ['NUL byte', '%00'],
  ['unicode', encodeURIComponent('é😀')],
  ['bad percent-encoding', '%ZZ'],
];

/** Query values of every wrong type, as raw query strings for parameter `name`. */
export function forgedQueries(name: string): Array<[string, string]> {
  const key = encodeURIComponent(name);
  return [
    ...['x', '-1', '0', '1e309', '99999999999999999999', '', '%ZZ', encodeURIComponent('é😀')].map((value): [string, string] => [
      `${name}=${value}`,
      `${key}=${value}`,
    ]),
    [`${name} repeated`, `${key}=1&${key}=2`],
    [`${name}[]`, `${key}%5B%5D=1`],
    [`${name}[b]`, `${key}%5Bb%5D=1`],
    [`${name} 10k long`, `${key}=${'9'.repeat(10_000)}`],
  ];
}

/** JSON texts of every type, for a body property (text, because `1e309` has no JSON.stringify). */
export const WRONG_VALUES: ReadonlyArray<[string, string]> = [
  ['a number', '123'],
  ['a string', '"str"'],
  ['an empty string', '""'],
  ['an array', '[1,"a",null]'],
  ['an object', '{"a":1}'],
  ['null', 'null'],
  ['true', 'true'],
  ['-1', '-1'],
  ['1e309', '1e309'],
  ['a float', '1.5'],
  ['a 100k string', JSON.stringify('a'.repeat(100_000))],
  ['a nested object', '{"a":{"b":{"c":[1]}}}'],
];

/** Whole bodies that are not the object any route takes, or objects that try to reach the prototype. */
const WHOLE_BODIES: ReadonlyArray<[string, string]> = [
  ['null', 'null'],
  ['[]', '[]'],
  ['a string', '"str"'],
  ['a number', '123'],
  ['{}', '{}'],
  ['__proto__', '{"__proto__":{"isAdmin":true,"url":"x"}}'],
  ['constructor.prototype', '{"constructor":{"prototype":{"isAdmin":true}}}'],
  ['invalid JSON', '{"url":'],
  ['an empty body', ''],
];

/** The requests the sweep sends for one operation: bounded, and each one forged in one place. */
export function forgedRequests(operation: SweptOperation, context: ForgeContext): ForgedRequest[] {
  const requests: ForgedRequest[] = [];
  const random = randomUUID();
  const existing = (name: string) => (operation.method === 'GET' ? context.existingValue?.(operation, name) : undefined);
  const valueSets: Array<[string, (name: string) => string]> = [['a random uuid', () => random]];
  if (operation.pathParams.some((name) => existing(name) !== undefined)) {
    valueSets.push(['existing', (name) => existing(name) ?? random]);
  }

  for (const [setLabel, valueOf] of operation.pathParams.length > 0 ? valueSets : ([['', () => '']] as const)) {
    const path = (forged: Record<string, string> = {}) =>
      operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => forged[name] ?? valueOf(name));
    const ids = setLabel ? ` (other path parameters: ${setLabel})` : '';
    const send = (input: string, target: string, body?: string, contentType?: string, headers?: Record<string, string>) =>
      requests.push({
        operation: `${operation.method} ${operation.path}`,
        method: operation.method,
        target,
        body,
        contentType,
        headers,
        input: `${input}${ids}`,
      });

    send('as documented, no query', path());
    for (const name of operation.pathParams) {
      for (const [label, value] of FORGED_PATH_VALUES) send(`path ${name}: ${label}`, path({ [name]: value }));
    }
    // Lists take these whether or not the document says so: forged there too.
    const undocumented = operation.method === 'GET' ? PAGING_PARAMS.filter((name) => !operation.queryParams.includes(name)) : [];
    for (const name of [...operation.queryParams, ...undocumented]) {
      for (const [label, query] of forgedQueries(name)) send(`query ${label}`, `${path()}?${query}`);
    }
    send('an unknown query parameter', `${path()}?zzUnknown=1`);
    // Past Node's 16 KiB limit for the request line and headers: answered before any route runs.
    send('a 20 KB query string', `${path()}?zzLong=${'9'.repeat(20_000)}`);
    if (!BODY_METHODS.has(operation.method)) continue;
    for (const [label, body] of forgedBodies(operation.body, context)) send(`body ${label}`, path(), body, 'application/json');
    send('body as text/plain', path(), validObjectText(operation.body, context), 'text/plain');
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const valid = validObjectText(operation.body, context);
      send(`body declared ${encoding} but plain`, path(), valid, 'application/json', { 'content-encoding': encoding });
    }
    send('body as application/merge-patch+json', path(), validObjectText(operation.body, context), 'application/merge-patch+json');
    send('body with no content type', path(), validObjectText(operation.body, context));
  }
  return requests;
}

/** Bodies for a route: whole-body forgeries, then each documented property (and each of a nested object's) wrong. */
export function forgedBodies(schema: JsonSchema | undefined, context: ForgeContext): Array<[string, string]> {
  const bodies: Array<[string, string]> = [...WHOLE_BODIES];
  const base = filledRequired(schema, context);
  // Pairs, not an object literal: there `__proto__: x` would set the prototype, not a field.
  const text = (entries: Record<string, string>, ...more: Array<[string, string]>) =>
    `{${[...Object.entries(entries), ...more].map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
  bodies.push(['required fields only', text(base)]);
  bodies.push(['an unknown field', text(base, ['zzUnknown', '1'])]);
  bodies.push(['a __proto__ field beside valid ones', text(base, ['__proto__', '{"isAdmin":true}'])]);
  bodies.push(['a constructor field beside valid ones', text(base, ['constructor', '{"prototype":{"isAdmin":true}}'])]);
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    for (const [label, value] of WRONG_VALUES) {
      bodies.push([`${name}: ${label}`, text({ [name]: value })]);
      bodies.push([`${name}: ${label}, beside valid fields`, text({ ...base, [name]: value })]);
    }
    for (const [nested, nestedSchema] of Object.entries(property.properties ?? {})) {
      const inner = filledRequired(property, context);
      for (const [label, value] of WRONG_VALUES) {
        if (label === 'a string' && nestedSchema.type === 'string') continue;
        bodies.push([`${name}.${nested}: ${label}`, text({ ...base, [name]: text({ ...inner, [nested]: value }) })]);
      }
    }
  }
  return bodies;
}

function validObjectText(schema: JsonSchema | undefined, context: ForgeContext): string {
  const fields = Object.entries(filledRequired(schema, context)).map(([key, value]) => `${JSON.stringify(key)}:${value}`);
  return `{${fields.join(',')}}`;
}

/** The required properties with plausible values (JSON texts), so one forged property is what the server meets. */
function filledRequired(schema: JsonSchema | undefined, context: ForgeContext): Record<string, string> {
  const filled: Record<string, string> = {};
  for (const name of schema?.required ?? []) {
    filled[name] = JSON.stringify(plausible(name, schema?.properties?.[name] ?? {}, context));
  }
  return filled;
}

function plausible(name: string, schema: JsonSchema, context: ForgeContext): unknown {
  if (schema.enum?.length) return schema.enum[0];
  if (/url/i.test(name)) return schema.type === 'array' ? [context.url] : context.url;
  switch (schema.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return schema.items?.enum?.length ? [schema.items.enum[0]] : [];
    case 'object':
      return {};
    default:
      return 'x';
  }
}
