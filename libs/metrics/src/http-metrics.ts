import type { NextFunction, Request, Response } from 'express';
import { DURATION_BUCKETS_SECONDS, type MetricsRegistry } from './metrics.registry';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Express middleware counting every request by method, route pattern and status, with its
 * latency. The route is the pattern the router matched (`/api/archives/:id`), never the path
 * itself, so ids and file paths do not become label values; anything no route matched (static
 * files, 404s) is `unmatched`.
 */
export function httpMetrics(metrics: MetricsRegistry): (request: Request, response: Response, next: NextFunction) => void {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = metrics.counter({ name: 'http_requests_total', help: 'HTTP requests answered', labelNames });
  const duration = metrics.histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request arriving to its response being written',
    labelNames,
    buckets: DURATION_BUCKETS_SECONDS,
  });
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const labels = {
        method: METHODS.has(request.method) ? request.method : 'other',
        route: routeOf(request),
        status: String(response.statusCode),
      };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

function routeOf(request: Request): string {
  const pattern: unknown = (request.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? `${request.baseUrl}${pattern}` : 'unmatched';
}
