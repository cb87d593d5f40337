/**
 * A link that opens `prefix` of `bucket` in the MinIO console's object browser.
 *
 * The console embedded in the pinned MinIO (github.com/minio/console v1.7.7-0.20250905210349,
 * see scripts/env.sh MINIO_VERSION) routes `/browser/:bucketName/*` and reads the path with
 * `decodeURIComponent` (web-app ListObjects.tsx, BrowserBreadcrumbs.tsx). Older consoles
 * base64-encoded the prefix instead; those links would open the bucket root here.
 */
export function consoleUrlFor(consoleBaseUrl: string, bucket: string, prefix = ''): string {
  const base = consoleBaseUrl.replace(/\/+$/, '');
  const bucketPath = `${base}/browser/${encodeURIComponent(bucket)}`;
  return prefix ? `${bucketPath}/${encodeURIComponent(prefix)}` : bucketPath;
}
