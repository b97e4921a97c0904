import type { JSX } from "solid-js";
import { createSignal, Match, Show, Switch } from "solid-js";
import { api } from "../../api/client.ts";
import type { ServerItem, ServerTestResult } from "../../api/types.ts";
import { TextField } from "../../ui/field.tsx";
import { Icon } from "../../ui/icons.tsx";
import { Modal, ModalFormFooter } from "../../ui/modal.tsx";
import { errorText, Spinner } from "../../ui/states.tsx";

/**
 * Connects to the server (TCP, TLS, greeting) and, when an account is given, logs in — the same
 * check a job's first seconds do, so a wrong port or certificate shows up before a batch is queued.
 */
export function ServerTestModal(props: { server: ServerItem; onClose: () => void }): JSX.Element {
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [result, setResult] = createSignal<ServerTestResult | null>(null);
  const [failure, setFailure] = createSignal<string | null>(null);

  // Which half of an account was missing when the test ran (the result says the login was not tried).
  const [untestedLogin, setUntestedLogin] = createSignal("no login or password");
  /** With admin credentials on the server, a login alone is tested as the admin logging in for it. */
  const byAdmin = () => props.server.admin !== null && email().trim() !== "" && !password();

  async function runTest(event?: SubmitEvent): Promise<void> {
    event?.preventDefault();
    setBusy(true);
    setResult(null);
    setFailure(null);
    setUntestedLogin(
      !email().trim() && !password() ? "no login or password" : !password() ? "no password" : "no login",
    );
    try {
      const login =
        email().trim() && password()
          ? { email: email().trim(), password: password() }
          : byAdmin()
            ? { email: email().trim() }
            : {};
      setResult(await api.servers.test.mutate({ id: props.server.id, ...login }));
    } catch (e: unknown) {
      setFailure(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  /** The operator checked the fingerprint: accept this server's certificate and test again. */
  async function trustAndRetest(): Promise<void> {
    setBusy(true);
    try {
      await api.servers.update.mutate({ id: props.server.id, acceptSelfSigned: true });
    } catch (e: unknown) {
      setBusy(false);
      setFailure(errorText(e));
      return;
    }
    await runTest();
  }

  return (
    <Modal
      title={`Test ${props.server.name}`}
      onClose={props.onClose}
      footer={
        <ModalFormFooter form="server-test-form" busy={busy()} onDismiss={props.onClose} dismissLabel="Close">
          <Show when={busy()} fallback={<Icon name="plug" />}>
            <Spinner label="Testing" />
          </Show>
          {busy() ? "Testing…" : "Test connection"}
        </ModalFormFooter>
      }
    >
      <p class="muted">
        <span class="mono">
          {props.server.host}:{props.server.port}
        </span>{" "}
        over {props.server.security.toUpperCase()}. Add an account to check the login as well (optional;
        nothing is stored).
        <Show when={props.server.admin}>
          {(admin) => {
            const current = admin();
            return "login" in current ? (
              <>
                {" "}
                A login without a password is tried as the admin <span class="mono">{current.login}</span>{" "}
                logging in for it.
              </>
            ) : (
              <> A login without a password is tried with an OAuth2 access token for it.</>
            );
          }}
        </Show>
      </p>
      <form id="server-test-form" class="form-grid" onSubmit={(e) => void runTest(e)} noValidate>
        <TextField
          label="Login (optional)"
          name="email"
          autocomplete="off"
          value={email()}
          onValue={setEmail}
        />
        <TextField
          label="Password (optional)"
          type="password"
          name="password"
          autocomplete="new-password"
          value={password()}
          onValue={setPassword}
        />
      </form>
      <div aria-live="polite">
        <Show when={result()}>
          {(r) => (
            <TestOutcome
              result={r()}
              untestedLogin={untestedLogin()}
              busy={busy()}
              onTrust={() => void trustAndRetest()}
            />
          )}
        </Show>
        <Show when={failure()}>
          <div class="callout callout-error" role="alert" data-test-result="error">
            {failure()}
          </div>
        </Show>
      </div>
    </Modal>
  );
}

const CATEGORY_LABELS: Record<string, string> = {
  dns: "Host not found",
  refused: "Connection refused",
  timeout: "Timed out",
  tls: "TLS problem",
  auth: "Login rejected",
  protocol: "Not an IMAP server",
  denied: "Host not allowed",
};

function TestOutcome(props: {
  result: ServerTestResult;
  /** Why no login was tried, when none was: "no password", "no login". */
  untestedLogin: string;
  busy: boolean;
  /** Accept the certificate shown with a TLS failure, and test again. */
  onTrust: () => void;
}): JSX.Element {
  return (
    <Switch>
      <Match when={!props.result.ok && props.result}>
        {(failed) => (
          <div class="callout callout-error" data-test-result="failed" data-category={failed().category}>
            <strong>{CATEGORY_LABELS[failed().category] ?? "Connection failed"}</strong>
            <div>{failed().sentence}</div>
            <Show when={failed().certificate}>
              {(certificate) => (
                <div class="stack" style={{ "margin-top": "8px" }} data-certificate>
                  <div class="small">
                    Certificate of <span class="mono">{certificate().subject || "(no subject)"}</span>, issued
                    by <span class="mono">{certificate().issuer || "(no issuer)"}</span>, valid until{" "}
                    {certificate().validTo}.
                  </div>
                  <div class="small">
                    SHA-256 fingerprint:{" "}
                    <span class="mono break-all" data-fingerprint>
                      {certificate().sha256}
                    </span>
                  </div>
                  <div>
                    <button
                      type="button"
                      class="btn btn-sm"
                      disabled={props.busy}
                      onClick={() => props.onTrust()}
                    >
                      Trust this certificate and retest
                    </button>
                  </div>
                </div>
              )}
            </Show>
          </div>
        )}
      </Match>
      <Match when={props.result.ok && props.result}>
        {(ok) => (
          <div class="callout callout-ok" data-test-result="ok">
            <strong>
              {ok().authenticated
                ? "Connected and logged in"
                : `Reached the server; the login was not tested (${props.untestedLogin})`}
            </strong>
            <div>
              The server answered in {ok().latencyMs} ms
              {ok().authenticated ? " and accepted the login" : ""}.{" "}
              <Show when={ok().capabilities.length > 0}>
                <span class="muted small">Capabilities: {ok().capabilities.slice(0, 8).join(" ")}</span>
              </Show>
            </div>
          </div>
        )}
      </Match>
    </Switch>
  );
}
