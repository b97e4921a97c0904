export type { Settings, SettingsPatch } from "./settings.ts";
export {
  getSettings,
  SETTINGS_DEFAULTS,
  settingsPatchSchema,
  settingsSchema,
  updateSettings,
} from "./settings.ts";
