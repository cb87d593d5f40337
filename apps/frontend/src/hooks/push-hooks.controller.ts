import { Controller, Headers, HttpCode, HttpStatus, Param, PipeTransform, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '@archiver/health';
import { ApiErrorView } from '../api/api.error';
import { JsonBodyInterceptor } from '../api/json-body.interceptor';
import { rawBodyOf } from '../api/raw-body';
import { UUID } from '../api/uuid-param.pipe';
import { PushHookThrottlerGuard } from './push-hook-throttler.guard';
import { hookUnauthorized, PushHooksService } from './push-hooks.service';

class PushHookResultView {
  @ApiProperty({ description: 'Whether a visit was queued' })
  queued!: boolean;
  @ApiPropertyOptional({ description: 'Why not (cooldown, paused, not a push event)' })
  reason?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The visit queued, or the recent one that made this push wait' })
  archiveId?: string;
  @ApiProperty({ enum: ['github', 'gitea', 'gitlab'] })
  verifiedBy!: string;
}

/** Not a UUID names no repository: the same 401 as any other refusal. */
class HookRepositoryIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw hookUnauthorized();
    return value.toLowerCase();
  }
}

@ApiTags('hooks')
@UseInterceptors(JsonBodyInterceptor)
@Controller('api/hooks')
export class PushHooksController {
  constructor(private readonly hooks: PushHooksService) {}

  @Public()
  @Post('push/:repositoryId')
  @UseGuards(PushHookThrottlerGuard)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiParam({ name: 'repositoryId', format: 'uuid' })
  @ApiOperation({
    summary:
      'A forge’s push event (GitHub, Gitea, GitLab; JSON): verified with the repository’s hook secret, then a visit is queued unless one was created within the cooldown',
  })
  @ApiAcceptedResponse({ type: PushHookResultView })
  @ApiUnauthorizedResponse({
    type: ApiErrorView,
    description: 'HOOK_UNAUTHORIZED: unsigned, wrongly signed, or no such repository (one answer for all)',
  })
  @ApiTooManyRequestsResponse({ type: ApiErrorView, description: 'RATE_LIMITED: too many hooks for this repository this minute' })
  receive(
    @Param('repositoryId', HookRepositoryIdPipe) repositoryId: string,
    @Headers() headers: Record<string, string | string[] | undefined>,
    @Req() request: Request,
  ): Promise<PushHookResultView> {
    return this.hooks.receive(repositoryId, headers, rawBodyOf(request) ?? Buffer.alloc(0));
  }
}
