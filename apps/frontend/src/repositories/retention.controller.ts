import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Put, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ArchiverRole, type AuthUser, CurrentUser, Roles } from '@archiver/auth';
import { ApiErrorView } from '../api/api.error';
import { JsonBodyInterceptor } from '../api/json-body.interceptor';
import { ZodValidationPipe } from '../api/zod-validation.pipe';
import { RepositoryIdPipe } from './repository-id.pipe';
import { RetentionPolicyBody, retentionPolicySchema, RetentionPreviewQuery, retentionPreviewQuerySchema } from './retention.dto';
import { RetentionService } from './retention.service';
import { PruneJobView, RetentionPreviewView, RetentionView } from './retention.view';

const idParam = ApiParam({ name: 'id', format: 'uuid', description: 'Repository id; anything else answers 404' });
const notVisible = ApiNotFoundResponse({
  type: ApiErrorView,
  description: 'Unknown id, or a repository you do not track (admins see all)',
});

@ApiTags('repositories')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ApiErrorView, description: 'Token missing, malformed, expired or not for this API' })
@ApiForbiddenResponse({ type: ApiErrorView, description: 'The account lacks the role archiver-user (or archiver-admin where noted)' })
@UseInterceptors(JsonBodyInterceptor)
@Controller('api/repositories')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Put(':id/retention')
  @idParam
  @Roles(ArchiverRole.ADMIN)
  @ApiOperation({
    summary: 'Set which snapshots are kept (archiver-admin): the last N plus daily/weekly/monthly ones; all 0 keeps everything',
  })
  @ApiOkResponse({ type: RetentionView })
  @ApiBadRequestResponse({ type: ApiErrorView, description: 'INVALID_REQUEST: a count is not a whole number within its bounds' })
  @notVisible
  setPolicy(
    @Param('id', RepositoryIdPipe) id: string,
    @Body(new ZodValidationPipe(retentionPolicySchema)) body: RetentionPolicyBody,
  ): Promise<RetentionView> {
    return this.retention.setPolicy(id, body);
  }

  @Get(':id/retention/preview')
  @idParam
  @ApiOperation({
    summary:
      'Dry run of the policy (or of the one in the query): what a prune would keep (and why), remove, and what each kept snapshot would depend on',
  })
  @ApiOkResponse({ type: RetentionPreviewView })
  @ApiBadRequestResponse({
    type: ApiErrorView,
    description: 'INVALID_REQUEST: a count in the query is not a whole number within its bounds',
  })
  @notVisible
  preview(
    @Param('id', RepositoryIdPipe) id: string,
    @Query(new ZodValidationPipe(retentionPreviewQuerySchema)) query: RetentionPreviewQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<RetentionPreviewView> {
    return this.retention.preview(id, user, query);
  }

  @Post(':id/prune')
  @idParam
  @Roles(ArchiverRole.ADMIN)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Prune now under its policy (archiver-admin); the worker waits for running visits of the repository' })
  @ApiAcceptedResponse({ type: PruneJobView })
  @ApiConflictResponse({ type: ApiErrorView, description: 'NO_RETENTION_POLICY: the repository keeps every snapshot' })
  @notVisible
  prune(@Param('id', RepositoryIdPipe) id: string): Promise<PruneJobView> {
    return this.retention.prune(id);
  }
}
