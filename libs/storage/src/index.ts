export { bucketNameFor, isValidBucketName } from './bucket-name';
export { consoleUrlFor } from './console-url';
export { MinioHealthIndicator } from './minio-health.indicator';
export { MeasuringStream } from './measuring.stream';
export type { MeasuringStreamOptions } from './measuring.stream';
export { ObjectStoreRepository } from './object-store.repository';
export type { ObjectStat, ObjectStoreOptions, PutResult, StoredObject } from './object-store.repository';
export type { SnapshotBundle, SnapshotFileEntry, SnapshotManifest, SnapshotRef } from './snapshot-manifest';
export {
  BUNDLE_FILE,
  bundleKey,
  FILES_FOLDER,
  fileKey,
  MANIFEST_FILE,
  manifestKey,
  snapshotPrefix,
  SNAPSHOTS_FOLDER,
} from './snapshot-prefix';
export { SnapshotWriter } from './snapshot-writer';
export type { SnapshotFileSource, SnapshotStore, SnapshotTarget, UploadFilesOptions } from './snapshot-writer';
export { StorageModule } from './storage.module';
export { hasS3Code, StorageError, StorageErrorCode, toStorageError } from './storage.error';
