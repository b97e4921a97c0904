// Writes corpus/*.eml. The files are committed; rerun only to change the corpus on purpose:
//   node --import tsx scripts/build-corpus.ts
// Everything is deterministic, so a rerun without code changes reproduces the same bytes.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const corpusDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "corpus");

/** Joins lines with CRLF and ends with one. */
function crlf(lines: string[]): string {
  return `${lines.join("\r\n")}\r\n`;
}

/** Deterministic pseudo-random bytes: a sha256 chain. */
function bytes(label: string, length: number): Buffer {
  const chunks: Buffer[] = [];
  let block = createHash("sha256").update(label).digest();
  let total = 0;
  while (total < length) {
    chunks.push(block);
    total += block.length;
    block = createHash("sha256").update(block).digest();
  }
  return Buffer.concat(chunks).subarray(0, length);
}

function base64Lines(data: Buffer): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < data.length; offset += 57) {
    lines.push(data.subarray(offset, offset + 57).toString("base64"));
  }
  return lines;
}

function write(name: string, content: string | Buffer): void {
  const buffer = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  if (
    buffer
      .toString("latin1")
      .replace(/\r\n/g, "")
      .match(/[\r\n]/)
  ) {
    throw new Error(`${name} has a bare CR or LF`);
  }
  writeFileSync(path.join(corpusDir, name), buffer);
}

write(
  "plain-ascii.eml",
  crlf([
    "Return-Path: <anna@example.net>",
    "Date: Mon, 04 Mar 2019 05:06:07 +0000",
    "From: Anna Example <anna@example.net>",
    "To: Alice <alice@example.com>",
    "Subject: Lunch on Thursday?",
    "Message-ID: <plain-ascii-1@example.net>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "Content-Transfer-Encoding: 7bit",
    "",
    "Hi Alice,",
    "",
    "are you free for lunch on Thursday? The usual place at noon.",
    "",
    "Anna",
  ]),
);

write("tiny.eml", crlf(["From: t@example.net", "Subject: t", "Message-ID: <tiny-1@example.net>", "", "."]));

write(
  "multipart-alternative.eml",
  crlf([
    "Date: Tue, 15 Oct 2024 09:30:00 +0200",
    "From: Newsletter <news@example.org>",
    "To: alice@example.com",
    "Subject: October update",
    "Message-ID: <alt-2024-10@example.org>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/alternative; boundary="=_alt_boundary_42"',
    "",
    "This is a multi-part message in MIME format.",
    "",
    "--=_alt_boundary_42",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Our October update: three new features and one fix.",
    "Read it in a browser if this looks plain.",
    "",
    "--=_alt_boundary_42",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "<html><body><h1>October update</h1><p>Three new features and one fix.</p>=",
    '<p style=3D"color:#333">Thanks for reading.</p></body></html>',
    "",
    "--=_alt_boundary_42--",
  ]),
);

write(
  "attachment-binary.eml",
  crlf([
    "Date: Wed, 05 Jun 2024 16:45:10 +0000",
    "From: Bob <bob@example.net>",
    "To: Alice <alice@example.com>",
    "Subject: The signed contract",
    "Message-ID: <attachment-binary-1@example.net>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="mixed-7f3a"',
    "",
    "--mixed-7f3a",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "Attached, signed on both pages.",
    "",
    "--mixed-7f3a",
    'Content-Type: application/pdf; name="contract.pdf"',
    "Content-Transfer-Encoding: base64",
    'Content-Disposition: attachment; filename="contract.pdf"',
    "",
    ...base64Lines(Buffer.concat([Buffer.from("%PDF-1.4\n"), bytes("contract.pdf", 24_000)])),
    "",
    "--mixed-7f3a",
    'Content-Type: image/png; name="stamp.png"',
    "Content-Transfer-Encoding: base64",
    'Content-Disposition: inline; filename="stamp.png"',
    "",
    ...base64Lines(
      Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        bytes("stamp.png", 3_000),
      ]),
    ),
    "",
    "--mixed-7f3a--",
  ]),
);

write(
  "utf8-8bit-body.eml",
  crlf([
    "Date: Fri, 20 Dec 2024 18:00:00 +0100",
    "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>",
    "To: alice@example.com",
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_zum_Jahresende?=",
    "Message-ID: <utf8-8bit-1@example.de>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    "Liebe Alice,",
    "",
    "schöne Grüße aus Köln – wir wünschen frohe Festtage! ☃️🎄",
    "Ελληνικά, русский, 日本語, עברית, العربية: alles in einer Nachricht.",
    "",
    "Jürgen",
  ]),
);

write(
  "rfc2047-headers.eml",
  crlf([
    "Date: Thu, 11 Jan 2024 08:15:00 -0500",
    "From: =?ISO-8859-1?Q?Fran=E7ois_Lef=E8vre?= <francois@example.fr>",
    "To: =?UTF-8?B?QWxpY2UgV29uZGVybGFuZA==?= <alice@example.com>",
    "Subject: =?UTF-8?B?UsOpdW5pb24gZGUgbOKAmcOpcXVpcGUg4oCTIG5vdXZlbGxlIGRhdGU=?=",
    " =?UTF-8?Q?_=F0=9F=93=85?=",
    "Message-ID: <rfc2047-1@example.fr>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=iso-8859-1",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "La r=E9union est d=E9plac=E9e =E0 jeudi.",
  ]),
);

const longLine = Array.from({ length: 1_300 }, (_, index) => `word${index}`).join(" ");
write(
  "long-line.eml",
  crlf([
    "Date: Sat, 02 Mar 2024 12:00:00 +0000",
    "From: Logger <logs@example.net>",
    "To: alice@example.com",
    "Subject: A very long unfolded line",
    "Message-ID: <long-line-1@example.net>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "The next line is longer than 10,000 characters and is not folded:",
    longLine,
    "End.",
  ]),
);

write(
  "no-message-id-1.eml",
  crlf([
    "Date: Sun, 07 Jul 2019 07:07:07 +0000",
    "From: Old System <noreply@legacy.example>",
    "To: alice@example.com",
    "Subject: Nightly report (no Message-ID)",
    "",
    "Jobs run: 14. Jobs failed: 0.",
  ]),
);

write(
  "no-message-id-2.eml",
  crlf([
    "Date: Mon, 08 Jul 2019 07:07:07 +0000",
    "From: Old System <noreply@legacy.example>",
    "To: alice@example.com",
    "Subject: Nightly report (no Message-ID)",
    "",
    "Jobs run: 14. Jobs failed: 1.",
  ]),
);

write(
  "malformed-message-id.eml",
  crlf([
    "Date: Wed, 10 Jan 2018 09:00:00 +0000",
    "From: Scanner <scanner@office.example>",
    "To: alice@example.com",
    "Subject: Scanned document",
    // No angle brackets and no "@": a copier's counter, the same on every device of that make.
    "Message-ID: 4711",
    "",
    "Your scan is ready.",
  ]),
);

// Two different messages whose every header and size agree: only their bodies tell them apart.
for (const [name, body] of [
  ["same-headers-a.eml", "Total due: 4,000 EUR."],
  ["same-headers-b.eml", "Total due: 9,000 EUR."],
] as const) {
  write(
    name,
    crlf([
      "Received: from mx.example.org by mail.example.com; Thu, 11 Apr 2024 08:00:00 +0000",
      "Date: Thu, 11 Apr 2024 08:00:00 +0000",
      "From: Billing <billing@example.org>",
      "To: alice@example.com",
      "Subject: Invoice",
      "Message-ID: <invoice@example.org>",
      "",
      body,
    ]),
  );
}

for (const [name, body] of [
  ["duplicate-message-id-a.eml", "First version of the minutes."],
  ["duplicate-message-id-b.eml", "Second, corrected version of the minutes: the budget is 12,000."],
] as const) {
  write(
    name,
    crlf([
      "Date: Tue, 09 Apr 2024 14:00:00 +0000",
      "From: Secretary <secretary@example.org>",
      "To: alice@example.com",
      "Subject: Minutes",
      // Both files carry this id on purpose: some servers and tools assign the same one twice.
      "Message-ID: <same-id-twice@example.org>",
      "",
      body,
    ]),
  );
}

write(
  "nested-multipart.eml",
  crlf([
    "Date: Wed, 01 May 2024 10:00:00 +0000",
    "From: Carol <carol@example.net>",
    "To: alice@example.com",
    "Subject: Fwd: Draft with everything",
    "Message-ID: <nested-1@example.net>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "--outer",
    'Content-Type: multipart/alternative; boundary="inner"',
    "",
    "--inner",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "See the forwarded message below.",
    "--inner",
    "Content-Type: text/html; charset=us-ascii",
    "",
    "<p>See the forwarded message below.</p>",
    "--inner--",
    "",
    "--outer",
    "Content-Type: message/rfc822",
    "",
    "From: Dave <dave@example.net>",
    "Subject: Original",
    "Message-ID: <nested-original@example.net>",
    "",
    "The original text.",
    "",
    "--outer",
    'Content-Type: application/octet-stream; name="data.bin"',
    "Content-Transfer-Encoding: base64",
    "",
    ...base64Lines(bytes("data.bin", 600)),
    "--outer--",
  ]),
);

write(
  "large-1mb.eml",
  crlf([
    "Date: Thu, 28 Nov 2024 22:10:00 +0000",
    "From: Scanner <scanner@example.com>",
    "To: alice@example.com",
    "Subject: Scan of the archive box",
    "Message-ID: <large-1mb-1@example.com>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="scan"',
    "",
    "--scan",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "Scanned pages attached.",
    "--scan",
    'Content-Type: image/jpeg; name="scan.jpg"',
    "Content-Transfer-Encoding: base64",
    'Content-Disposition: attachment; filename="scan.jpg"',
    "",
    ...base64Lines(bytes("scan.jpg", 760_000)),
    "--scan--",
  ]),
);
