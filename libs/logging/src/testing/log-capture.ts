import type { DestinationStream } from 'pino';

export type LogLine = Record<string, unknown> & { level: string; time: string; app: string; msg?: string };

/** A pino destination kept in memory, for specs: the raw lines and their parsed form. */
export class LogCapture implements DestinationStream {
  readonly raw: string[] = [];

  write(line: string): void {
    this.raw.push(line);
  }

  lines(): LogLine[] {
    return this.raw.map((line) => {
      if (!line.endsWith('\n') || line.slice(0, -1).includes('\n')) throw new Error(`not one line: ${JSON.stringify(line)}`);
      return JSON.parse(line) as LogLine;
    });
  }

  clear(): void {
    this.raw.length = 0;
  }
}
