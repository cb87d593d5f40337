import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { Logger, LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { LogContext } from './log-context';
import { httpLoggerOptions } from './logger-options';

/**
 * pino through nestjs-pino for one app, at the level LOG_LEVEL sets. Global, so libs (the
 * queue processors) can use LogContext without each app wiring it.
 */
@Module({})
export class LoggingModule {
  /** `destination`: where lines go instead of stdout (tests). */
  static forApp(app: string, destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      global: true,
      imports: [
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({ pinoHttp: httpLoggerOptions(app, config.logLevel, destination) }),
        }),
      ],
      providers: [LogContext],
      exports: [LogContext],
    };
  }
}

/**
 * Routes Nest's own `Logger` (framework messages and every `new Logger(Class.name)`) to pino,
 * flushing what was buffered while the app was being built (`bufferLogs: true`).
 */
export function useAppLogger(app: INestApplicationContext): void {
  app.useLogger(app.get(Logger));
}
