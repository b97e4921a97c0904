export type { Settings, SettingsPatch } from "./schemas.ts";
export { SETTINGS_DEFAULTS, settingsPatchSchema, settingsSchema } from "./schemas.ts";
export { getSettings, updateSettings } from "./settings.ts";
