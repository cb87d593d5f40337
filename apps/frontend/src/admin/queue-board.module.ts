import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { Module } from '@nestjs/common';
import { AuthModule } from '@archiver/auth';
import { QueueName } from '@archiver/queue';
import { QueueBoardAuthMiddleware } from './queue-board.auth';
import { QueueBoardController } from './queue-board.controller';
import { QUEUE_BOARD_ROUTE } from './queue-board.cookie';

/**
 * bull-board for every queue at /admin/queues, for archiver-admin only (QueueBoardAuthMiddleware
 * runs before bull-board's router on every path under it).
 */
@Module({
  imports: [
    BullBoardModule.forRootAsync({
      // Nest builds the middleware inside bull-board's module, which sees only what it imports.
      imports: [AuthModule],
      useFactory: () => ({
        route: QUEUE_BOARD_ROUTE,
        adapter: ExpressAdapter,
        middleware: QueueBoardAuthMiddleware,
        boardOptions: { uiConfig: { boardTitle: 'Archiver queues' } },
      }),
    }),
    BullBoardModule.forFeature(...Object.values(QueueName).map((name) => ({ name, adapter: BullMQAdapter }))),
  ],
  controllers: [QueueBoardController],
})
export class QueueBoardModule {}
