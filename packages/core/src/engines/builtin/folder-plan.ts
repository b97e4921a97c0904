import type { ImapFlow } from "imapflow";
import type { NamespaceShape } from "./mailbox-name.ts";
import { encodeModifiedUtf7, translateFolderPath } from "./mailbox-name.ts";
import type { SyncArgs } from "./sync-args.ts";

/** A folder as listed by a server: the Unicode path imapflow works with and the wire name. */
export interface ListedFolder {
  path: string;
  wireName: string;
  selectable: boolean;
  subscribed: boolean;
  specialUse: string | undefined;
  /** Message count from LIST-STATUS/STATUS, when asked for. */
  messages?: number;
}

export interface FolderListing {
  folders: ListedFolder[];
  namespace: NamespaceShape;
}

/** One source folder to sync and where it goes. */
export interface FolderPlan {
  source: ListedFolder;
  /** Unicode path on the destination. */
  destinationPath: string;
  /** Wire (modified UTF-7) name on the destination, for the log. */
  destinationWireName: string;
}

export async function listFolders(client: ImapFlow, withCounts: boolean): Promise<FolderListing> {
  // imapflow asks for the counts with LIST-STATUS in the same command when the server has it.
  const entries = await client.list(withCounts ? { statusQuery: { messages: true } } : undefined);
  const folders = entries.map(function toListed(entry): ListedFolder {
    const flags = [...entry.flags].map((flag) => flag.toLowerCase());
    return {
      path: entry.path,
      wireName: entry.pathAsListed || encodeModifiedUtf7(entry.path),
      selectable: !flags.includes("\\noselect") && !flags.includes("\\nonexistent"),
      subscribed: entry.subscribed,
      messages: entry.status?.messages,
      specialUse: entry.specialUse,
    };
  });
  const delimiter = client.namespace?.delimiter ?? entries.find((entry) => entry.delimiter)?.delimiter ?? "/";
  return { folders, namespace: { delimiter, prefix: client.namespace?.prefix ?? "" } };
}

/** Decodes a modified UTF-7 wire name given on the command line (e.g. in --f1f2). */
function decodeModifiedUtf7(name: string): string {
  return name.replace(/&([^-]*)-/g, function decodeRun(_match, run: string) {
    if (run === "") {
      return "&";
    }
    const bytes = Buffer.from(run.replace(/,/g, "/"), "base64");
    let out = "";
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      out += String.fromCharCode(bytes.readUInt16BE(i));
    }
    return out;
  });
}

/** --subfolder2: `Sent` becomes `Migrated/Sent`, and INBOX `Migrated/INBOX`, under the destination prefix. */
function underSubfolder(path: string, subfolder: string, namespace: FolderListing["namespace"]): string {
  const relative =
    namespace.prefix && path.startsWith(namespace.prefix) ? path.slice(namespace.prefix.length) : path;
  const base =
    namespace.prefix && subfolder.startsWith(namespace.prefix)
      ? subfolder
      : `${namespace.prefix}${subfolder}`;
  return `${base}${namespace.delimiter}${relative}`;
}

function matchesName(folder: ListedFolder, name: string): boolean {
  return (
    folder.wireName === name ||
    folder.path === name ||
    (name.toUpperCase() === "INBOX" && folder.path === "INBOX")
  );
}

export interface PlanResult {
  plans: FolderPlan[];
  /** Folders asked for with --folder that the source does not have. */
  missing: string[];
}

/**
 * Chooses the source folders to sync (imapsync's rules: every selectable folder, or those named
 * with --folder/--folderrec; then --include keeps, --exclude drops, both matched against wire
 * names) and maps each to its destination path, sorted by wire name as imapsync does.
 */
export function planFolders(args: SyncArgs, source: FolderListing, destination: FolderListing): PlanResult {
  const selectable = source.folders.filter(
    (folder) => folder.selectable && (!args.subscribedOnly || folder.subscribed),
  );
  let chosen: ListedFolder[];
  const missing: string[] = [];
  if (args.folders.length > 0 || args.foldersRecursive.length > 0) {
    const picked = new Set<ListedFolder>();
    for (const name of args.folders) {
      const found = selectable.find((folder) => matchesName(folder, name));
      if (found) {
        picked.add(found);
      } else {
        missing.push(name);
      }
    }
    for (const name of args.foldersRecursive) {
      const below = selectable.filter(
        (folder) =>
          matchesName(folder, name) ||
          folder.wireName.startsWith(`${name}${source.namespace.delimiter}`) ||
          folder.path.startsWith(`${name}${source.namespace.delimiter}`),
      );
      if (below.length === 0) {
        missing.push(name);
      }
      for (const folder of below) {
        picked.add(folder);
      }
    }
    chosen = [...picked];
  } else {
    chosen = selectable;
  }
  if (args.includes.length > 0) {
    chosen = chosen.filter((folder) => args.includes.some((pattern) => pattern.test(folder.wireName)));
  }
  if (args.excludes.length > 0) {
    chosen = chosen.filter((folder) => !args.excludes.some((pattern) => pattern.test(folder.wireName)));
  }
  chosen.sort((a, b) => (a.wireName < b.wireName ? -1 : a.wireName > b.wireName ? 1 : 0));

  const plans = chosen.map(function mapFolder(folder): FolderPlan {
    const mapped = args.folderMappings.get(folder.wireName) ?? args.folderMappings.get(folder.path);
    let destinationPath: string;
    if (mapped !== undefined) {
      destinationPath = decodeModifiedUtf7(mapped);
    } else {
      const special = args.automap && folder.specialUse ? folder.specialUse : undefined;
      const counterpart = special
        ? destination.folders.find((other) => other.specialUse === special)
        : undefined;
      destinationPath = counterpart
        ? counterpart.path
        : translateFolderPath(folder.path, source.namespace, destination.namespace);
      if (args.destinationSubfolder !== undefined && !counterpart) {
        destinationPath = underSubfolder(
          destinationPath,
          decodeModifiedUtf7(args.destinationSubfolder),
          destination.namespace,
        );
      }
    }
    const existing = destination.folders.find((other) => other.path === destinationPath);
    return {
      source: folder,
      destinationPath,
      destinationWireName: existing?.wireName ?? encodeModifiedUtf7(destinationPath),
    };
  });
  return { plans, missing };
}
