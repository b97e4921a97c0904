import { addKeyToKeyFile, createVault, rotateKeys } from "@imapferry/core";
import type { Command } from "commander";
import { loadConfig } from "../config.ts";
import { openRuntime } from "../runtime.ts";

export function register(program: Command): void {
  const keys = program.command("keys").description("Manage the keys that encrypt stored IMAP passwords");
  keys
    .command("rotate")
    .description(
      "Re-encrypt every stored credential under a new key. With IMAPFERRY_SECRET_KEY, put the new key first " +
        "(new,old) and run this; otherwise a new key is added to the key file in the data directory.",
    )
    .action(async function rotateKeysCommand() {
      const config = loadConfig();
      const runtime = await openRuntime(config);
      try {
        let vault = runtime.ctx.vault;
        if (!config.secretKey) {
          // Old keys stay in the file so running processes and this run can still decrypt.
          vault = createVault(await addKeyToKeyFile(config.dataDir, runtime.ctx.log));
        }
        const result = await rotateKeys({ db: runtime.ctx.db, vault, log: runtime.ctx.log });
        process.stdout.write(
          `Re-encrypted ${result.reencrypted} credentials under key ${vault.currentKeyId}. ` +
            `Keys still in use: ${result.keyIdsInUse.join(", ") || "none"}.\n`,
        );
      } finally {
        await runtime.close();
      }
    });
}
