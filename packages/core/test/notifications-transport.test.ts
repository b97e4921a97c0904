import { startSmtpServer } from "@imapferry/testkit";
import { describe, expect, it } from "vitest";
import { describeSmtpServer } from "../src/services/notifications/config.ts";
import { createMailTransport, smtpSecrets } from "../src/services/notifications/send.ts";

describe("the SMTP transport", () => {
  it("authenticates with the credentials of an SMTP_URL, percent-encoded characters included", async () => {
    const password = "p@ss:w/rd%1";
    const smtp = await startSmtpServer({ auth: { user: "mailer@ferry.example", password } });
    try {
      const url = `smtp://${encodeURIComponent("mailer@ferry.example")}:${encodeURIComponent(password)}@${smtp.host}:${smtp.port}`;
      const transport = createMailTransport({ url });
      await transport.sendMail({
        from: "ferry@example.com",
        to: "ops@example.com",
        subject: "via url",
        text: "x",
      });
      const [mail] = await smtp.waitForMessages(1);
      expect(mail?.authUser).toBe("mailer@ferry.example");
      expect(mail?.subject).toBe("via url");
      expect(describeSmtpServer({ url })).toBe(`${smtp.host}:${smtp.port}`);
      // Both spellings of the password are kept out of emails and error sentences.
      expect(smtpSecrets({ url })).toEqual(expect.arrayContaining([password, encodeURIComponent(password)]));
    } finally {
      await smtp.close();
    }
  });

  it("reports a rejected login without the password", async () => {
    const smtp = await startSmtpServer({ auth: { user: "mailer", password: "right-password" } });
    try {
      const transport = createMailTransport({
        host: smtp.host,
        port: smtp.port,
        user: "mailer",
        password: "wrong-Secret-pw",
      });
      const error = await transport
        .sendMail({ from: "ferry@example.com", to: "ops@example.com", subject: "s", text: "x" })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/535|Invalid/);
      expect((error as Error).message).not.toContain("wrong-Secret-pw");
      expect(smtp.messages).toEqual([]);
    } finally {
      await smtp.close();
    }
  });
});
