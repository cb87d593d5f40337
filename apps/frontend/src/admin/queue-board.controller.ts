import { Controller, Delete, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNoContentResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ArchiverRole, Roles } from '@archiver/auth';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ApiErrorView } from '../api/api.error';
import { Audited } from '../audit/audited.decorator';
import { boardCookie, secondsLeft } from './queue-board.cookie';

/** Hands the admin's token to the queue dashboard as a cookie (see queue-board.cookie.ts for why). */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('api/admin/queue-board/session')
export class QueueBoardController {
  private readonly secure: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.secure = config.http.publicUrl.startsWith('https:');
  }

  @Post()
  @Audited({ action: 'admin.queue_board_open', targetType: 'queues', targetId: () => undefined })
  @HttpCode(204)
  @Roles(ArchiverRole.ADMIN)
  @ApiOperation({ summary: 'archiver-admin: open the queue dashboard (/admin/queues) in this browser for the life of the token' })
  @ApiNoContentResponse({ description: 'Cookie set; open /admin/queues' })
  @ApiUnauthorizedResponse({ type: ApiErrorView })
  @ApiForbiddenResponse({ type: ApiErrorView })
  open(@Req() request: Request, @Res({ passthrough: true }) response: Response): void {
    // The guard verified this exact bearer token and the admin role.
    const token = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')![1]!;
    response.setHeader('Set-Cookie', boardCookie(token, secondsLeft(token), this.secure));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Close the queue dashboard in this browser (drops its cookie)' })
  @ApiNoContentResponse({ description: 'Cookie removed' })
  close(@Res({ passthrough: true }) response: Response): void {
    response.setHeader('Set-Cookie', boardCookie('', 0, this.secure));
  }
}
