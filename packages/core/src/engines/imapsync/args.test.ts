import { describe, expect, it } from "vitest";
import { catchImapferryError } from "../../../test/support/catch-imapferry-error.ts";
import { engineOptionsSchema, parseEngineOptions } from "../options.ts";
import type { MigrationSpec } from "../types.ts";
import { ALWAYS_ARGS, buildImapsyncArgs, encodeImapFolderName, engineEnv, FORBIDDEN_ARGS } from "./args.ts";

const SOURCE_PASSWORD = "s3cret-source-pw";
const DEST_PASSWORD = "s3cret-dest-pw";

function spec(overrides: Partial<MigrationSpec> = {}): MigrationSpec {
  return {
    source: {
      host: "imap.old.example",
      port: 993,
      security: "tls",
      acceptSelfSigned: false,
      user: "alice@old.example",
      password: SOURCE_PASSWORD,
    },
    destination: {
      host: "127.0.0.1",
      port: 143,
      security: "starttls",
      acceptSelfSigned: true,
      user: "alice@new.example",
      password: DEST_PASSWORD,
    },
    dryRun: false,
    options: {},
    ...overrides,
  };
}

/** Where buildImapsyncArgs says the spec is wrong (the first problem's field path). */
function firstProblemPath(s: MigrationSpec): (string | number)[] | undefined {
  return catchImapferryError(() => buildImapsyncArgs(s)).problems[0]?.path;
}

describe("buildImapsyncArgs", () => {
  it("builds hosts, ports, users and TLS modes, always with --noreleasecheck --nofoldersizes, never a password", () => {
    const args = buildImapsyncArgs(spec());
    expect(args).toEqual([
      "--host1",
      "imap.old.example",
      "--port1",
      "993",
      "--user1",
      "alice@old.example",
      "--ssl1",
      "--sslargs1",
      "SSL_verify_mode=1",
      "--host2",
      "127.0.0.1",
      "--port2",
      "143",
      "--user2",
      "alice@new.example",
      "--tls2",
      "--sslargs2",
      "SSL_verify_mode=0",
      // On by default for imapsync: it leaves messages without a Message-ID behind otherwise.
      "--addheader",
      ...ALWAYS_ARGS,
    ]);
    expect(args).toContain("--noreleasecheck");
    expect(args).toContain("--nofoldersizes");
    expect(args.join(" ")).not.toContain(SOURCE_PASSWORD);
    expect(args.join(" ")).not.toContain(DEST_PASSWORD);
    for (const forbidden of FORBIDDEN_ARGS) expect(args).not.toContain(forbidden);
  });

  it("puts the passwords in the environment only", () => {
    expect(engineEnv(spec())).toEqual({
      IMAPSYNC_PASSWORD1: SOURCE_PASSWORD,
      IMAPSYNC_PASSWORD2: DEST_PASSWORD,
    });
  });

  it("names an OAuth2 side's token file, never a token, and gives imapsync a placeholder password for it", () => {
    const s = spec();
    s.source = { ...s.source, password: "", accessTokenFile: "/tmp/imapferry-tokens-x/source.token" };
    const args = buildImapsyncArgs(s);
    const at = args.indexOf("--oauthaccesstoken1");
    expect(args.slice(at, at + 2)).toEqual(["--oauthaccesstoken1", "/tmp/imapferry-tokens-x/source.token"]);
    expect(args).not.toContain("--oauthaccesstoken2");
    expect(engineEnv(s)).toEqual({ IMAPSYNC_PASSWORD1: "x", IMAPSYNC_PASSWORD2: DEST_PASSWORD });
    s.source.accessTokenFile = "ya29.a-token-itself";
    expect(firstProblemPath(s)).toEqual(["source", "accessTokenFile"]);
  });

  it("turns off imapsync's automatic STARTTLS for a plain-IMAP server, with no certificate arguments", () => {
    const s = spec();
    s.source.security = "none";
    const args = buildImapsyncArgs(s);
    expect(args.slice(0, 8)).toEqual([
      "--host1",
      "imap.old.example",
      "--port1",
      "993",
      "--user1",
      "alice@old.example",
      "--nossl1",
      "--notls1",
    ]);
    expect(args).not.toContain("--sslargs1");
  });

  it("adds --dry, and --justlogin without any other option", () => {
    expect(buildImapsyncArgs(spec({ dryRun: true }))).toContain("--dry");
    const args = buildImapsyncArgs(spec({ justLogin: true, options: { automap: true, folders: ["INBOX"] } }));
    expect(args).toContain("--justlogin");
    expect(args).not.toContain("--automap");
    expect(args).not.toContain("--folder");
  });

  it("maps every allow-listed option to its imapsync flag", () => {
    const args = buildImapsyncArgs(
      spec({
        options: {
          folders: ["INBOX", "Entwürfe"],
          excludeFolders: ["Spam", "Junk.E-mail [old]"],
          folderMap: [{ from: "Sent Items", to: "Sent" }],
          destinationSubfolder: "Imported",
          automap: true,
          addHeader: true,
          deleteOnDestination: true,
          subscribedOnly: true,
          subscribeAll: true,
          justFolders: true,
          skipEmptyFolders: true,
          skipSize: true,
          maxBytesPerSecond: 500000,
          maxMessagesPerSecond: 2.5,
          maxMessageBytes: 50000000,
          minMessageBytes: 10,
          maxAgeDays: 365,
          minAgeDays: 1,
          errorsMax: 10,
          timeoutSeconds: 60,
          stopAfterBytes: 1000000000,
          sourcePreset: "gmail",
          destinationPreset: "office365",
        },
      }),
    );
    const tail = args.slice(args.indexOf("--folder"), -ALWAYS_ARGS.length);
    expect(tail).toEqual([
      "--folder",
      "INBOX",
      "--folder",
      "Entw&APw-rfe",
      "--exclude",
      "^Spam$",
      "--exclude",
      "^Junk\\.E\\-mail\\ \\[old\\]$",
      "--f1f2",
      "Sent Items=Sent",
      "--subfolder2",
      "Imported",
      "--automap",
      "--addheader",
      "--delete2",
      "--subscribed",
      "--subscribeall",
      "--justfolders",
      "--skipemptyfolders",
      "--skipsize",
      "--maxbytespersecond",
      "500000",
      "--maxmessagespersecond",
      "2.5",
      "--maxsize",
      "50000000",
      "--minsize",
      "10",
      "--maxage",
      "365",
      "--minage",
      "1",
      "--errorsmax",
      "10",
      "--timeout1",
      "60",
      "--timeout2",
      "60",
      "--exitwhenover",
      "1000000000",
      "--gmail1",
      "--office2",
    ]);
  });

  it("passes --addheader to imapsync unless turned off, and never to the built-in engine, which copies such messages unchanged", () => {
    expect(buildImapsyncArgs(spec())).toContain("--addheader");
    expect(buildImapsyncArgs(spec({ options: { addHeader: false } }))).not.toContain("--addheader");
    expect(buildImapsyncArgs(spec(), "builtin")).not.toContain("--addheader");
    expect(buildImapsyncArgs(spec({ options: { addHeader: true } }), "builtin")).not.toContain("--addheader");
  });

  it("gives each engine the job's retries left: --retries to the built-in engine, a per-command reconnection cap to imapsync", () => {
    const args = (retriesLeft: number, engine: "builtin" | "imapsync") =>
      buildImapsyncArgs(spec({ retriesLeft }), engine).join(" ");
    expect(args(5, "builtin")).toContain("--retries 5");
    expect(args(5, "builtin")).not.toContain("--reconnectretry");
    expect(args(5, "imapsync")).toContain("--reconnectretry1 3 --reconnectretry2 3");
    expect(args(1, "imapsync")).toContain("--reconnectretry1 1 --reconnectretry2 1");
    expect(args(0, "imapsync")).toContain("--reconnectretry1 0 --reconnectretry2 0");
    expect(args(2, "imapsync")).not.toContain("--retries");
    expect(buildImapsyncArgs(spec(), "imapsync").join(" ")).not.toContain("--reconnectretry");
  });

  it("leaves --delete2 off unless asked", () => {
    expect(buildImapsyncArgs(spec())).not.toContain("--delete2");
    expect(parseEngineOptions({}).deleteOnDestination).toBe(false);
  });

  it.each([
    [{ pipemess: "cat" }, "pipemess"],
    [{ regexmess: "s/a/b/" }, "regexmess"],
    [{ regextrans2: "s/INBOX/X/" }, "regextrans2"],
    [{ debugenv: true }, "debugenv"],
    [{ showpasswords: true }, "showpasswords"],
    [{ delete1: true }, "delete1"],
    [{ password1: "x" }, "password1"],
  ])("refuses %o: options outside the allow-list never reach argv", (options, key) => {
    const err = catchImapferryError(() => buildImapsyncArgs(spec({ options })));
    expect(err.code).toBe("BAD_INPUT");
    expect(err.problems[0]?.path).toEqual([key]);
    expect(err.message).toContain(`"${key}" is not an allowed engine option`);
  });

  it.each([
    [{ folders: ["--pipemess"] }, "folders"],
    [{ excludeFolders: ["a\nb"] }, "excludeFolders"],
    [{ maxBytesPerSecond: -1 }, "maxBytesPerSecond"],
    [{ maxBytesPerSecond: "100; rm -rf /" }, "maxBytesPerSecond"],
    [{ maxAgeDays: 1.5 }, "maxAgeDays"],
    [{ automap: "yes" }, "automap"],
    [{ sourcePreset: "yahoo" }, "sourcePreset"],
    [{ folderMap: [{ from: "a=b", to: "c" }] }, "folderMap"],
    [{ minMessageBytes: 10, maxMessageBytes: 5 }, "minMessageBytes"],
  ])("validates values instead of quoting them: %o", (options, field) => {
    const err = catchImapferryError(() => buildImapsyncArgs(spec({ options })));
    expect(err.code).toBe("BAD_INPUT");
    expect(err.problems[0]?.path[0]).toBe(field);
  });

  it("refuses a host, port or user that could be read as something else", () => {
    const badHost = spec();
    badHost.source.host = "--pipemess";
    expect(firstProblemPath(badHost)).toEqual(["source", "host"]);
    const badPort = spec();
    badPort.destination.port = 70000;
    expect(firstProblemPath(badPort)).toEqual(["destination", "port"]);
    const badUser = spec();
    badUser.source.user = "-x";
    expect(firstProblemPath(badUser)).toEqual(["source", "user"]);
    const ipv6 = spec();
    ipv6.source.host = "::1";
    expect(buildImapsyncArgs(ipv6)).toContain("::1");
  });

  it("exports the schema the API and the panel share, with defaults", () => {
    const parsed = engineOptionsSchema.parse({ folders: ["INBOX"] });
    expect(parsed).toMatchObject({
      folders: ["INBOX"],
      automap: false,
      addHeader: true,
      deleteOnDestination: false,
    });
  });
});

describe("encodeImapFolderName", () => {
  it("encodes UTF-8 names to modified UTF-7 and leaves IMAP names alone", () => {
    expect(encodeImapFolderName("Entwürfe")).toBe("Entw&APw-rfe");
    expect(encodeImapFolderName("Projects/Ω-team")).toBe("Projects/&A6k--team");
    expect(encodeImapFolderName("Entw&APw-rfe")).toBe("Entw&APw-rfe");
    expect(encodeImapFolderName("Ü & Co")).toBe("&ANw- &- Co");
    expect(encodeImapFolderName("日本語")).toBe("&ZeVnLIqe-");
  });
});
