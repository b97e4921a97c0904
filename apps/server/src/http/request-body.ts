/**
 * Reading a request body before anything parses it: a size cap (a body over it is refused without
 * being read to its end) and a nesting cap on the JSON. JSON.parse takes seconds and a great deal of
 * memory on a body nested millions of levels deep, and blocks the whole process meanwhile; a scan for
 * brackets takes a few milliseconds per megabyte and allocates nothing.
 */

/** Arrays and objects inside each other, at most. Real inputs nest a handful of levels. */
export const MAX_JSON_DEPTH = 32;

export type BodyProblem = { status: 413; message: string } | { status: 400; message: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Whether `text`, read as JSON, nests arrays and objects deeper than `maxDepth`. Strings are skipped. */
export function jsonNestedDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let i = 0;
  const length = text.length;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump to the closing quote, past escaped characters.
      i++;
      for (;;) {
        const next = text.indexOf('"', i);
        if (next < 0) return false;
        let backslashes = 0;
        for (let j = next - 1; j >= i && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
        i = next + 1;
        if (backslashes % 2 === 0) break;
      }
      continue;
    }
    if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
    i++;
  }
  return false;
}

export function tooDeep(where: string): BodyProblem {
  return {
    status: 400,
    message: `The ${where} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; no imapferry input does.`,
  };
}

function tooLarge(maxBytes: number): BodyProblem {
  const size = maxBytes >= 1024 * 1024 ? `${maxBytes / (1024 * 1024)} MiB` : `${maxBytes / 1024} KiB`;
  return {
    status: 413,
    message: `The request body is larger than this call accepts (${size}). Only an authenticated CSV import or preview takes large bodies; split a bigger file into several imports.`,
  };
}

/**
 * The body as text, or the reason it is refused. Stops reading as soon as the body passes `maxBytes`
 * (at once when Content-Length says so), so a huge body costs neither memory nor time.
 */
export async function readBoundedBody(
  request: Request,
  maxBytes: number,
): Promise<{ text: string } | { problem: BodyProblem }> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return { problem: tooLarge(maxBytes) };
  if (!request.body) return { text: "" };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      return { problem: tooLarge(maxBytes) };
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (jsonNestedDeeperThan(text, MAX_JSON_DEPTH)) return { problem: tooDeep("request body") };
  return { text };
}
