import { pipeline } from 'node:stream';
import { Controller, Get, Logger, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type AuthUser, CurrentUser } from '@archiver/auth';
import { ApiErrorView } from '../../api/api.error';
import { ArchiveIdPipe } from '../archive-id.pipe';
import { browsePathOf, percentDecodedBytes } from './browse-path';
import { FILE_SECURITY_HEADERS } from './file-content-type';
import { SnapshotBrowseService, type TreeListing } from './snapshot-browse.service';

const idParam = ApiParam({ name: 'id', format: 'uuid', description: 'Archive id; anything else answers 404' });
const pathBase64Query = ApiQuery({
  name: 'pathBase64',
  required: false,
  description: 'The path as base64 of its exact bytes, for names that are not UTF-8 (a listing gives them as nameBase64)',
});
/** The part of a files address after `/files/`, still percent-encoded. */
const FILES_ADDRESS = /^\/api\/archives\/[^/]+\/files(?:\/(.*))?$/s;

@ApiTags('archives')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ApiErrorView, description: 'Token missing, malformed, expired or not for this API' })
@ApiForbiddenResponse({ type: ApiErrorView, description: 'The account lacks the role archiver-user' })
@Controller('api/archives')
export class ArchiveFilesController {
  private readonly logger = new Logger(ArchiveFilesController.name);

  constructor(private readonly browse: SnapshotBrowseService) {}

  @Get(':id/tree')
  @idParam
  @ApiQuery({ name: 'path', required: false, description: 'A directory of the snapshot’s HEAD tree; empty or absent for the root' })
  @pathBase64Query
  @ApiOperation({ summary: "One directory of a snapshot's HEAD tree: directories first, then files, by name" })
  @ApiOkResponse({ description: '{archiveId, commit, path, entries: [{name, nameBase64?, type, size?, mode}]}' })
  @ApiBadRequestResponse({ type: ApiErrorView, description: 'INVALID_REQUEST: a malformed path' })
  @ApiNotFoundResponse({
    type: ApiErrorView,
    description: 'NOT_FOUND (unknown id or another user’s archive), NO_SNAPSHOT (not completed), PATH_NOT_FOUND, NOT_A_DIRECTORY',
  })
  tree(
    @Param('id', ArchiveIdPipe) id: string,
    @Query('path') path: unknown,
    @Query('pathBase64') pathBase64: unknown,
    @CurrentUser() user: AuthUser,
  ): Promise<TreeListing> {
    return this.browse.tree(id, user, browsePathOf({ path, pathBase64 }));
  }

  /**
   * Streamed through this app rather than a redirect to a presigned MinIO link: the web
   * interface fetches with a bearer token, and a redirect would lead it to another origin
   * (CORS on MinIO, a wider connect-src) with a link that works for anyone who sees it. Here
   * the answer also carries our own type, disposition and sandbox headers, whatever the
   * object's metadata says. Names that are not UTF-8 go by `pathBase64`: the router decodes
   * an address's `%XX` as UTF-8 (400) before this handler runs.
   */
  @Get([':id/files', ':id/files/*path'])
  @idParam
  @pathBase64Query
  @ApiOperation({ summary: "The bytes of one file of a snapshot's HEAD tree (a symlink: its target text)" })
  @ApiOkResponse({ description: 'The bytes; anything but plain text and raster images as an attachment, always sandboxed' })
  @ApiBadRequestResponse({ type: ApiErrorView, description: 'INVALID_REQUEST: a malformed path' })
  @ApiNotFoundResponse({
    type: ApiErrorView,
    description: 'NOT_FOUND (unknown id or another user’s archive), NO_SNAPSHOT (not completed), PATH_NOT_FOUND, NOT_A_FILE',
  })
  async file(
    @Param('id', ArchiveIdPipe) id: string,
    @Query('pathBase64') pathBase64: unknown,
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const inAddress = FILES_ADDRESS.exec(req.path)?.[1];
    const pathBytes = browsePathOf({ pathBase64 }, inAddress ? percentDecodedBytes(inAddress) : undefined);
    const file = await this.browse.file(id, user, pathBytes);
    res.status(200);
    for (const [name, value] of Object.entries({ ...FILE_SECURITY_HEADERS, ...file.headers })) res.setHeader(name, value);
    res.setHeader('Content-Length', String(file.size));
    // A snapshot's files never change; a hash of the bytes is an exact validator.
    res.setHeader('ETag', `"${file.etag}"`);
    res.setHeader('Cache-Control', 'private, max-age=300');
    // pipeline (not pipe): a client that goes away also ends the read from object storage,
    // whose pooled sockets are few.
    pipeline(file.stream, res, (error) => {
      if (error && !res.writableFinished) this.logger.warn({ msg: 'file stream ended early', archiveId: id, error: error.message });
    });
  }
}
