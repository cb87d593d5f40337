import { INestApplication, Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig, ConfigError, loadConfig } from '@archiver/config';
import { logStartupFailure, useAppLogger } from '@archiver/logging';
import { httpMetrics, MetricsRegistry } from '@archiver/metrics';
import { BoundedExpressAdapter } from './http-server';

export type AppName = 'frontend' | 'injector' | 'worker';

/**
 * Starts one of the three processes: configuration validated before anything else (a bad
 * setting stops the process with a message naming it), JSON logs, graceful shutdown on
 * SIGTERM/SIGINT, and an HTTP listener for /health (and the API, for the frontend) with
 * deliberate connection bounds (http-server.ts), counted by libs/metrics (the app's module
 * imports MetricsModule.forApp(name)). No body parser is installed: an app that takes
 * bodies registers exactly the one it needs, with its limits, in `configure`.
 */
export async function bootstrap(
  name: AppName,
  module: Type<unknown>,
  configure?: (app: NestExpressApplication, config: AppConfig) => void | Promise<void>,
): Promise<INestApplication> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logStartupFailure(name, error.message);
    process.exit(78); // EX_CONFIG
  }
  // The module imports LoggingModule.forApp(name); until it is built, Nest's messages wait in a buffer.
  const app = await NestFactory.create<NestExpressApplication>(module, new BoundedExpressAdapter(config.http.timeouts), {
    bufferLogs: true,
    bodyParser: false,
  });
  useAppLogger(app);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.disable('x-powered-by');
  // Before any route: every request is counted, whatever answers it (unless no one can read the counts).
  if (config.metrics.ports[name] !== 0) app.use(httpMetrics(app.get(MetricsRegistry)));
  await configure?.(app, config);
  const port = config.http.ports[name];
  await app.listen(port, config.http.host);
  new Logger('Bootstrap').log({ msg: 'listening', host: config.http.host, port });
  return app;
}
