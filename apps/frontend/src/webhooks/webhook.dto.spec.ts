import { describeIssues } from '../api/zod-validation.pipe';
import { createWebhookSchema, updateWebhookSchema } from './webhook.dto';

const messageOf = (schema: typeof createWebhookSchema | typeof updateWebhookSchema, body: unknown) => {
  const result = schema.safeParse(body);
  return result.success ? undefined : describeIssues(result.error.issues);
};

describe('webhook bodies', () => {
  describe.each([
    ['createWebhookSchema', createWebhookSchema, /\{"url": "https:\/\/host\/hook", "events": \["visit.failed"\]\}/],
    ['updateWebhookSchema', updateWebhookSchema, /\{"active": false\}/],
  ] as const)('%s', (_name, sut, example) => {
    it.each([undefined, null, [], [{}], 'str', 123, true])('answers a body that is not an object (%j) with an example of one', (body) => {
      const message = messageOf(sut, body);
      expect(message).toMatch(/^The body must be a JSON object like /);
      expect(message).toMatch(example);
      expect(message).not.toMatch(/Invalid input|expected|received/);
    });

    it('still names the field at fault inside an object', () => {
      expect(messageOf(sut, { url: 123, events: ['visit.failed'] })).toBe('url: url must be a string');
      expect(messageOf(sut, { url: 'https://host/hook', events: ['visit.failed'], zz: 1 })).toBe('Unknown field "zz": remove it');
    });
  });
});
