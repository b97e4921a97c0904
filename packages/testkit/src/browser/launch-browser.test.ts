import { expect, test } from "vitest";
import { launchBrowser } from "./launch-browser.ts";

test("a launched Chromium renders a page at the asked width and closes with its contexts", async () => {
  const testBrowser = await launchBrowser();
  try {
    const page = await testBrowser.newPage({ width: 390, height: 800 });
    await page.setContent("<main><h1>imapferry</h1></main>");
    expect(await page.textContent("h1")).toBe("imapferry");
    // The function runs in the page, where `globalThis` is its window.
    expect(await page.evaluate(() => (globalThis as unknown as { innerWidth: number }).innerWidth)).toBe(390);
  } finally {
    await testBrowser.close();
  }
  expect(testBrowser.browser.isConnected()).toBe(false);
});
