import type { JSX } from "solid-js";
import { createSignal, Show } from "solid-js";
import { logIn } from "../session.ts";
import { BrandMark } from "../ui/brand-mark.tsx";
import { TextField } from "../ui/field.tsx";
import { Icon } from "../ui/icons.tsx";
import { errorText } from "../ui/states.tsx";

export function LoginPage(): JSX.Element {
  const [username, setUsername] = createSignal("admin");
  const [password, setPassword] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function handleSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    if (!username().trim() || !password()) {
      setError("Enter your username and password.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await logIn(username().trim(), password());
    } catch (e: unknown) {
      setError(errorText(e));
      setPassword("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="login-page">
      <form
        class="card login-card"
        onSubmit={(e) => void handleSubmit(e)}
        aria-labelledby="login-title"
        noValidate
      >
        <div class="brand">
          <BrandMark />
          imapferry
        </div>
        <div>
          <h1 id="login-title">Sign in</h1>
          <p class="muted" style={{ "margin-top": "4px" }}>
            Mailbox migrations, queued, watched and rerun.
          </p>
        </div>
        <Show when={error()}>
          <div class="form-error" role="alert">
            {error()}
          </div>
        </Show>
        <TextField
          label="Username"
          name="username"
          autocomplete="username"
          value={username()}
          onValue={setUsername}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autocomplete="current-password"
          value={password()}
          onValue={setPassword}
          autofocus
        />
        <button type="submit" class="btn btn-primary" disabled={busy()} style={{ height: "40px" }}>
          {busy() ? "Signing in…" : "Sign in"}
        </button>
        <div class="callout small" style={{ display: "flex", gap: "8px" }}>
          <Icon name="info" class="icon-18" />
          <span>
            First run? Sign in as <strong>admin</strong> with the initial password that was printed on the
            server console when imapferry started for the first time. Lost it? Run{" "}
            <code>imapferry users reset-password admin</code>.
          </span>
        </div>
      </form>
    </div>
  );
}
