import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@archiver/health';
import { WebShellService, type WebClientConfig } from './web-shell.service';

/**
 * Paths the single-page app routes itself (apps/frontend/src/web/assets/js/router.js); each
 * answers the same HTML shell, so a reload or a shared link lands on the right page.
 */
export const WEB_PAGE_PATHS = [
  '/',
  'repositories/:id',
  'archives',
  'archives/:id',
  'archives/:id/files',
  'archives/:id/files/*path',
  'stats',
  'imports',
  'imports/:id',
  'webhooks',
  'admin',
  'signed-out',
];

@Public()
@ApiExcludeController()
@Controller()
export class WebController {
  constructor(private readonly shell: WebShellService) {}

  @Get(WEB_PAGE_PATHS)
  page(@Res({ passthrough: true }) res: Response): string {
    return this.shell.page(res);
  }

  @Get('config.json')
  config(@Res({ passthrough: true }) res: Response): WebClientConfig {
    return this.shell.config(res);
  }
}
