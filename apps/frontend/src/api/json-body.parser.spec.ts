import { MAX_JSON_DEPTH } from './json-body.limits';
import { jsonNestingExceeds } from './json-body.parser';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number, open: (i: number) => string, close: (i: number) => string, core = '1') => {
  let text = core;
  for (let i = depth - 1; i >= 0; i -= 1) text = `${open(i)}${text}${close(i)}`;
  return text;
};
const arrays = (depth: number) =>
  nested(
    depth,
    () => '[',
    () => ']',
  );
const objects = (depth: number) =>
  nested(
    depth,
    () => '{"a":',
    () => '}',
  );
const mixed = (depth: number) =>
  nested(
    depth,
    (i) => (i % 2 ? '[' : '{"k":'),
    (i) => (i % 2 ? ']' : '}'),
  );

describe(jsonNestingExceeds.name, () => {
  const shapes: Array<[string, (depth: number) => string]> = [
    ['arrays', arrays],
    ['objects', objects],
    ['arrays and objects mixed', mixed],
  ];

  it.each(shapes)('allows %s nested exactly to the limit and refuses one level more', (_name, build) => {
    for (const depth of [1, 2, MAX_JSON_DEPTH]) expect(jsonNestingExceeds(bytes(build(depth)), MAX_JSON_DEPTH)).toBe(false);
    for (const depth of [MAX_JSON_DEPTH + 1, 20_000]) expect(jsonNestingExceeds(bytes(build(depth)), MAX_JSON_DEPTH)).toBe(true);
  });

  it('refuses deep nesting that never closes (truncated or malformed text)', () => {
    expect(jsonNestingExceeds(bytes('['.repeat(20_000)), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonNestingExceeds(bytes(`{"a":${'[{"b":'.repeat(10)}`), MAX_JSON_DEPTH)).toBe(true);
  });

  it('counts siblings once, not per element', () => {
    const wide = JSON.stringify({ urls: Array.from({ length: 1000 }, (_, i) => [[{ x: i }]]) });
    expect(jsonNestingExceeds(bytes(wide), 5)).toBe(false);
    expect(jsonNestingExceeds(bytes(wide), 4)).toBe(true);
  });

  it.each([
    ['brackets inside a string', JSON.stringify({ url: '[[[[[[[[[[[[{{{{{{{{{{' })],
    ['an escaped quote before brackets', JSON.stringify({ url: 'a\\"[[[[[[[[[[[[[[[[' })],
    ['an escaped backslash ending a string', `{"a":"\\\\","b":"[[[[[[[[[[[[[[[[[["}`],
    ['multi-byte characters around brackets', JSON.stringify({ url: 'é[ü{漢[😀[[[[[[[[[[[[[' })],
  ])('ignores %s', (_name, text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(jsonNestingExceeds(bytes(text), 2)).toBe(false);
  });

  it('still sees structure after a string that ends in an escaped backslash', () => {
    expect(jsonNestingExceeds(bytes(`{"a":"\\\\","b":${arrays(5)}}`), 4)).toBe(true);
  });

  it('agrees with the depth of the bodies the API takes', () => {
    expect(jsonNestingExceeds(bytes(JSON.stringify({ urls: ['https://host/a.git', 'https://host/b.git'] })), 2)).toBe(false);
    expect(jsonNestingExceeds(bytes(JSON.stringify({ url: 'https://host/a.git' })), 1)).toBe(false);
  });
});
