import { expect, it } from 'vitest';
import { NameConsensus } from '../../src/inspect/name-consensus.js';

const A = '0xmodel-a';
const B = '0xmodel-b';

it('no single answer sets a name; a quorum overturns the teacher of another name; other models\' names are foreign', () => {
  const c = new NameConsensus({ quorum: 2 });
  expect(c.judge(A, undefined, 'poison')).toEqual({ kind: 'pending' });
  expect(c.vote(A, undefined, 'poison', { requestId: 'r0', session: 's1' })).toEqual([]);
  expect(c.vote(A, undefined, 'llama', { requestId: 'r1', session: 's1' })).toEqual([]);
  // Same session twice is one session: no quorum.
  expect(c.vote(A, undefined, 'llama', { requestId: 'r1b', session: 's1' })).toEqual([]);
  expect(c.judge(A, undefined, 'llama')).toEqual({ kind: 'pending' });
  expect(c.vote(A, undefined, 'llama', { requestId: 'r2', session: 's2' })).toEqual([{ requestId: 'r0', session: 's1', name: 'poison' }]);
  expect(c.judge(A, undefined, 'llama')).toEqual({ kind: 'known' });
  expect(c.judge(A, undefined, 'poison')).toEqual({ kind: 'foreign', expected: 'llama' });
  // Model B's quorum name, on a session of model A that never produced it: another model's answer.
  c.vote(B, undefined, 'qwen', { requestId: 'q1', session: 't1' });
  c.vote(B, undefined, 'qwen', { requestId: 'q2', session: 't2' });
  expect(c.judge(A, undefined, 'qwen')).toEqual({ kind: 'other_model', expected: 'llama', otherModelId: B });
});

it('a tie is no quorum; names are per provider when the provider is known', () => {
  const c = new NameConsensus({ quorum: 2 });
  c.vote(A, 'p1', 'x', { requestId: '1', session: 's1' });
  c.vote(A, 'p1', 'x', { requestId: '2', session: 's2' });
  c.vote(A, 'p1', 'y', { requestId: '3', session: 's3' });
  c.vote(A, 'p1', 'y', { requestId: '4', session: 's4' });
  expect(c.knownNames(A, 'p1')).toEqual(['x']);
  expect(c.judge(A, 'p2', 'z')).toEqual({ kind: 'pending' });
  expect(c.judge(A, 'p1', 'z')).toEqual({ kind: 'foreign', expected: 'x' });
});
