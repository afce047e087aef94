/**
 * Requests in flight by key, for the proxy's indexes that must find a running request from elsewhere (the upstream
 * pool's exchanges by token, the inspection's judged requests by judge token). Removing an entry empties it first.
 *
 * Why not a plain Map: deleting an entry is not enough to let its value go. A hash table the map outgrew stays in
 * the old generation, still pointing at the entries it held, until the next full GC, and every scavenge before then
 * treats it as a root. A value that reaches a request's object graph (undici's abort closure reaches the handler,
 * reply, response and buffers) then keeps the whole request alive through two scavenges and promotes it. Measured
 * with `npm run bench -- --gc` (gateway-15tok): the pool's exchange map promoted ~2.2 MB per scavenge (bare
 * http-proxy 0.0) and made scavenges 12-14 ms instead of ~4. Here a stale table can only hold an emptied holder.
 */
export class InFlightIndex<K, V> {
  private readonly entries = new Map<K, { value: V | undefined }>();

  set(key: K, value: V): void {
    this.entries.set(key, { value });
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Removes the entry and returns its value (undefined when there was none); the entry's holder is emptied. */
  take(key: K): V | undefined {
    const holder = this.entries.get(key);
    if (holder === undefined) return undefined;
    this.entries.delete(key);
    const value = holder.value;
    holder.value = undefined;
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
