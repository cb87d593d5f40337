import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseInterceptors,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type AuthUser, CurrentUser } from '@archiver/auth';
import { ApiErrorView } from '../api/api.error';
import { SubmissionThrottlerGuard } from '../limits/submission-throttler.guard';
import { JsonBodyInterceptor } from '../api/json-body.interceptor';
import { ZodValidationPipe } from '../api/zod-validation.pipe';
import { SubmittedArchiveView } from '../archives/archive.view';
import { Audited } from '../audit/audited.decorator';
import {
  DeleteRepositoryQuery,
  deleteRepositoryQuerySchema,
  GetRepositoryQuery,
  getRepositoryQuerySchema,
  ListRepositoriesQuery,
  listRepositoriesQuerySchema,
  RefChangesQuery,
  refChangesQuerySchema,
  TrackRepositoryBody,
  trackRepositorySchema,
  UpdateRepositoryBody,
  updateRepositorySchema,
} from './repository.dto';
import { RefChangesService } from './ref-changes.service';
import { RefChangesView } from './ref-changes.view';
import { RepositoryIdPipe } from './repository-id.pipe';
import { PurgeAcceptedView, RepositoryDetailView, RepositoryPageView, RepositoryView, TrackedRepositoryView } from './repository.view';
import { RepositoriesService, VisitCooldownError } from './repositories.service';

const idParam = ApiParam({ name: 'id', format: 'uuid', description: 'Repository id; anything else answers 404' });
const notVisible = ApiNotFoundResponse({
  type: ApiErrorView,
  description: 'Unknown id, or a repository you do not track (admins see all)',
});

/** Pausing and resuming are what people look for in the log; other changes are updates. */
function repositoryUpdateAction(request: Request): string {
  const body = request.body as { state?: unknown; credential?: unknown } | undefined;
  // A credential change is its own action (its value is never kept: see the decorator's allowlist).
  if (body?.credential !== undefined) return body.credential === null ? 'repository.credential_remove' : 'repository.credential_set';
  return body?.state === 'paused' ? 'repository.pause' : body?.state === 'active' ? 'repository.resume' : 'repository.update';
}

function repositoryRemovalAction(request: Request): string {
  const { all, purge } = request.query;
  return purge === 'true' ? 'repository.purge' : all === 'true' ? 'repository.untrack_all' : 'repository.untrack';
}

@ApiTags('repositories')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ApiErrorView, description: 'Token missing, malformed, expired or not for this API' })
@ApiForbiddenResponse({ type: ApiErrorView, description: 'The account lacks the role archiver-user (or archiver-admin where noted)' })
@UseInterceptors(JsonBodyInterceptor)
@Controller('api/repositories')
export class RepositoriesController {
  constructor(
    private readonly repositories: RepositoriesService,
    private readonly refChanges: RefChangesService,
  ) {}

  @Audited({
    action: (_request, result) => ((result as TrackedRepositoryView).existing ? undefined : 'repository.track'),
    targetType: 'repository',
    body: ['url', 'intervalHours'],
  })
  @Post()
  @UseGuards(SubmissionThrottlerGuard)
  @ApiTooManyRequestsResponse({
    type: ApiErrorView,
    description: 'RATE_LIMITED: too many submissions this minute; Retry-After says when to try again',
  })
  @ApiOperation({ summary: 'Track a repository: it is visited now and then on a schedule' })
  @ApiCreatedResponse({
    type: TrackedRepositoryView,
    description: 'You track it from now on; its first visit is queued (`existing: false`)',
  })
  @ApiOkResponse({ type: TrackedRepositoryView, description: 'You already track it; returned unchanged (`existing: true`)' })
  @ApiBadRequestResponse({
    type: ApiErrorView,
    description: 'INVALID_REQUEST, INVALID_URL, BLOCKED_BY_POLICY or UNKNOWN_HOST; nothing recorded',
  })
  @ApiUnsupportedMediaTypeResponse({ type: ApiErrorView, description: 'The body must be application/json' })
  async track(
    @Body(new ZodValidationPipe(trackRepositorySchema)) body: TrackRepositoryBody,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TrackedRepositoryView> {
    const tracked = await this.repositories.track(body.url, body.intervalHours, user, body.credential);
    res.status(tracked.existing ? HttpStatus.OK : HttpStatus.CREATED);
    return tracked;
  }

  @Get()
  @ApiOperation({ summary: 'The repositories you track, newest first (all of them for archiver-admin)' })
  @ApiOkResponse({ type: RepositoryPageView })
  @ApiBadRequestResponse({ type: ApiErrorView })
  list(
    @Query(new ZodValidationPipe(listRepositoriesQuerySchema)) query: ListRepositoriesQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<RepositoryPageView> {
    return this.repositories.list(query, user);
  }

  @Get(':id')
  @idParam
  @ApiOperation({ summary: 'One repository and its visits, newest first' })
  @ApiOkResponse({ type: RepositoryDetailView })
  @ApiBadRequestResponse({ type: ApiErrorView })
  @notVisible
  get(
    @Param('id', RepositoryIdPipe) id: string,
    @Query(new ZodValidationPipe(getRepositoryQuerySchema)) query: GetRepositoryQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<RepositoryDetailView> {
    return this.repositories.get(id, query.visitsPage, query.visitsPageSize, user);
  }

  @Get(':id/changes')
  @idParam
  @ApiOperation({
    summary: 'How the refs moved between two snapshots: created, deleted, fast-forwarded, force-pushed (non-fast-forward), tags moved',
  })
  @ApiOkResponse({ type: RefChangesView })
  @ApiBadRequestResponse({ type: ApiErrorView, description: 'INVALID_RANGE: from/to is not a completed visit of it, or from is not older' })
  @ApiConflictResponse({ type: ApiErrorView, description: 'CHANGES_UNAVAILABLE: a visit in the range predates change recording' })
  @notVisible
  async changes(
    @Param('id', RepositoryIdPipe) id: string,
    @Query(new ZodValidationPipe(refChangesQuerySchema)) query: RefChangesQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<RefChangesView> {
    await this.repositories.findVisible(id, user, { content: true });
    return this.refChanges.between(id, query.from, query.to);
  }

  @Audited({ action: repositoryUpdateAction, targetType: 'repository', body: ['state', 'intervalHours'] })
  @Patch(':id')
  @idParam
  @ApiOperation({
    summary: 'Pause, resume or re-enable it, pin (a number) or unpin (null) its interval, set, rotate or remove (null) its credential',
  })
  @ApiOkResponse({ type: RepositoryView })
  @ApiBadRequestResponse({ type: ApiErrorView })
  @ApiUnsupportedMediaTypeResponse({ type: ApiErrorView })
  @notVisible
  update(
    @Param('id', RepositoryIdPipe) id: string,
    @Body(new ZodValidationPipe(updateRepositorySchema)) body: UpdateRepositoryBody,
    @CurrentUser() user: AuthUser,
  ): Promise<RepositoryView> {
    return this.repositories.update(id, body, user);
  }

  @Audited({ action: 'repository.visit', targetType: 'repository' })
  @Post(':id/visits')
  @UseGuards(SubmissionThrottlerGuard)
  @ApiTooManyRequestsResponse({
    type: ApiErrorView,
    description: 'RATE_LIMITED: too many submissions this minute; Retry-After says when to try again',
  })
  @idParam
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Visit it now (re-enables a disabled repository)' })
  @ApiAcceptedResponse({ type: SubmittedArchiveView, description: 'The visit (an archive), queued; your active one if you have one' })
  @ApiTooManyRequestsResponse({
    type: ApiErrorView,
    description: 'VISIT_COOLDOWN: visited too recently; Retry-After says when to ask again',
  })
  @notVisible
  async visit(
    @Param('id', RepositoryIdPipe) id: string,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmittedArchiveView> {
    try {
      return await this.repositories.visit(id, user);
    } catch (error) {
      if (error instanceof VisitCooldownError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
      throw error;
    }
  }

  @Audited({ action: repositoryRemovalAction, targetType: 'repository', query: ['all', 'purge'] })
  @Delete(':id')
  @idParam
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary:
      'Stop tracking it; archiver-admin: all=true for everyone, purge=true also removes its snapshots and itself (202: a job does it)',
  })
  @ApiNoContentResponse({ description: 'No longer tracked' })
  @ApiAcceptedResponse({
    type: PurgeAcceptedView,
    description: 'purge=true: nobody tracks it now; a worker removes it and every snapshot, then it answers 404',
  })
  @ApiBadRequestResponse({ type: ApiErrorView })
  @ApiConflictResponse({
    type: ApiErrorView,
    description: 'NOT_TRACKED: an admin who does not track it; ARCHIVE_ACTIVE: purge during a visit',
  })
  @notVisible
  async untrack(
    @Param('id', RepositoryIdPipe) id: string,
    @Query(new ZodValidationPipe(deleteRepositoryQuerySchema)) query: DeleteRepositoryQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PurgeAcceptedView | void> {
    await this.repositories.untrack(id, query, user);
    if (!query.purge) return;
    res.status(HttpStatus.ACCEPTED);
    return { repositoryId: id, status: 'purging' };
  }
}
