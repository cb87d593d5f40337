import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { CredentialCipher } from './credential-cipher';

/** The cipher of stored credentials, keyed from libs/config (CREDENTIAL_KEYS). */
@Module({
  providers: [
    { provide: CredentialCipher, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new CredentialCipher(config.credentials.keys) },
  ],
  exports: [CredentialCipher],
})
export class CredentialsModule {}
