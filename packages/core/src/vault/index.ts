export type { KeyFile } from "./key-file.ts";
export {
  addKeyToKeyFile,
  KEY_FILE_NAME,
  keyFilePath,
  loadOrCreateKeyFile,
  removeKeysFromKeyFile,
} from "./key-file.ts";
export type { RotateKeysOptions, RotateKeysResult } from "./rotate-keys.ts";
export { rotateKeys } from "./rotate-keys.ts";
export type { KeyedVault, VaultKeys } from "./vault.ts";
export { createVault, generateSecretKey, keyIdOf, parseSecretKey } from "./vault.ts";
