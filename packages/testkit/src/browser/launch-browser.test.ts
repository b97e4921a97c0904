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

test("errors a page reports are collected once, with the page's address", async () => {
  const testBrowser = await launchBrowser();
  try {
    const page = await testBrowser.newPage();
    await page.setContent("<p>hello</p>");
    await page.evaluate(() => {
      console.error("something broke");
      console.log("just a note");
    });
    const pageError = page.waitForEvent("pageerror");
    await page.evaluate(() => {
      setTimeout(() => {
        throw new Error("uncaught");
      });
    });
    await pageError;
    const errors = testBrowser.takeConsoleErrors();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("something broke");
    expect(errors[1]).toContain("uncaught Error: uncaught");
    expect(testBrowser.takeConsoleErrors()).toEqual([]);
  } finally {
    await testBrowser.close();
  }
});
