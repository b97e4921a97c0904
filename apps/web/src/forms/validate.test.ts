import { createJobInputSchema, serverInputSchema } from "@imapferry/core/schemas";
import { describe, expect, test } from "vitest";
import { validate } from "./validate.ts";

describe("form validation with core's schemas", () => {
  test("a server without a host is refused with the schema's own sentence, keyed by field", () => {
    const result = validate(serverInputSchema, { name: "Old", host: "", port: 993, security: "tls" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.host).toBe("Enter the server's host name or IP address.");
  });

  test("a new job gets the schema's defaults: a dry run unless said otherwise", () => {
    const result = validate(createJobInputSchema, {
      sourceServerId: 1,
      sourceEmail: "alice@old.example",
      sourcePassword: "secret",
      destServerId: 2,
      destEmail: "alice@new.example",
      destPassword: "secret",
    });
    expect(result.ok && result.data.dryRun).toBe(true);
  });

  test("every bad field is reported, the first message per field", () => {
    const result = validate(createJobInputSchema, {
      sourceServerId: Number.NaN,
      sourceEmail: "not an address",
      sourcePassword: "",
      destServerId: 2,
      destEmail: "alice@new.example",
      destPassword: "x",
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(Object.keys(result.errors).sort()).toEqual(["sourceEmail", "sourcePassword", "sourceServerId"]);
  });
});
