import { NestFactory } from '@nestjs/core';
import { Controller, Get, Module } from '@nestjs/common';
import { hello } from '@archiver/config';

@Controller()
class H { @Get('health') h() { return { ok: hello() }; } }
@Module({ controllers: [H] })
class M {}
async function main() {
  const app = await NestFactory.create(M);
  app.enableShutdownHooks();
  await app.listen(3999, '127.0.0.1');
}
void main();
