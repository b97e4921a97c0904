import { createCipheriv, createHash } from "node:crypto";

export interface GenerateLargeMailboxOptions {
  /** @defaultValue 2000 */
  messages?: number;
  /** How many folders to spread them over (INBOX first, then nested and non-ASCII names). @defaultValue 6 */
  folders?: number;
  /** Same seed, same bytes. @defaultValue 1 */
  seed?: number;
  /** Mean message size in bytes; 2000 messages come to about 130 MB. @defaultValue 65_000 */
  averageSize?: number;
  /** Smallest message in bytes. @defaultValue 1024 */
  minSize?: number;
  /** Largest message in bytes (for example 50 MB to test memory on huge messages). @defaultValue 4 MiB */
  maxSize?: number;
}

/** One generated message; its bytes are only built when source() is called. */
export interface GeneratedMessage {
  index: number;
  /** "/"-separated folder path. */
  folder: string;
  /** Unique per message, with angle brackets. */
  messageId: string;
  /** Exact byte length of source(). */
  size: number;
  /** IMAP flags and keywords, sorted. */
  flags: string[];
  /** Whole seconds, as IMAP keeps it. */
  internalDate: Date;
  /** The RFC 822 bytes (CRLF line endings). Rebuilt on each call, so holding messages costs no memory. */
  source(): Buffer;
}

export interface GeneratedMailbox {
  seed: number;
  /** Every folder messages go to, parents listed before children. */
  folders: readonly string[];
  messageCount: number;
  totalBytes: number;
  message(index: number): GeneratedMessage;
  /** All messages in index order, built lazily. */
  messages(): Generator<GeneratedMessage>;
}

const MIN_SIZE = 1024;
const MAX_SIZE = 4 * 1024 * 1024;
const MULTIPART_FROM = 24 * 1024;
// Parents come before children so that every folder on the list is a real mailbox.
const FOLDER_NAMES = [
  "INBOX",
  "Sent",
  "Archive",
  "Archive/2024",
  "Entwürfe",
  "Projects",
  "Projects/Ferry",
  "Lists",
  "Lists/dev",
  "Archiv/2024",
];
const WORDS =
  "the migration of mail across servers keeps flags dates and folders while every message travels once and arrives intact quickly".split(
    " ",
  );

/** mulberry32: small, fast and good enough to make test data reproducible. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return function nextRandom() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function messageSeed(seed: number, index: number): number {
  return createHash("sha256").update(`${seed}:${index}`).digest().readUInt32LE(0);
}

function logUniform(random: () => number, low: number, high: number): number {
  return Math.exp(Math.log(low) + random() * (Math.log(high) - Math.log(low)));
}

function drawSizes(
  count: number,
  seed: number,
  averageSize: number,
  minSize: number,
  maxSize: number,
): number[] {
  const random = createRandom(seed ^ 0x5eed);
  const raw = Array.from({ length: count }, () => {
    const bucket = random();
    if (bucket < 0.7) return logUniform(random, MIN_SIZE, 16 * 1024);
    if (bucket < 0.95) return logUniform(random, 16 * 1024, 256 * 1024);
    if (bucket < 0.995) return logUniform(random, 256 * 1024, 1024 * 1024);
    return logUniform(random, 1024 * 1024, MAX_SIZE);
  });
  // Scale towards the wanted total; clamping moves it a little, so repeat a few times.
  let sizes = raw;
  for (let round = 0; round < 4; round++) {
    const total = sizes.reduce((sum, size) => sum + size, 0);
    const factor = (averageSize * count) / total;
    sizes = sizes.map((size) => Math.min(maxSize, Math.max(minSize, size * factor)));
  }
  const rounded = sizes.map((size) => Math.round(size));
  // Pin both ends of the range so every large mailbox exercises them.
  if (count >= 100) {
    rounded[0] = minSize;
    rounded[1] = maxSize;
  }
  return rounded;
}

function pickFlags(random: () => number): string[] {
  const flags: string[] = [];
  if (random() < 0.75) flags.push("\\Seen");
  if (random() < 0.15) flags.push("\\Answered");
  if (random() < 0.08) flags.push("\\Flagged");
  if (random() < 0.01) flags.push("\\Draft");
  if (random() < 0.05) flags.push("$Work");
  if (random() < 0.03) flags.push("$Later");
  return flags.sort();
}

/** Exactly `length` bytes of CRLF-terminated text lines (length >= 2). */
function fillerText(length: number, random: () => number): string {
  const lines: string[] = [];
  let remaining = length;
  const line = (chars: number) => {
    let text = "";
    while (text.length < chars) text += `${WORDS[Math.floor(random() * WORDS.length)]} `;
    lines.push(`${text.slice(0, chars).trimEnd().padEnd(chars, ".")}\r\n`);
    remaining -= chars + 2;
  };
  while (remaining >= 78 + 2 || remaining === 78) line(76);
  if (remaining === 79) {
    line(75);
    line(0);
  } else if (remaining >= 2) {
    line(remaining - 2);
  }
  return lines.join("");
}

function randomBytesFor(seed: number, index: number, length: number): Buffer {
  // AES-CTR over zeros: deterministic, incompressible and far faster than a JS PRNG per byte.
  const key = createHash("sha256").update(`blob:${seed}:${index}`).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

function base64Lines(data: Buffer): string {
  const parts: string[] = [];
  for (let offset = 0; offset < data.length; offset += 57) {
    parts.push(`${data.subarray(offset, offset + 57).toString("base64")}\r\n`);
  }
  return parts.join("");
}

function rfc2822Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

function buildSource(seed: number, index: number, size: number, messageId: string, date: Date): Buffer {
  const random = createRandom(messageSeed(seed, index) ^ 0xb0d7);
  const sender = Math.floor(random() * 50);
  const headers = [
    `Date: ${rfc2822Date(date)}`,
    `From: Sender ${sender} <sender${sender}@example.net>`,
    "To: Test User <user@example.com>",
    `Subject: Generated message ${index} (seed ${seed})`,
    `Message-ID: ${messageId}`,
    "MIME-Version: 1.0",
  ];
  if (size < MULTIPART_FROM) {
    const head = `${[...headers, "Content-Type: text/plain; charset=us-ascii"].join("\r\n")}\r\n\r\n`;
    return Buffer.from(head + fillerText(size - head.length, random), "ascii");
  }
  const boundary = `gen-${seed}-${index}`;
  const head = `${[...headers, `Content-Type: multipart/mixed; boundary="${boundary}"`].join("\r\n")}\r\n\r\n`;
  const textPart = `--${boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const attachmentHead =
    `--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n` +
    `Content-Disposition: attachment; filename="blob-${index}.bin"\r\n\r\n`;
  const tail = `--${boundary}--\r\n`;
  const fixed = head.length + textPart.length + attachmentHead.length + tail.length;
  // Each 57 raw bytes become one 76-character base64 line plus CRLF; the text part takes the rest.
  const lines = Math.floor((size - fixed - 300) / 78);
  const attachment = base64Lines(randomBytesFor(seed, index, lines * 57));
  const filler = fillerText(size - fixed - attachment.length, random);
  return Buffer.from(head + textPart + filler + attachmentHead + attachment + tail, "ascii");
}

/**
 * A deterministic mailbox for benchmarks: sizes from 1 KB to 4 MB (about 130 MB for 2000 messages),
 * flags, internal dates and unique Message-IDs. Only the size table is computed up front.
 */
export function generateLargeMailbox(options: GenerateLargeMailboxOptions = {}): GeneratedMailbox {
  const count = options.messages ?? 2000;
  const seed = options.seed ?? 1;
  const folderCount = Math.max(1, options.folders ?? 6);
  const folders = Array.from({ length: folderCount }, (_, index) =>
    index < FOLDER_NAMES.length
      ? (FOLDER_NAMES[index] ?? "INBOX")
      : `Folder ${String(index + 1).padStart(2, "0")}`,
  );
  const minSize = options.minSize ?? MIN_SIZE;
  const maxSize = options.maxSize ?? MAX_SIZE;
  if (minSize < MIN_SIZE || maxSize < minSize) {
    throw new RangeError(`Message sizes must satisfy ${MIN_SIZE} <= minSize <= maxSize.`);
  }
  const sizes = drawSizes(count, seed, options.averageSize ?? 65_000, minSize, maxSize);
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  const start = Date.UTC(2019, 0, 1);
  const span = 5 * 365 * 24 * 3600;

  function message(index: number): GeneratedMessage {
    const size = sizes[index];
    if (size === undefined) throw new RangeError(`No generated message ${index}; there are ${count}.`);
    const random = createRandom(messageSeed(seed, index));
    // INBOX holds about 40 %, the other folders share the rest.
    const folder =
      folders.length === 1 || random() < 0.4
        ? (folders[0] ?? "INBOX")
        : (folders[1 + Math.floor(random() * (folders.length - 1))] ?? "INBOX");
    const flags = pickFlags(random);
    const internalDate = new Date(start + Math.floor(random() * span) * 1000);
    const messageId = `<gen-${seed}-${index}@imapferry.test>`;
    return {
      index,
      folder,
      messageId,
      size,
      flags,
      internalDate,
      source: () => buildSource(seed, index, size, messageId, internalDate),
    };
  }

  return {
    seed,
    folders,
    messageCount: count,
    totalBytes,
    message,
    *messages() {
      for (let index = 0; index < count; index++) yield message(index);
    },
  };
}
