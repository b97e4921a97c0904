import type { JSX } from "solid-js";
import { createResource, createSignal, Show } from "solid-js";
import { api } from "../../api/client.ts";
import { errorProblems } from "../../api/errors.ts";
import type { ApiTokenItem } from "../../api/types.ts";
import { ConfirmDialog } from "../../ui/confirm.tsx";
import { DataTable } from "../../ui/data-table.tsx";
import { DateTime } from "../../ui/date-time.tsx";
import { Icon } from "../../ui/icons.tsx";
import { OneTimeSecret } from "../../ui/one-time-secret.tsx";
import { errorText, LoadStates } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";

/**
 * API tokens for the SDK (a hosting control panel, a script). A new token is shown once, right
 * after it is created: only its hash is stored.
 */
export function TokensCard(): JSX.Element {
  const [tokens, { refetch }] = createResource(async function loadTokens(): Promise<ApiTokenItem[]> {
    return api.tokens.list.query();
  });
  const [name, setName] = createSignal("");
  /** Days until the new token expires; "" for never. */
  const [expiresInDays, setExpiresInDays] = createSignal("90");
  /** What the new token may do; a panel or script rarely needs more than to operate jobs. */
  const [role, setRole] = createSignal<ApiTokenItem["role"]>("operate");
  /** The tenant the new token is bound to; "" for every tenant. */
  const [tenant, setTenant] = createSignal("");
  const [tenantError, setTenantError] = createSignal<string | null>(null);
  const [nameError, setNameError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [created, setCreated] = createSignal<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = createSignal<ApiTokenItem | null>(null);

  async function create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setNameError(null);
    setTenantError(null);
    try {
      const days = Number(expiresInDays());
      const result = await api.tokens.create.mutate({
        name: name(),
        role: role(),
        ...(tenant().trim() ? { tenant: tenant().trim() } : {}),
        ...(expiresInDays() ? { expiresInDays: days } : {}),
      });
      setCreated({ name: result.apiToken.name, token: result.token });
      setName("");
      setTenant("");
      void refetch();
    } catch (e: unknown) {
      const problem = errorProblems(e)[0];
      if (problem?.path[0] === "tenant") setTenantError(problem.message);
      else setNameError(problem?.message ?? errorText(e));
    } finally {
      setBusy(false);
    }
  }

  async function revoke(token: ApiTokenItem): Promise<void> {
    try {
      await api.tokens.revoke.mutate({ id: token.id });
      toast("success", "Token revoked", token.name);
      void refetch();
    } catch (e: unknown) {
      toast("error", "Could not revoke the token", errorText(e));
      throw e;
    }
  }

  const active = () => (tokens.latest ?? []).filter((t) => !t.revokedAt);

  return (
    <div class="card">
      <div class="card-head">
        <h2>API tokens</h2>
        <span class="muted small">
          For @imapferry/sdk and the REST API: Authorization: Bearer …. Read tokens only look; operate tokens
          also create, cancel and rerun jobs and batches; admin tokens also change servers and settings. A
          token bound to a tenant sees only that tenant's jobs and batches. A password reset revokes them all.
        </span>
      </div>
      <div class="card-body stack">
        <Show when={created()}>
          {(c) => (
            <OneTimeSecret
              heading={
                <>
                  <strong>Token “{c().name}” created.</strong> Copy it now: it is not shown again.
                </>
              }
              value={c().token}
              noun="Token"
              marker="data-new-token"
              onDone={() => setCreated(null)}
            />
          )}
        </Show>
        <form class="row" onSubmit={(e) => void create(e)} noValidate style={{ "align-items": "flex-start" }}>
          <div class="field" style={{ flex: "1 1 220px" }}>
            <label for="token-name" class="sr-only">
              Token name
            </label>
            <input
              id="token-name"
              class="input"
              name="tokenName"
              placeholder="Name, e.g. hosting panel"
              value={name()}
              aria-invalid={Boolean(nameError())}
              onInput={(e) => setName(e.currentTarget.value)}
            />
            <Show when={nameError()}>
              <div class="error">{nameError()}</div>
            </Show>
          </div>
          <div class="field">
            <label for="token-role" class="sr-only">
              Role
            </label>
            <select
              id="token-role"
              class="select"
              name="role"
              value={role()}
              onChange={(e) => setRole(e.currentTarget.value as ApiTokenItem["role"])}
            >
              <option value="read">Read only</option>
              <option value="operate">Operate jobs and batches</option>
              <option value="admin">Admin</option>
            </select>
          </div>
          <div class="field" style={{ flex: "0 1 180px" }}>
            <label for="token-tenant" class="sr-only">
              Tenant
            </label>
            <input
              id="token-tenant"
              class="input"
              name="tenant"
              placeholder="Tenant (empty: all)"
              value={tenant()}
              aria-invalid={Boolean(tenantError())}
              onInput={(e) => setTenant(e.currentTarget.value)}
            />
            <Show when={tenantError()}>
              <div class="error">{tenantError()}</div>
            </Show>
          </div>
          <div class="field">
            <label for="token-expiry" class="sr-only">
              Expires
            </label>
            <select
              id="token-expiry"
              class="select"
              name="expiresInDays"
              value={expiresInDays()}
              onChange={(e) => setExpiresInDays(e.currentTarget.value)}
            >
              <option value="30">Expires in 30 days</option>
              <option value="90">Expires in 90 days</option>
              <option value="365">Expires in a year</option>
              <option value="">Never expires</option>
            </select>
          </div>
          <button type="submit" class="btn" disabled={busy()}>
            <Icon name="plus" /> Create token
          </button>
        </form>
        <LoadStates
          failed={tokens.error && !tokens.latest}
          error={tokens.error}
          errorTitle="Could not load the tokens"
          onRetry={() => void refetch()}
          loading={!tokens.latest}
          loadingLabel="Loading tokens…"
          empty={active().length === 0}
          emptyState={
            <p class="muted small">No active token. Create one for each system that calls the API.</p>
          }
          ready={active().length > 0}
        >
          {() => (
            <DataTable
              label="API tokens"
              rows={active()}
              head={
                <>
                  <th>Name</th>
                  <th>Token</th>
                  <th>Role</th>
                  <th>Tenant</th>
                  <th>Created</th>
                  <th>Last used</th>
                  <th>Expires</th>
                  <th class="actions">
                    <span class="sr-only">Actions</span>
                  </th>
                </>
              }
            >
              {(token) => (
                <tr>
                  <td class="cell-main">
                    <strong>{token.name}</strong>
                  </td>
                  <td data-label="Token" class="mono">
                    {token.prefix}…
                  </td>
                  <td data-label="Role">{token.role}</td>
                  <td data-label="Tenant" class="muted">
                    {token.tenant ?? "all"}
                  </td>
                  <td data-label="Created" class="nowrap muted">
                    <DateTime value={token.createdAt} />
                  </td>
                  <td data-label="Last used" class="nowrap muted">
                    <DateTime value={token.lastUsedAt} relative />
                  </td>
                  <td data-label="Expires" class="nowrap muted">
                    <Show when={token.expiresAt} fallback="never">
                      <DateTime value={token.expiresAt} />
                    </Show>
                  </td>
                  <td class="actions">
                    <button type="button" class="btn btn-sm btn-danger" onClick={() => setRevoking(token)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              )}
            </DataTable>
          )}
        </LoadStates>
      </div>
      <Show when={revoking()}>
        {(token) => (
          <ConfirmDialog
            title="Revoke this token?"
            danger
            confirmLabel="Revoke"
            message={
              <p>
                Requests with <strong>{token().name}</strong> ({token().prefix}…) fail from now on.
              </p>
            }
            onConfirm={() => revoke(token())}
            onClose={() => setRevoking(null)}
          />
        )}
      </Show>
    </div>
  );
}
