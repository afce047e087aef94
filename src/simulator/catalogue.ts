import { createHash } from 'node:crypto';

/** A model as the router lists it: the on-chain model id (0x + 64 hex) and the provider's model name. */
export interface SimModel {
  readonly id: string;
  readonly name: string;
}

/** A session the router serves from the start: its on-chain id and the model (name or 0x id) it is bound to. */
export interface SessionSpec {
  readonly id: string;
  readonly model: string;
}

/** On-chain ids (models, sessions, bids) are 32-byte hashes written as 0x + 64 hex. */
export const HEX32_PATTERN = /^0x[0-9a-fA-F]{64}$/;

/** Model names seen on the Morpheus marketplace; the ids are ours, derived from the names. */
export const DEFAULT_MODEL_NAMES: readonly string[] = ['llama-3.3-70b', 'qwen3-235b', 'mistral-31-24b'];

function hash32(label: string): string {
  return `0x${createHash('sha256').update(label).digest('hex')}`;
}

/** The deterministic on-chain id the simulator gives a model name. */
export function modelIdFor(name: string): string {
  return hash32(`crosstalk-sim/model/${name}`);
}

/** The deterministic id of the `index`-th pre-configured session of a model. */
export function sessionIdFor(modelName: string, index: number): string {
  return hash32(`crosstalk-sim/session/${modelName}/${index}`);
}

export function buildCatalogue(models: readonly (string | SimModel)[] = DEFAULT_MODEL_NAMES): SimModel[] {
  return models.map((m) => (typeof m === 'string' ? { id: modelIdFor(m), name: m } : m));
}

export const DEFAULT_MODELS: readonly SimModel[] = buildCatalogue();

/** `perModel` sessions for each model, with deterministic ids: `startSimulatedRouter({ sessions: makeSessions(2) })`. */
export function makeSessions(
  perModel: number,
  models: readonly (string | SimModel)[] = DEFAULT_MODELS,
): SessionSpec[] {
  const specs: SessionSpec[] = [];
  for (const model of buildCatalogue(models)) {
    for (let i = 0; i < perModel; i++) specs.push({ id: sessionIdFor(model.name, i), model: model.name });
  }
  return specs;
}
