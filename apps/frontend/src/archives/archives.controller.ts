import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Res, UseInterceptors, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiTooManyRequestsResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ArchiverRole, type AuthUser, CurrentUser, Roles } from '@archiver/auth';
import { Audited } from '../audit/audited.decorator';
import { ApiErrorView } from '../api/api.error';
import { SubmissionThrottlerGuard } from '../limits/submission-throttler.guard';
import { JsonBodyInterceptor } from '../api/json-body.interceptor';
import { ZodValidationPipe } from '../api/zod-validation.pipe';
import {
  ListArchivesQuery,
  listArchivesQuerySchema,
  SubmitArchiveBody,
  submitArchiveSchema,
  SubmitBatchBody,
  submitBatchSchema,
} from './archive.dto';
import { ArchiveIdPipe } from './archive-id.pipe';
import {
  ArchivePageView,
  ArchiveView,
  BatchResultView,
  BundleStatusView,
  DownloadLinkView,
  SubmittedArchiveView,
  VerifyRequestView,
} from './archive.view';
import { ArchiveCredentialsService } from './archive-credentials.service';
import { ArchiveRequestsService } from './archive-requests.service';
import { BundlePreparingError, BundleService } from './bundle.service';
import { RestoreService } from './restore.service';
import { RestorePlanView } from './restore.view';
import { VerifyService } from './verify.service';

const idParam = ApiParam({ name: 'id', format: 'uuid', description: 'Archive id; anything else answers 404' });

@ApiTags('archives')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ApiErrorView, description: 'Token missing, malformed, expired or not for this API' })
@ApiForbiddenResponse({ type: ApiErrorView, description: 'The account lacks the role archiver-user (or archiver-admin where noted)' })
@UseInterceptors(JsonBodyInterceptor)
@Controller('api/archives')
export class ArchivesController {
  constructor(
    private readonly archives: ArchiveRequestsService,
    private readonly archiveCredentials: ArchiveCredentialsService,
    private readonly restores: RestoreService,
    private readonly bundles: BundleService,
    private readonly verifications: VerifyService,
  ) {}

  @Post()
  @UseGuards(SubmissionThrottlerGuard)
  @ApiTooManyRequestsResponse({
    type: ApiErrorView,
    description: 'RATE_LIMITED: too many submissions this minute; Retry-After says when to try again',
  })
  @ApiOperation({ summary: 'Submit a repository for archiving' })
  @ApiAcceptedResponse({ type: SubmittedArchiveView, description: 'Recorded as pending and queued (`existing: false`)' })
  @ApiOkResponse({ type: SubmittedArchiveView, description: 'You already have an active archive of this repository; it is returned' })
  @ApiBadRequestResponse({
    type: ApiErrorView,
    description: 'INVALID_REQUEST, INVALID_URL, BLOCKED_BY_POLICY, UNKNOWN_HOST or CREDENTIAL_INVALID; nothing recorded',
  })
  @ApiConflictResponse({
    type: ApiErrorView,
    description: 'ARCHIVE_ACTIVE: with a credential, while you have an unfinished archive of the same repository',
  })
  @ApiPayloadTooLargeResponse({ type: ApiErrorView })
  @ApiUnsupportedMediaTypeResponse({ type: ApiErrorView, description: 'The body must be application/json' })
  async submit(
    @Body(new ZodValidationPipe(submitArchiveSchema)) body: SubmitArchiveBody,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmittedArchiveView> {
    const submitted = body.credential
      ? await this.archiveCredentials.submit(body.url, body.credential, user)
      : await this.archives.submit(body.url, user);
    res.status(submitted.existing ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return submitted;
  }

  @Post('batch')
  @UseGuards(SubmissionThrottlerGuard)
  @ApiTooManyRequestsResponse({
    type: ApiErrorView,
    description: 'RATE_LIMITED: too many submissions this minute; Retry-After says when to try again',
  })
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Submit up to 100 repositories; each URL succeeds or fails on its own' })
  @ApiAcceptedResponse({ type: BatchResultView })
  @ApiBadRequestResponse({ type: ApiErrorView, description: 'The body is not {"urls": [1..100 strings]}; nothing recorded' })
  @ApiPayloadTooLargeResponse({ type: ApiErrorView })
  @ApiUnsupportedMediaTypeResponse({ type: ApiErrorView })
  submitBatch(
    @Body(new ZodValidationPipe(submitBatchSchema)) body: SubmitBatchBody,
    @CurrentUser() user: AuthUser,
  ): Promise<BatchResultView> {
    return this.archives.submitBatch(body.urls, user);
  }

  @Get()
  @ApiOperation({ summary: 'List archives, newest first: your own (scope=mine, the default), or everyone’s (scope=all, archiver-admin)' })
  @ApiOkResponse({ type: ArchivePageView })
  @ApiBadRequestResponse({ type: ApiErrorView })
  list(
    @Query(new ZodValidationPipe(listArchivesQuerySchema)) query: ListArchivesQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<ArchivePageView> {
    return this.archives.list(query, user);
  }

  @Get(':id')
  @idParam
  @ApiOperation({ summary: 'One archive with its stage timestamps and durations' })
  @ApiOkResponse({ type: ArchiveView })
  @ApiNotFoundResponse({ type: ApiErrorView, description: 'Unknown id, or another user’s archive' })
  get(@Param('id', ArchiveIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<ArchiveView> {
    return this.archives.get(id, user);
  }

  @Get(':id/download')
  @idParam
  @ApiOperation({
    summary:
      'A 5-minute link to one git bundle of the whole snapshot and the command that restores it; a snapshot stored as increments is consolidated first (waits up to 20 s)',
  })
  @ApiOkResponse({ type: DownloadLinkView })
  @ApiNotFoundResponse({ type: ApiErrorView, description: 'NOT_FOUND, or NO_BUNDLE when it has not completed or has no refs' })
  @ApiConflictResponse({
    type: ApiErrorView,
    description: 'BUNDLE_PREPARING (with Retry-After): still being built; BUNDLE_FAILED: building it failed',
  })
  async download(
    @Param('id', ArchiveIdPipe) id: string,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DownloadLinkView> {
    try {
      return await this.bundles.download(id, user);
    } catch (error) {
      if (error instanceof BundlePreparingError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
      throw error;
    }
  }

  @Post(':id/bundle')
  @idParam
  @ApiOperation({ summary: 'Build one bundle of the whole snapshot (a worker job), or get it when it is there' })
  @ApiOkResponse({ type: BundleStatusView, description: 'ready, with its link' })
  @ApiAcceptedResponse({ type: BundleStatusView, description: 'pending: poll GET …/bundle' })
  @ApiNotFoundResponse({ type: ApiErrorView })
  async requestBundle(
    @Param('id', ArchiveIdPipe) id: string,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BundleStatusView> {
    const status = await this.bundles.status(id, user, true);
    res.status(status.status === 'ready' ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return status;
  }

  @Get(':id/bundle')
  @idParam
  @ApiOperation({ summary: 'How the snapshot’s single bundle stands: ready (with its link), pending, failed or absent' })
  @ApiOkResponse({ type: BundleStatusView })
  @ApiNotFoundResponse({ type: ApiErrorView })
  bundleStatus(@Param('id', ArchiveIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<BundleStatusView> {
    return this.bundles.status(id, user, false);
  }

  @Get(':id/restore')
  @idParam
  @ApiOperation({
    summary: 'Everything to rebuild the snapshot with plain git: its bundles in order (1-hour links), every ref, and a curl + git script',
  })
  @ApiOkResponse({ type: RestorePlanView })
  @ApiNotFoundResponse({ type: ApiErrorView, description: 'NOT_FOUND, or NO_BUNDLE when it has not completed' })
  restore(@Param('id', ArchiveIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<RestorePlanView> {
    return this.restores.plan(id, user);
  }

  @Audited({ action: 'archive.verify', targetType: 'archive' })
  @Post(':id/verify')
  @idParam
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary:
      'Run a restore drill of the snapshot (a worker job): restore its bundles, git fsck, compare refs and every stored file; the result shows in `verification`',
  })
  @ApiAcceptedResponse({ type: VerifyRequestView })
  @ApiNotFoundResponse({ type: ApiErrorView })
  @ApiConflictResponse({ type: ApiErrorView, description: 'NOT_VERIFIABLE: the archive has not completed' })
  verify(@Param('id', ArchiveIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<VerifyRequestView> {
    return this.verifications.request(id, user);
  }

  @Audited({ action: 'archive.delete', targetType: 'archive' })
  @Delete(':id')
  @idParam
  @Roles(ArchiverRole.ADMIN)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: "Delete a finished archive and its snapshot's objects (archiver-admin)" })
  @ApiNoContentResponse({ description: 'Deleted; the bucket too when this was its last snapshot' })
  @ApiNotFoundResponse({ type: ApiErrorView })
  @ApiConflictResponse({ type: ApiErrorView, description: 'ARCHIVE_ACTIVE: still pending, queued or running' })
  @ApiServiceUnavailableResponse({ type: ApiErrorView, description: 'Object storage unavailable; nothing was deleted from the database' })
  delete(@Param('id', ArchiveIdPipe) id: string): Promise<void> {
    return this.archives.delete(id);
  }
}
