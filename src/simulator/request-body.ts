/** What the simulated provider reads from a chat request body: the last user text (nonce echo) and its size. */

/** The text of the last user message (string content or text parts), for the nonce echo and token counts. */
export function lastUserText(body: Record<string, unknown>): string {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message === null || typeof message !== 'object' || message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      return message.content
        .map((part: unknown) => (typeof (part as { text?: unknown })?.text === 'string' ? (part as { text: string }).text : ''))
        .join(' ');
    }
    return '';
  }
  return '';
}

/** Characters of string message content, for a plausible `prompt_tokens`. */
export function promptChars(body: Record<string, unknown>): number {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return 0;
  let chars = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    if (typeof content === 'string') chars += content.length;
  }
  return chars;
}
