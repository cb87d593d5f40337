export { bucketNameFor, isValidBucketName } from './bucket-name';
export { consoleUrlFor } from './console-url';
export { contentTypeFor, mediaTypeOf, OCTET_STREAM } from './content-type';
export { LATEST_FOLDER, LATEST_RECORD_KEY, LatestView } from './latest-view';
export type { LatestRecord, LatestStore, LatestUpdate } from './latest-view';
export { MinioHealthIndicator } from './minio-health.indicator';
export { MeasuringStream } from './measuring.stream';
export type { MeasuringStreamOptions } from './measuring.stream';
export { ObjectStoreRepository } from './object-store.repository';
export type { ObjectStat, ObjectStoreOptions, PutResult, StoredObject } from './object-store.repository';
export { exactText, MappedReason, MAX_KEY_BYTES, MAX_SEGMENT_BYTES, strictUtf8Decode, unstorableReason } from './object-key-rules';
export { knownObjectsOf, objectKey, OBJECTS_FOLDER, objectsReferencedBy } from './repository-objects';
export type { KnownObject, KnownObjects } from './repository-objects';
export { SnapshotKeyAllocator } from './snapshot-key.allocator';
export type { AllocatedKey } from './snapshot-key.allocator';
export {
  contentSnapshotOf,
  manifestHeadFields,
  manifestRefs,
  mappedPathCount,
  readManifestRefs,
  readSnapshotManifest,
  refsOfManifest,
} from './snapshot-manifest';
export type {
  ManifestHeadFields,
  ManifestHeadSource,
  SnapshotBundle,
  SnapshotContentRef,
  SnapshotFileEntry,
  SnapshotManifest,
  SnapshotRef,
} from './snapshot-manifest';
export {
  BUNDLE_FILE,
  bundleKey,
  consolidatedBundleKey,
  FILES_FOLDER,
  fileKey,
  MANIFEST_FILE,
  manifestKey,
  MAPPED_FOLDER,
  mappedFileKey,
  snapshotPrefix,
  SNAPSHOTS_FOLDER,
} from './snapshot-prefix';
export { SnapshotWriter } from './snapshot-writer';
export type {
  SnapshotFileSource,
  SnapshotStore,
  SnapshotTarget,
  SnapshotTreeFile,
  SnapshotWriterOptions,
  UploadCounts,
  UploadFilesOptions,
} from './snapshot-writer';
export { StorageModule } from './storage.module';
export { hasS3Code, StorageError, StorageErrorCode, toStorageError } from './storage.error';
export * from './bundle-chain';
export * from './restore-script';
export * from './retention-plan';
export * from './retention-selection';
export * from './retention-inputs';
export {
  bucketListings,
  contentManifestOf,
  listsFilesByTree,
  lookupSnapshotPath,
  onceEach,
  referencedObjectKeys,
  walkSnapshotFiles,
} from './snapshot-files';
export type { SnapshotNode, TreeListingSource, WalkOptions } from './snapshot-files';
export {
  decodeTreeListing,
  encodeTreeListing,
  gitTreeIdOf,
  readTreeListing,
  TREE_LISTING_CONTENT_ENCODING,
  TREE_LISTING_CONTENT_TYPE,
  treeListingKey,
  TREES_FOLDER,
} from './tree-listing';
export type { TreeListingEntry, TreeListingEntryType } from './tree-listing';
export { storedBefore, treeFiles, writeTreeListings } from './tree-listings.store';
export type { CommitTrees, ListingCounts, StoredBefore } from './tree-listings.store';
export * from './lfs-objects';
