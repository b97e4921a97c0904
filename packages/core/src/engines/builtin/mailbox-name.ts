/**
 * Mailbox names on the wire use IMAP's modified UTF-7 (RFC 3501 §5.1.3); imapflow hands us the
 * decoded Unicode form. The engine prints both, as imapsync does (`[Entw&APw-rfe] = [Entwürfe]`),
 * and needs the wire form of names it computes itself (destination folders).
 */
export function encodeModifiedUtf7(name: string): string {
  let out = "";
  let pending: number[] = [];
  function flush(): void {
    if (pending.length === 0) {
      return;
    }
    const bytes = Buffer.alloc(pending.length * 2);
    for (const [i, unit] of pending.entries()) {
      bytes.writeUInt16BE(unit, i * 2);
    }
    out += `&${bytes.toString("base64").replace(/=+$/, "").replace(/\//g, ",")}-`;
    pending = [];
  }
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e) {
      flush();
      out += unit === 0x26 ? "&-" : name[i];
    } else {
      pending.push(unit);
    }
  }
  flush();
  return out;
}

export interface NamespaceShape {
  /** Hierarchy delimiter, e.g. "/" (Dovecot with a slash separator) or "." (Courier, Cyrus). */
  delimiter: string;
  /** Personal namespace prefix, e.g. "" or "INBOX." */
  prefix: string;
}

/**
 * Translates a source folder path to the destination's hierarchy: the source prefix is dropped,
 * the delimiter swapped and the destination prefix added, so `INBOX.Archive.2023` on a Courier
 * source becomes `Archive/2023` on a Dovecot destination. A destination delimiter that occurs
 * inside a source segment is replaced by "_" so a name never splits into two levels.
 */
export function translateFolderPath(path: string, from: NamespaceShape, to: NamespaceShape): string {
  if (path.toUpperCase() === "INBOX") {
    return "INBOX";
  }
  let relative = path;
  if (from.prefix && relative.startsWith(from.prefix)) {
    relative = relative.slice(from.prefix.length);
  }
  const segments = from.delimiter ? relative.split(from.delimiter) : [relative];
  const mapped = segments.map(function replaceDelimiter(segment) {
    return to.delimiter && to.delimiter !== from.delimiter ? segment.split(to.delimiter).join("_") : segment;
  });
  const joined = mapped.join(to.delimiter || from.delimiter);
  if (joined.toUpperCase() === "INBOX") {
    return "INBOX";
  }
  return `${to.prefix}${joined}`;
}

/** The ancestors of a path, outermost first: `a/b/c` → [`a`, `a/b`]. */
export function ancestorPaths(path: string, delimiter: string): string[] {
  if (!delimiter) {
    return [];
  }
  const parts = path.split(delimiter);
  const result: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    result.push(parts.slice(0, i).join(delimiter));
  }
  return result;
}
