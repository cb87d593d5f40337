import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { type AuthUser, CurrentUser } from '@archiver/auth';
import { ApiErrorView } from '../api/api.error';
import { StatsService } from './stats.service';
import { StatsView } from './stats.view';

@ApiTags('stats')
@ApiBearerAuth()
@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @ApiOperation({ summary: 'Counts by status, totals, and mean/p95 duration of each stage: yours, or everyone’s for archiver-admin' })
  @ApiOkResponse({ type: StatsView })
  @ApiUnauthorizedResponse({ type: ApiErrorView })
  @ApiForbiddenResponse({ type: ApiErrorView })
  get(@CurrentUser() user: AuthUser): Promise<StatsView> {
    return this.stats.forUser(user);
  }
}
