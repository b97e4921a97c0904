export type { ReceivedMail, SmtpTestServer, StartSmtpServerOptions } from "./smtp-server.ts";
export { startSmtpServer } from "./smtp-server.ts";
