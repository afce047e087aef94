import { describe, expect, it } from 'vitest';
import { checkModel, compileModelAliases, normalizeModelName } from '../../src/inspect/detectors.js';

const aliases = compileModelAliases({ 'llama-3.3-70b': 'meta-llama/Llama-3.3-70B-Instruct', 'LLaMA-70B': 'llama-3.3-70b' });

describe('model names', () => {
  it('normalize case, an org/ prefix and aliases', () => {
    expect(normalizeModelName('meta-llama/Llama-3.3-70B-Instruct')).toBe('llama-3.3-70b');
    expect(normalizeModelName(' LLAMA-3.3-70B-INSTRUCT ')).toBe('llama-3.3-70b');
    expect(normalizeModelName('Llama-3.3-70B', aliases)).toBe('llama-3.3-70b');
    expect(normalizeModelName('hf/llama-70b', aliases)).toBe('llama-3.3-70b');
    // Path prefixes, vendor prefixes, -Instruct and quantisation suffixes (issue 13 item 7).
    expect(normalizeModelName('/models/Meta-Llama-3.3-70B-Instruct')).toBe('llama-3.3-70b');
    expect(normalizeModelName('meta-llama/Llama-3.3-70B-Instruct-AWQ')).toBe('llama-3.3-70b');
    expect(normalizeModelName('Qwen3-235B-A22B-Instruct-2507-FP8')).toBe('qwen3-235b-a22b-instruct-2507');
    expect(normalizeModelName('mistral-31-24b.Q4_K_M.gguf')).toBe('mistral-31-24b.q4_k_m');
    expect(normalizeModelName('Mistral-31-24B-Q4_K_M')).toBe('mistral-31-24b');
    // Other models stay apart.
    expect(normalizeModelName('Llama-3.1-8B-Instruct')).not.toBe(normalizeModelName('Llama-3.3-70B-Instruct'));
    expect(normalizeModelName('qwen', aliases)).toBe('qwen');
  });
});

describe('model_mismatch rule', () => {
  it('accepts the body model under another case, org prefix or alias', () => {
    expect(checkModel('meta-llama/Llama-3.3-70B-Instruct', undefined, 'llama-3.3-70b')).toBeUndefined();
    expect(checkModel('llama-3.3-70b', undefined, 'Llama-3.3-70B-Instruct', aliases)).toBeUndefined();
  });

  it('raises for another model than the body names, even if the session says otherwise', () => {
    expect(checkModel('llama-3.3-70b', 'qwen2.5', 'Qwen/Qwen2.5')).toEqual({
      reason: 'model_mismatch',
      evidence: { expected: 'llama-3.3-70b', seen: 'qwen2.5', source: 'request_body' },
    });
  });

  it('falls back to the session binding when the body names no model', () => {
    expect(checkModel(undefined, 'llama-3.3-70b', 'meta-llama/llama-3.3-70b-instruct')).toBeUndefined();
    expect(checkModel(undefined, 'llama-3.3-70b', 'qwen2.5')).toEqual({
      reason: 'model_mismatch',
      evidence: { expected: 'llama-3.3-70b', seen: 'qwen2.5', source: 'session' },
    });
  });

  it('says nothing without a reference or without a response model', () => {
    expect(checkModel(undefined, undefined, 'anything')).toBeUndefined();
    expect(checkModel('', undefined, 'anything')).toBeUndefined();
    expect(checkModel('llama', 'llama', undefined)).toBeUndefined();
  });
});
