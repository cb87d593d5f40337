/**
 * Why an LFS object of a snapshot is not stored. Never rename a value: codes are written into
 * manifests and shown by the API. A missing object never fails the visit; it is reported.
 */
export enum LfsMissingCode {
  /** The LFS server says it does not have the object (deleted, or never uploaded). */
  NOT_ON_SERVER = 'LFS_NOT_ON_SERVER',
  /** The batch API or the download refused the repository's credential (or asked for one). */
  AUTH_REFUSED = 'LFS_AUTH_REFUSED',
  /** The batch endpoint or a download href points where the URL policy does not allow. */
  BLOCKED_BY_POLICY = 'LFS_BLOCKED_BY_POLICY',
  /** The bytes served do not hash to the pointer's oid. */
  DIGEST_MISMATCH = 'LFS_DIGEST_MISMATCH',
  /** The bytes served are not as many as the pointer's size. */
  SIZE_MISMATCH = 'LFS_SIZE_MISMATCH',
  /** No LFS server can be reached: an SSH server that refused git-lfs-authenticate, or an lfs.url that is not http(s). */
  UNSUPPORTED_TRANSPORT = 'LFS_UNSUPPORTED_TRANSPORT',
  /** The batch answer is not what the LFS API specifies. */
  INVALID_ANSWER = 'LFS_INVALID_ANSWER',
  /** The server answered with an error (5xx, 429, an object error other than 404/410). */
  SERVER_ERROR = 'LFS_SERVER_ERROR',
  /** The server could not be reached, or the connection broke. */
  NETWORK = 'LFS_NETWORK',
  /** The object did not arrive within its time budget. */
  TIMED_OUT = 'LFS_TIMED_OUT',
}

export interface LfsMissingReason {
  readonly code: LfsMissingCode;
  /** What happened, as a person would act on it; never carries a credential. */
  readonly message: string;
}
