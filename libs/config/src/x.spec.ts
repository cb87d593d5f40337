import { Test } from '@nestjs/testing';
import { Injectable } from '@nestjs/common';
import { hello } from '@archiver/config';
@Injectable() class S { v() { return hello(); } }
describe('x', () => { it('works', async () => { const m = await Test.createTestingModule({ providers: [S] }).compile(); expect(m.get(S).v()).toBe('hi'); }); });
