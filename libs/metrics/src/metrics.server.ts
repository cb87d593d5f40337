import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { MetricsRegistry } from './metrics.registry';

export const METRICS_APP_NAME = Symbol('METRICS_APP_NAME');

/**
 * Serves `GET /metrics` on a listener of its own (METRICS_HOST and the app's metrics port),
 * apart from the API: behind a load balancer the API port is public, and Prometheus has no
 * Keycloak login. Off loopback a bearer token is required (config refuses to start without one).
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(METRICS_APP_NAME) private readonly app: keyof AppConfig['metrics']['ports'],
    private readonly metrics: MetricsRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metrics.ports[this.app];
    if (port === 0) return;
    const server = createServer((request, response) => void this.answer(request, response));
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.metrics.host, () => resolve());
    });
    this.server = server;
    const { address, port: bound } = server.address() as AddressInfo;
    this.logger.log({ msg: 'metrics listening', host: address, port: bound, token: this.config.metrics.token !== null });
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') return send(response, 404, 'Not found: metrics are at GET /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'Only GET /metrics\n', { allow: 'GET, HEAD' });
    if (!this.authorized(request.headers.authorization)) {
      return send(response, 401, 'This /metrics needs Authorization: Bearer <METRICS_TOKEN>\n', { 'www-authenticate': 'Bearer' });
    }
    try {
      const { body, contentType } = await this.metrics.scrape();
      send(response, 200, request.method === 'HEAD' ? '' : body, { 'content-type': contentType });
    } catch (error) {
      this.logger.warn({ msg: 'metrics scrape failed', error: (error as Error).message });
      send(response, 503, `Metrics unavailable: ${(error as Error).message}\n`);
    }
  }

  private authorized(header: string | undefined): boolean {
    const token = this.config.metrics.token;
    if (token === null) return true;
    const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function send(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(body);
}
