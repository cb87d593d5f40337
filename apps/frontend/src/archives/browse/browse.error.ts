import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../api/api.error';

/** Codes of the browse endpoints. Never rename a value: clients match on them. */
export enum BrowseErrorCode {
  /** The archive has not completed (or its manifest is gone): there is nothing to browse. */
  NoSnapshot = 'NO_SNAPSHOT',
  PathNotFound = 'PATH_NOT_FOUND',
  /** A tree was asked for a path that is a file. */
  NotADirectory = 'NOT_A_DIRECTORY',
  /** File bytes were asked for a path that is a directory. */
  NotAFile = 'NOT_A_FILE',
}

export const browseErrors = {
  noSnapshot: (id: string, status: string) =>
    new ApiError(
      HttpStatus.NOT_FOUND,
      BrowseErrorCode.NoSnapshot,
      `Archive ${id} is ${status}; its files can be browsed once it has completed`,
    ),
  manifestMissing: (id: string) =>
    new ApiError(
      HttpStatus.NOT_FOUND,
      BrowseErrorCode.NoSnapshot,
      `Archive ${id} has no manifest in object storage, so its snapshot cannot be browsed; archive the repository again`,
    ),
  pathNotFound: (path: string) =>
    new ApiError(
      HttpStatus.NOT_FOUND,
      BrowseErrorCode.PathNotFound,
      `${JSON.stringify(path)} is not in this snapshot's tree; list its parent directory (GET /api/archives/:id/tree?path=...) to see what is`,
    ),
  notADirectory: (path: string) =>
    new ApiError(
      HttpStatus.NOT_FOUND,
      BrowseErrorCode.NotADirectory,
      `${JSON.stringify(path)} is a file, not a directory; get its bytes from GET /api/archives/:id/files/<path>`,
    ),
  notAFile: (path: string) =>
    new ApiError(
      HttpStatus.NOT_FOUND,
      BrowseErrorCode.NotAFile,
      `${JSON.stringify(path || '/')} is a directory; list it with GET /api/archives/:id/tree?path=...`,
    ),
};
