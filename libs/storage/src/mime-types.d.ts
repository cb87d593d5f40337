// mime-types ships no types; only lookup() is used (see content-type.ts).
declare module 'mime-types' {
  export function lookup(pathOrExtension: string): string | false;
}
