import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { type AuthUser, CurrentUser } from '@archiver/auth';
import type { ImportAcceptedView, ImportDetailView, ImportPageView } from '@archiver/imports';
import { ApiErrorView } from '../api/api.error';
import { JsonBodyInterceptor } from '../api/json-body.interceptor';
import { ZodValidationPipe } from '../api/zod-validation.pipe';
import { Audited } from '../audit/audited.decorator';
import { SubmissionThrottlerGuard } from '../limits/submission-throttler.guard';
import { type CreateImportBody, CreateImportDoc, createImportSchema, type ListImportsQuery, listImportsQuerySchema } from './import.dto';
import { ImportIdPipe } from './import-id.pipe';
import { ImportsService } from './imports.service';

/** Whole-organization imports; the contract's types are in libs/imports (import.contract.ts). */
@ApiTags('imports')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ApiErrorView, description: 'Token missing, malformed, expired or not for this API' })
@UseInterceptors(JsonBodyInterceptor)
@Controller('api/imports')
export class ImportsController {
  constructor(private readonly imports: ImportsService) {}

  // The token is never kept in the log: the allowlist below leaves it out.
  @Audited({
    action: 'import.create',
    targetType: 'import',
    body: ['forge', 'baseUrl', 'owner', 'include', 'exclude', 'includeForks', 'includeArchived', 'intervalHours'],
  })
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(SubmissionThrottlerGuard)
  @ApiOperation({
    summary: 'Import every repository of a Gitea, GitLab or GitHub user or organization: a worker lists it and tracks each one',
  })
  @ApiBody({ type: CreateImportDoc })
  @ApiAcceptedResponse({ description: '{id, state: "listing"}: follow it with GET /api/imports/:id' })
  @ApiBadRequestResponse({
    type: ApiErrorView,
    description: 'INVALID_REQUEST, INVALID_URL, BLOCKED_BY_POLICY or UNKNOWN_HOST; nothing recorded',
  })
  @ApiTooManyRequestsResponse({ type: ApiErrorView, description: 'RATE_LIMITED' })
  create(
    @Body(new ZodValidationPipe(createImportSchema)) body: CreateImportBody,
    @CurrentUser() user: AuthUser,
  ): Promise<ImportAcceptedView> {
    return this.imports.create(body, user);
  }

  @Get()
  @ApiOperation({ summary: 'Your imports, newest first' })
  @ApiOkResponse({ description: 'ImportPageView (libs/imports)' })
  list(
    @Query(new ZodValidationPipe(listImportsQuerySchema)) query: ListImportsQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<ImportPageView> {
    return this.imports.list(query, user);
  }

  @Get(':id')
  @ApiParam({ name: 'id', format: 'uuid', description: 'Import id; anything else answers 404' })
  @ApiOperation({ summary: 'An import: its state, counts, and what happened to each listed repository' })
  @ApiOkResponse({ description: 'ImportDetailView (libs/imports)' })
  @ApiNotFoundResponse({ type: ApiErrorView, description: 'Unknown id, or someone else’s import (admins see all)' })
  get(@Param('id', ImportIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<ImportDetailView> {
    return this.imports.get(id, user);
  }
}
