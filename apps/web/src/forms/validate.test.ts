import { createJobInputSchema, serverInputSchema } from "@imapferry/core/schemas";
import { describe, expect, test } from "vitest";
import { sentenceFor, validate } from "./validate.ts";

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
      sourceEmail: "-not-a-login",
      sourcePassword: "line\nbreak",
      destServerId: 2,
      destEmail: "alice@new.example",
      destPassword: "x",
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(Object.keys(result.errors).sort()).toEqual(["sourceEmail", "sourcePassword", "sourceServerId"]);
  });
});

describe("field sentences", () => {
  test("a field without a sentence of the schema's own gets the form's, not zod's default", () => {
    const result = validate(
      createJobInputSchema,
      {
        sourceServerId: Number.NaN,
        sourceEmail: "alice",
        sourcePassword: "line\nbreak",
        destServerId: 2,
        destEmail: "alice@new.example",
        destPassword: "x",
      },
      { sourceServerId: "Choose the source server.", sourcePassword: "not used" },
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.sourceServerId).toBe("Choose the source server.");
      // The schema's own sentence still wins.
      expect(result.errors.sourcePassword).toBe("A password cannot contain line breaks or NUL characters.");
    }
  });

  test("a list field's sentence applies to each of its entries", () => {
    const result = validate(
      serverInputSchema,
      { name: "Old", host: "imap.example.com", port: Number("abc"), security: "tls" },
      { port: "Enter the port, a number from 1 to 65535." },
    );
    expect(!result.ok && result.errors.port).toBe("Enter the port, a number from 1 to 65535.");
    expect(sentenceFor({ "recipients.*": "Enter an email address." }, ["recipients", 3])).toBe(
      "Enter an email address.",
    );
  });
});
