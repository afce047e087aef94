/** One SSE event: its joined `data` lines (undefined for a comment-only block) and its comments. */
export interface SseEvent {
  data: string | undefined;
  comments: string[];
}

/** A tiny SSE parser for tests (WHATWG event-stream rules, minus `event`/`id`/`retry` we never send). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r\n\r\n|\n\n|\r\r/)) {
    if (block === '') continue;
    const data: string[] = [];
    const comments: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line.startsWith(':')) comments.push(line.slice(1).trimStart());
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    events.push({ data: data.length > 0 ? data.join('\n') : undefined, comments });
  }
  return events;
}

export interface ChunkJson {
  id: string;
  object: string;
  created: number;
  model: string;
  request_id?: string;
  choices: { index: number; delta: { content?: string }; finish_reason: string | null }[];
  usage?: Record<string, number>;
  usage_from_provider?: Record<string, number>;
  usage_from_consumer?: Record<string, number>;
}

/** The JSON chunks of a stream (data lines that parse as objects), in order. */
export function jsonChunks(text: string): ChunkJson[] {
  return parseSse(text)
    .map((e) => e.data)
    .filter((d): d is string => d !== undefined && d.startsWith('{'))
    .map((d) => JSON.parse(d) as ChunkJson);
}

/** The content chunks only (those with a `content` delta). */
export function contentChunks(text: string): ChunkJson[] {
  return jsonChunks(text).filter((c) => c.choices[0]?.delta.content !== undefined);
}

export function contentOf(text: string): string {
  return contentChunks(text)
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');
}
