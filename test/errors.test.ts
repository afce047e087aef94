import { describe, expect, it } from 'vitest';
import { errors } from '../src/errors.js';

describe('error registry', () => {
  it.each(Object.entries(errors))('%s is keyed by its own code', (key, Ctor) => {
    const err = new Ctor('detail');
    expect(err.code).toBe(key);
    expect(err.statusCode).toBeGreaterThanOrEqual(400);
    expect(err.message).toContain('detail');
  });

  it('keeps the cause', () => {
    const cause = new Error('ECONNRESET');
    const err = new errors.CROSSTALK_ERR_UPSTREAM_UNAVAILABLE('x', { cause });
    expect(err.cause).toBe(cause);
  });
});
