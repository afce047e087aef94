import { expect, it } from 'vitest';
import { endOfJsonValue, splitSplicedPayload } from '../../src/inspect/spliced-events.js';

it('splits `{…}data: {…}`, `{…}{…}`, `data: {…}` and `[DONE]data: {…}`; leaves single values and router text alone', () => {
  expect(splitSplicedPayload('{"a":1}data: {"b":"x}{"}')).toEqual({ pieces: ['{"a":1}', '{"b":"x}{"}'], leftover: false });
  expect(splitSplicedPayload('{"a":[1,{"c":2}]} {"b":2}')).toEqual({ pieces: ['{"a":[1,{"c":2}]}', '{"b":2}'], leftover: false });
  expect(splitSplicedPayload('data: {"b":2}')).toEqual({ pieces: ['{"b":2}'], leftover: false });
  expect(splitSplicedPayload('[DONE]data: {"b":2}')).toEqual({ pieces: ['[DONE]', '{"b":2}'], leftover: false });
  expect(splitSplicedPayload('{"id":"x","n":[1,2 data: {"b":2}')).toEqual({ pieces: ['{"b":2}'], leftover: true });
  expect(splitSplicedPayload('{"a":1}')).toBeUndefined();
  expect(splitSplicedPayload('provider failed, failover enabled')).toBeUndefined();
  expect(splitSplicedPayload('{"id":')).toBeUndefined();
  expect(endOfJsonValue('{"s":"a\\"}"}x', 0)).toBe(12);
});
