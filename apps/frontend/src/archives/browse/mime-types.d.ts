// mime-types (jshttp, Express's own) ships no types and @types/mime-types is not installed:
// the one function this app uses.
declare module 'mime-types' {
  export function lookup(pathOrExtension: string): string | false;
}
