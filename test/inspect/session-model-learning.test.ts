import { describe, expect, it } from 'vitest';
import { SessionModelRegistry } from '../../src/inspect/registries.js';

// The poisoning policy documented on SessionModelRegistry.
describe('session → model learning', () => {
  it('keeps the first model taught', () => {
    const reg = new SessionModelRegistry();
    reg.learn('s', 'llama', 1);
    reg.learn('s', 'qwen', 2);
    expect(reg.get('s')).toBe('llama');
  });

  it('drops a binding taught by one request when another response contradicts it', () => {
    const reg = new SessionModelRegistry();
    reg.learn('s', 'qwen', 1); // possibly a foreign response nobody caught
    reg.contradict('s');
    expect(reg.get('s')).toBeUndefined();
    reg.learn('s', 'llama', 3);
    expect(reg.get('s')).toBe('llama');
  });

  it('keeps a binding confirmed by two requests when contradicted', () => {
    const reg = new SessionModelRegistry();
    reg.learn('s', 'llama', 1);
    reg.learn('s', 'llama', 1); // the same request again does not confirm
    reg.contradict('s');
    expect(reg.get('s')).toBeUndefined();
    reg.learn('s', 'llama', 1);
    reg.learn('s', 'llama', 2);
    reg.contradict('s');
    expect(reg.get('s')).toBe('llama');
  });

  it('retracts what a request alone taught once it is found foreign', () => {
    const reg = new SessionModelRegistry();
    reg.learn('s', 'qwen', 1);
    reg.retract('s', 2);
    expect(reg.get('s')).toBe('qwen');
    reg.retract('s', 1);
    expect(reg.get('s')).toBeUndefined();
  });
});
