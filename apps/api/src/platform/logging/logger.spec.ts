import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { requestContext } from '../http/request-context';
import { createRootLogger } from './logging.module';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createRootLogger('info', stream) };
}

describe('root logger', () => {
  it('stamps the correlation id of the current request or job on every line', () => {
    const { lines, logger } = capture();
    requestContext.run({ correlationId: 'corr-77' }, () => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', correlationId: 'corr-77' });
    expect(lines[1]).not.toHaveProperty('correlationId');
  });

  it('redacts credentials in request headers and bodies', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: {
          headers: { authorization: 'Bearer abc.def', cookie: 'sid=1', 'x-api-key': 'mk_live_1' },
        },
        body: { password: 'hunter2', refreshToken: 'rt_1', email: 'a@b.co' },
      },
      'login',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['abc.def', 'sid=1', 'mk_live_1', 'hunter2', 'rt_1'])
      expect(text).not.toContain(secret);
    expect(text).toContain('a@b.co');
  });

  it('masks card numbers in messages and fields', () => {
    const { lines, logger } = capture();
    logger.info({ transcript: 'my card is 4111 1111 1111 1111' }, 'caller said 5555555555554444');
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain('4111 1111 1111 1111');
    expect(text).not.toContain('5555555555554444');
    expect(text).toContain('[card:…1111]');
    expect(text).toContain('[card:…4444]');
  });
});
