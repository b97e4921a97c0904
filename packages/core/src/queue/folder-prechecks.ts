import type { ParsedEvent } from "../engines/imapsync/parser.ts";
import type { MigrationSpec } from "../engines/types.ts";
import type { FolderProof, FolderProofs } from "../engines/verification/folder-proof.ts";
import type { CheckSession } from "../engines/verification/verify-migration.ts";
import type { EngineRunner } from "./engine-run.ts";

/*
 * imapsync copies one folder after another and never goes back to one it has left: when it starts
 * folder k+1, folder k is as it will be at the end. Checking folder k then, on one connection pair
 * beside imapsync's own, takes that folder's read off the check after the run: the check still
 * stamps every folder (UIDVALIDITY, UIDNEXT, MESSAGES on both sides, see folder-proof.ts) and reads
 * again any folder that changed since, so what it says holds at its own time, exactly as before.
 */

export interface FolderPrechecks {
  /** The engine's parsed output: each folder start hands the folder before it to the check. */
  onEvent(event: ParsedEvent): void;
  /** The engine has ended: checks what was handed over and not checked yet, then gives the proofs. */
  finish(): Promise<FolderPrechecksResult>;
}

export interface FolderPrechecksResult {
  /** The proofs of the folders found complete, for the check after the run to look up. */
  proofs: FolderProof[];
  /** Folders checked (complete or not). */
  checked: number;
}

export function startFolderPrechecks(input: {
  runner: Required<Pick<EngineRunner, "openCheck">>;
  spec: MigrationSpec;
  signal: AbortSignal;
  /** Checks start once this settles: the pre-flight's source connection must be closed first. */
  ready: Promise<unknown>;
}): FolderPrechecks {
  const proofs: FolderProof[] = [];
  const collector: FolderProofs = { lookup: () => undefined, record: (proof) => proofs.push(proof) };
  const handedOver: string[] = [];
  let current: string | undefined;
  let checked = 0;
  let loop: Promise<void> | null = null;
  /** One session for the whole run, opened at the first folder handed over: one login per side. */
  let session: Promise<CheckSession> | null = null;
  /** A check that failed (a dropped connection, a refused login) ends these checks: the one after the run reads the rest. */
  let gaveUp = false;

  async function checkHandedOver(): Promise<void> {
    await input.ready.catch(() => undefined);
    try {
      while (handedOver.length > 0 && !input.signal.aborted && !gaveUp) {
        session ??= input.runner.openCheck(input.spec, { connectionPairs: 1 });
        const verification = await (await session).check({
          folders: new Set(handedOver.splice(0)),
          proofs: collector,
          signal: input.signal,
        });
        checked += verification.folders.length;
      }
    } catch {
      gaveUp = true;
    } finally {
      loop = null;
    }
  }

  return {
    onEvent(event) {
      if (event.type !== "folder") return;
      if (current !== undefined) handedOver.push(current);
      // The source's own name, as the check lists it (imapsync prints the decoded one beside UTF-7).
      current = event.sourceDisplay;
      loop ??= checkHandedOver();
    },
    async finish() {
      while (loop) await loop;
      await session?.then(
        (open) => open.close(),
        () => undefined,
      );
      return { proofs, checked };
    },
  };
}
