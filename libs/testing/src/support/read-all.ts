/** Everything a stream yields, as one Buffer (tests compare stored and expected bytes exactly). */
export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string | Uint8Array));
  return Buffer.concat(chunks);
}
