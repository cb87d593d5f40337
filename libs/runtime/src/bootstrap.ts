import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig, ConfigError, loadConfig } from '@archiver/config';
import { JsonLogger } from '@archiver/logging';
import { BoundedExpressAdapter } from './http-server';

export type AppName = 'frontend' | 'injector' | 'worker';

/**
 * Starts one of the three processes: configuration validated before anything else (a bad
 * setting stops the process with a message naming it), JSON logs, graceful shutdown on
 * SIGTERM/SIGINT, and an HTTP listener for /health (and the API, for the frontend) with
 * deliberate connection bounds (http-server.ts). No body parser is installed: an app that takes
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
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', app: name, msg: error.message }) + '\n');
    process.exit(78); // EX_CONFIG
  }
  const logger = new JsonLogger(name, config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(module, new BoundedExpressAdapter(config.http.timeouts), {
    logger,
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(logger);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.disable('x-powered-by');
  await configure?.(app, config);
  const port = config.http.ports[name];
  await app.listen(port, config.http.host);
  logger.log({ msg: 'listening', host: config.http.host, port }, 'Bootstrap');
  return app;
}
