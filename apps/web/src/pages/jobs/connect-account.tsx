import type { JSX } from "solid-js";
import { createSignal, onCleanup, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { ServerItem } from "../../api/types.ts";
import { errorText } from "../../ui/states.tsx";

/** A mailbox owner's finished sign-in, for one side's server. */
export interface ConnectedAccount {
  id: number;
  serverId: number;
  account: string | null;
}

/** What /oauth2/callback's page posts when the sign-in went through (same origin). */
const CONNECT_CHANNEL = "imapferry-oauth2";
const PROVIDER_NAMES = { google: "Google", microsoft: "Microsoft" } as const;

/**
 * "Connect with Google / Microsoft" for one side of a job: opens the provider's sign-in in a window,
 * waits for imapferry's callback page to say it is done, and hands the connection to the form (the job
 * takes it instead of a password).
 */
export function ConnectAccount(props: {
  server: ServerItem | undefined;
  login: string;
  connected: ConnectedAccount | null;
  onChange: (connected: ConnectedAccount | null) => void;
}): JSX.Element {
  const [waitingFor, setWaitingFor] = createSignal<{ id: number; url: string } | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const channel = new BroadcastChannel(CONNECT_CHANNEL);
  onCleanup(() => channel.close());

  async function check(id: number): Promise<void> {
    const connection = await api.oauth2.connect.get.query({ id });
    if (connection.status === "connected") {
      setWaitingFor(null);
      props.onChange({ id, serverId: connection.serverId, account: connection.account });
    } else if (connection.status !== "pending") {
      setWaitingFor(null);
      setError(connection.error ?? `The sign-in is ${connection.status}. Connect again.`);
    }
  }
  channel.onmessage = (event: MessageEvent<{ connectionId?: number }>) => {
    const waiting = waitingFor();
    if (waiting && event.data.connectionId === waiting.id)
      void check(waiting.id).catch((e) => setError(errorText(e)));
  };

  async function connect(server: ServerItem): Promise<void> {
    setError(null);
    // Opened within the click (popup blockers), pointed at the provider once imapferry has the URL.
    const popup = window.open("", "imapferry-connect", "popup,width=520,height=720");
    try {
      const started = await api.oauth2.connect.start.mutate({
        serverId: server.id,
        ...(props.login.trim() ? { loginHint: props.login.trim() } : {}),
      });
      setWaitingFor({ id: started.id, url: started.authorizeUrl });
      if (popup) popup.location.href = started.authorizeUrl;
    } catch (e: unknown) {
      popup?.close();
      setError(errorText(e));
    }
  }

  return (
    <Show when={props.server?.connect ? props.server : undefined}>
      {(server) => {
        const provider = () => PROVIDER_NAMES[server().connect?.provider ?? "google"];
        return (
          <div class="connect-account" data-connect-account>
            <Show
              when={props.connected}
              fallback={
                <div class="row">
                  <button type="button" class="btn" onClick={() => void connect(server())}>
                    Connect with {provider()}
                  </button>
                  <Show when={waitingFor()}>
                    {(waiting) => (
                      <span class="small muted" role="status">
                        Waiting for the sign-in in the other window…{" "}
                        <a href={waiting().url} target="_blank" rel="noopener">
                          Open it again
                        </a>{" "}
                        <button
                          type="button"
                          class="btn btn-ghost btn-sm"
                          onClick={() => void check(waiting().id)}
                        >
                          I have signed in
                        </button>
                      </span>
                    )}
                  </Show>
                </div>
              }
            >
              {(connected) => (
                <div class="row" role="status">
                  <span class="tag tag-ok">
                    Connected with {provider()}
                    {connected().account ? ` as ${connected().account}` : ""}
                  </span>
                  <button type="button" class="btn btn-ghost btn-sm" onClick={() => props.onChange(null)}>
                    Use a password instead
                  </button>
                </div>
              )}
            </Show>
            <Show when={error()}>
              <div class="form-error" role="alert">
                {error()}
              </div>
            </Show>
          </div>
        );
      }}
    </Show>
  );
}
