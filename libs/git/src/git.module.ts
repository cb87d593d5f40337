import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { SafeCloner } from './safe-clone';
import { UrlPolicy } from './url-policy';

/**
 * The URL policy and the safe cloner, built once from libs/config: the frontend vets a
 * submitted URL with the very policy (allowlist, DNS servers) the worker applies again at
 * clone time.
 */
@Module({
  providers: [
    {
      provide: UrlPolicy,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new UrlPolicy({ allowedHosts: config.clone.allowedHosts, dnsServers: config.clone.dnsServers }),
    },
    {
      provide: SafeCloner,
      inject: [APP_CONFIG, UrlPolicy],
      useFactory: (config: AppConfig, policy: UrlPolicy) =>
        new SafeCloner({ policy, tempDir: config.clone.workDir, maxMemoryBytes: config.clone.maxMemoryBytes }),
    },
  ],
  exports: [UrlPolicy, SafeCloner],
})
export class GitModule {}
