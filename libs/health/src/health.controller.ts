import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from './public-route.decorator';
import { HealthService } from './health.service';
import { HealthReport } from './health.types';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'Each dependency up or down; 503 when any is down' })
  async check(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.health.report();
    res.status(report.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }

  // What a load balancer polls every second or two per replica: it asks whether this process
  // answers HTTP, not whether the shared dependencies are up — /health pings all of them, and
  // their outage would take every replica out of rotation at once, which no balancing can fix.
  @Public()
  @Get('live')
  @ApiOperation({ summary: 'The process answers HTTP (no dependency is checked)' })
  live(): { status: 'ok'; app: string } {
    return { status: 'ok', app: this.health.appName };
  }
}
