/** Growth of the typed arrays the delivered-id window appends to (completion-id-window.ts, delivered-owners.ts). */

/** `a` copied into an array of twice its length (the rest zero). */
export function doubled<T extends Uint32Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (length: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
