import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ArchiverRole, Roles } from '@archiver/auth';
import { AuditRepository } from '@archiver/database';
import { ApiErrorView } from '../api/api.error';
import { ZodValidationPipe } from '../api/zod-validation.pipe';
import { ListAuditQueryDoc, listAuditQuerySchema, type ListAuditQuery } from './audit.dto';
import { AuditPageView, toAuditEventView } from './audit.view';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @Roles(ArchiverRole.ADMIN)
  @ApiOperation({ summary: 'archiver-admin: who changed what and when, newest first, filterable' })
  @ApiQuery({ type: ListAuditQueryDoc })
  @ApiOkResponse({ type: AuditPageView })
  @ApiBadRequestResponse({ type: ApiErrorView })
  @ApiForbiddenResponse({ type: ApiErrorView })
  async list(@Query(new ZodValidationPipe(listAuditQuerySchema)) query: ListAuditQuery): Promise<AuditPageView> {
    const { items, total } = await this.audit.list(query);
    return { items: items.map(toAuditEventView), total, page: query.page, pageSize: query.pageSize };
  }
}
