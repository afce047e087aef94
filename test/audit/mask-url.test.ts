import { describe, expect, it } from 'vitest';
import { maskUrl, redactUrl } from '../../src/audit/mask-url.js';

describe('maskUrl', () => {
  it.each([
    ['postgres://app:s3cret@db.example:5432/gw', 'postgres://app:***@db.example:5432/gw'],
    ['postgresql://app:p%40ss@db/gw?sslmode=require', 'postgresql://app:***@db/gw?sslmode=require'],
    ['postgres://db/gw?user=app&password=s3cret', 'postgres://db/gw?user=app&password=***'],
    ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/test'],
    ['dev=postgres://app:s3cret@db/gw', 'dev=postgres://app:***@db/gw'],
  ])('%s → %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });
});

describe('redactUrl', () => {
  it('replaces the URL and any stray copy of its password in a message', () => {
    const url = 'postgres://app:hunter22@db.example/gw';
    expect(redactUrl(`failed to connect to ${url} (password hunter22 rejected)`, url)).toBe(
      'failed to connect to postgres://app:***@db.example/gw (password *** rejected)',
    );
  });
});
