import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { from, mergeMap, type Observable } from 'rxjs';
import type { AuthenticatedRequest } from '@archiver/auth';
import { AuditRepository } from '@archiver/database';
import { AUDIT_KEY, type AuditSpec } from './audited.decorator';

/**
 * Writes one audit row after an `@Audited` route succeeded (a failed or refused request changed
 * nothing, and the access log has it). The change is done by then: if the row cannot be written
 * the response still reports the change truthfully, and the failure is logged as an error with
 * the request id, so the gap is visible.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger(AuditInterceptor.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditRepository,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<AuditSpec | undefined>(AUDIT_KEY, context.getHandler());
    if (!spec || context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    return next.handle().pipe(mergeMap((result) => from(this.record(spec, request, result).then(() => result))));
  }

  private async record(spec: AuditSpec, request: AuthenticatedRequest, result: unknown): Promise<void> {
    const action = typeof spec.action === 'string' ? spec.action : spec.action(request, result);
    if (action === undefined) return;
    const requestId = typeof request.id === 'string' ? request.id : null;
    try {
      await this.audit.record({
        actorSubject: request.user?.subject ?? 'anonymous',
        actorName: request.user?.username ?? null,
        action,
        targetType: spec.targetType,
        targetId: spec.targetId ? (spec.targetId(request, result) ?? null) : defaultTargetId(request, result),
        requestId,
        details: pick(request, spec),
      });
    } catch (error) {
      this.logger.error({ msg: 'could not write the audit log entry', action, requestId, error: (error as Error).message });
    }
  }
}

function defaultTargetId(request: Request, result: unknown): string | null {
  const param = request.params?.id;
  if (typeof param === 'string') return param;
  const id = (result as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' ? id : null;
}

/** The allowlisted body and query fields that were present; null when none were. */
function pick(request: Request, spec: AuditSpec): Record<string, unknown> | null {
  const details: Record<string, unknown> = {};
  const body = (request.body ?? {}) as Record<string, unknown>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  for (const field of spec.body ?? []) if (body[field] !== undefined) details[field] = body[field];
  for (const field of spec.query ?? []) if (query[field] !== undefined) details[field] = query[field];
  return Object.keys(details).length > 0 ? details : null;
}
