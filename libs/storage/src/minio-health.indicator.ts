import { Injectable } from '@nestjs/common';
import type { HealthIndicator } from '@archiver/health';
import { ObjectStoreRepository } from './object-store.repository';

@Injectable()
export class MinioHealthIndicator implements HealthIndicator {
  constructor(private readonly store: ObjectStoreRepository) {}
  check(): Promise<boolean> {
    return this.store.ping();
  }
}
