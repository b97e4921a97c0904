// The attacker of the request-limits test, in a process of its own so that building and sending its
// bodies does not load the server's process: POSTs `count` bodies of `levels` nested JSON arrays
// (2 * levels bytes) to `url` at once, and prints each answer's status line as one JSON array.
import net from "node:net";

const [url, levelsText, countText] = process.argv.slice(2);
const target = new URL(url);
const levels = Number(levelsText);
const count = Number(countText);
const open = Buffer.alloc(1024 * 1024, "[");
const close = Buffer.alloc(1024 * 1024, "]");

function flood() {
  return new Promise((resolve) => {
    const socket = net.connect(Number(target.port), target.hostname);
    let answer = "";
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? "no answer");
    };
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n\r\n")) finish();
    });
    socket.on("error", finish);
    socket.on("close", finish);
    socket.on("connect", async () => {
      socket.write(
        `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\nContent-Length: ${2 * levels}\r\n\r\n`,
      );
      for (const piece of [open, close]) {
        for (let sent = 0; sent < levels && !finished; sent += piece.length) {
          const part = piece.subarray(0, Math.min(piece.length, levels - sent));
          if (!socket.write(part)) await new Promise((r) => socket.once("drain", r));
        }
      }
    });
  });
}

const statuses = await Promise.all(Array.from({ length: count }, flood));
process.stdout.write(JSON.stringify(statuses));
