import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { LfsSshAuthenticator } from './lfs/lfs-ssh-authenticator';
import { type GuardedGitOptions, SafeCloner } from './safe-clone';
import { UrlPolicy } from './url-policy';

/**
 * The URL policy and the safe cloner, built once from libs/config: the frontend vets a
 * submitted URL with the very policy (allowlist, DNS servers) the worker applies again at
 * clone time. git-lfs-authenticate over SSH runs under the very options of the clone.
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
      useFactory: (config: AppConfig, policy: UrlPolicy) => new SafeCloner(guardedGitOptions(config, policy)),
    },
    {
      provide: LfsSshAuthenticator,
      inject: [APP_CONFIG, UrlPolicy],
      useFactory: (config: AppConfig, policy: UrlPolicy) => new LfsSshAuthenticator(guardedGitOptions(config, policy)),
    },
  ],
  exports: [UrlPolicy, SafeCloner, LfsSshAuthenticator],
})
export class GitModule {}

function guardedGitOptions(config: AppConfig, policy: UrlPolicy): GuardedGitOptions {
  return { policy, tempDir: config.clone.workDir, maxMemoryBytes: config.clone.maxMemoryBytes };
}
