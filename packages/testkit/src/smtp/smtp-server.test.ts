import { once } from "node:events";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpTestServer, startSmtpServer } from "./smtp-server.ts";

/** A bare SMTP client over a socket: enough to drive the harness without depending on nodemailer. */
async function smtpSession(
  port: number,
): Promise<{ greeting: string; command(line: string): Promise<string>; close(): void }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  let buffer = "";
  const waiters: ((reply: string) => void)[] = [];
  socket.on("data", function collectReply(chunk: string) {
    buffer += chunk;
    // A reply is complete at a line "NNN text" (a space, not a dash, after the code).
    for (;;) {
      const end = /^\d{3} [^\r\n]*\r\n/m.exec(buffer);
      if (!end) return;
      const upTo = end.index + end[0].length;
      const reply = buffer.slice(0, upTo);
      buffer = buffer.slice(upTo);
      waiters.shift()?.(reply);
    }
  });
  const nextReply = () => new Promise<string>((resolve) => waiters.push(resolve));
  const greeting = nextReply();
  await once(socket, "connect");
  return {
    greeting: await greeting,
    command(line: string) {
      const reply = nextReply();
      socket.write(`${line}\r\n`);
      return reply;
    },
    close() {
      socket.destroy();
    },
  };
}

async function greetingOf(port: number): Promise<string> {
  const session = await smtpSession(port);
  session.close();
  return session.greeting;
}

async function sendRaw(port: number, message: string): Promise<void> {
  const s = await smtpSession(port);
  try {
    expect(await s.command("EHLO test.example")).toMatch(/^250 /m);
    expect(await s.command("MAIL FROM:<from@test.example>")).toMatch(/^250/);
    expect(await s.command("RCPT TO:<to@test.example>")).toMatch(/^250/);
    expect(await s.command("DATA")).toMatch(/^354/);
    expect(await s.command(`${message.replace(/\n/g, "\r\n")}\r\n.`)).toMatch(/^250/);
    await s.command("QUIT");
  } finally {
    s.close();
  }
}

describe("the SMTP test server", () => {
  let smtp: SmtpTestServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp.close();
  });

  it("receives and parses a message with its envelope", async () => {
    await sendRaw(smtp.port, "From: A <from@test.example>\nTo: to@test.example\nSubject: Hello\n\nBody line");
    const [mail] = await smtp.waitForMessages(1);
    expect(mail).toMatchObject({
      envelopeFrom: "from@test.example",
      envelopeTo: ["to@test.example"],
      from: "from@test.example",
      to: ["to@test.example"],
      subject: "Hello",
    });
    expect(mail?.text.trim()).toBe("Body line");
    expect(mail?.raw).toContain("Subject: Hello");
  });

  it("answers 421 while down, then takes mail again", async () => {
    smtp.setDown(true);
    expect(await greetingOf(smtp.port)).toMatch(/^421 /);
    smtp.setDown(false);
    expect(await greetingOf(smtp.port)).toMatch(/^220 /);
  });

  it("refuses connections while stopped and comes back on the same port", async () => {
    const port = smtp.port;
    await smtp.stop();
    const refused = net.connect(port, "127.0.0.1");
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
    await smtp.start();
    expect(smtp.port).toBe(port);
    await sendRaw(port, "Subject: Again\n\nx");
    const mails = await smtp.waitForMessages(2);
    expect(mails.map((m) => m.subject)).toEqual(["Hello", "Again"]);
  });
});
