import type { JSX } from "solid-js";
import { createSignal, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { ImportPreview } from "../../api/types.ts";
import { formatBytes, pluralize } from "../../format.ts";
import { navigate } from "../../router.tsx";
import { DataTable } from "../../ui/data-table.tsx";
import { TextField } from "../../ui/field.tsx";
import { Icon } from "../../ui/icons.tsx";
import { Modal } from "../../ui/modal.tsx";
import { errorText, Spinner } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";

/**
 * Bulk import: pick a CSV, see what the server makes of it (row count, every bad row with its line,
 * column and reason), fix and re-pick, then confirm. Nothing is created until the confirm.
 */
export function ImportModal(props: { onClose: () => void }): JSX.Element {
  const [file, setFile] = createSignal<{ name: string; size: number; text: string } | null>(null);
  const [tag, setTag] = createSignal("");
  const [dryRun, setDryRun] = createSignal(true);
  const [preview, setPreview] = createSignal<ImportPreview | null>(null);
  const [previewing, setPreviewing] = createSignal(false);
  const [importing, setImporting] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  function importInput(csv: string) {
    return { csv, dryRun: dryRun(), ...(tag().trim() ? { tag: tag().trim() } : {}) };
  }

  async function choose(selected: File | undefined): Promise<void> {
    if (!selected) return;
    setError(null);
    setPreview(null);
    const text = await selected.text();
    setFile({ name: selected.name, size: selected.size, text });
    await runPreview();
  }

  async function runPreview(): Promise<void> {
    const current = file();
    if (!current) return;
    setPreviewing(true);
    setError(null);
    try {
      setPreview(await api.batches.preview.mutate(importInput(current.text)));
    } catch (e: unknown) {
      setError(errorText(e));
    } finally {
      setPreviewing(false);
    }
  }

  async function confirmImport(): Promise<void> {
    const current = file();
    if (!current) return;
    setImporting(true);
    setError(null);
    try {
      const result = await api.batches.import.mutate(importInput(current.text));
      toast(
        "success",
        `${pluralize(result.jobCount, "job")} imported`,
        `Batch “${result.batch.tag}”${dryRun() ? " · dry runs" : ""}`,
      );
      props.onClose();
      navigate(`/jobs?batch=${result.batch.id}`);
    } catch (e: unknown) {
      setError(errorText(e));
    } finally {
      setImporting(false);
    }
  }

  const canImport = () => Boolean(preview()?.ok) && !previewing() && !importing();

  return (
    <Modal
      title="Import jobs from CSV"
      wide
      onClose={props.onClose}
      footer={
        <>
          <a
            class="btn btn-ghost"
            href="/api/batches/template.csv"
            download="imapferry-template.csv"
            style={{ "margin-right": "auto" }}
          >
            <Icon name="download" /> Template
          </a>
          <button type="button" class="btn" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button
            type="button"
            class="btn btn-primary"
            disabled={!canImport()}
            onClick={() => void confirmImport()}
          >
            {importing()
              ? "Importing…"
              : preview()?.ok
                ? `Import ${pluralize(preview()?.rowCount ?? 0, "job")}`
                : "Import"}
          </button>
        </>
      }
    >
      <p class="muted">
        One row per mailbox: server ids, source and destination logins and passwords. Start from the{" "}
        <a href="/api/batches/template.csv" download="imapferry-template.csv">
          template
        </a>
        . All rows become one batch.
      </p>
      <div class="form-grid">
        <TextField
          label="Batch tag (optional)"
          name="tag"
          placeholder="e.g. acme-wave-1"
          value={tag()}
          onValue={setTag}
        />
        <label class="switch" style={{ "align-self": "end" }}>
          <input
            type="checkbox"
            name="dryRun"
            checked={dryRun()}
            onChange={(e) => setDryRun(e.currentTarget.checked)}
          />
          <span>
            <strong>Dry run</strong> <span class="muted small">(rows without a dryRun column)</span>
          </span>
        </label>
      </div>

      <label
        class="file-drop"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          void choose(e.dataTransfer?.files[0]);
        }}
      >
        <input
          type="file"
          name="csv"
          accept=".csv,text/csv"
          aria-label="CSV file"
          onChange={(e) => {
            void choose(e.currentTarget.files?.[0]);
            // Picking the same (fixed) file again must fire a change event.
            e.currentTarget.value = "";
          }}
        />
        <Icon name="file" class="icon-18" />
        <Show when={file()} fallback={<strong>Choose a CSV file</strong>}>
          {(f) => (
            <span>
              <strong>{f().name}</strong> <span class="muted">· {formatBytes(f().size)}</span>
            </span>
          )}
        </Show>
        <span class="muted small">{file() ? "Choose another file after fixing it" : "or drop it here"}</span>
      </label>

      <div aria-live="polite">
        <Show when={previewing()}>
          <div class="row muted">
            <Spinner label="Checking" /> Checking the file…
          </div>
        </Show>
        <Show when={error()}>
          <div class="callout callout-error" role="alert">
            {error()}
          </div>
        </Show>
        <Show when={!previewing() && preview()}>
          {(p) => (
            <div class="stack">
              <Show
                when={p().ok}
                fallback={
                  <div class="callout callout-error" data-import-preview="errors">
                    <strong>
                      {pluralize(p().rowCount, "row")}, {pluralize(p().errorCount, "problem")} to fix
                      {p().errorCount > p().errors.length
                        ? ` (the first ${p().errors.length} are listed)`
                        : ""}
                    </strong>{" "}
                    — nothing is imported until every row is valid.
                  </div>
                }
              >
                <div class="callout callout-ok" data-import-preview="ok">
                  <strong>{pluralize(p().rowCount, "row")} ready to import</strong>
                  {dryRun() ? " as dry runs" : " as real migrations"}.
                </div>
              </Show>
              <Show when={p().ok && p().sample.length > 0}>
                <DataTable
                  label="First rows"
                  wrapClass="card problems"
                  responsive={false}
                  rows={p().sample}
                  head={
                    <>
                      <th class="num">Line</th>
                      <th>Source</th>
                      <th>Destination</th>
                    </>
                  }
                >
                  {(row) => (
                    <tr>
                      <td class="num">{row.line}</td>
                      <td>
                        {row.sourceEmail} <span class="muted small">on {row.sourceServerName}</span>
                      </td>
                      <td>
                        {row.destEmail} <span class="muted small">on {row.destServerName}</span>
                      </td>
                    </tr>
                  )}
                </DataTable>
              </Show>
              <Show when={p().errors.length > 0}>
                <DataTable
                  label="Problems in the file"
                  wrapClass="card problems"
                  responsive={false}
                  rows={p().errors}
                  head={
                    <>
                      <th class="num">Line</th>
                      <th>Column</th>
                      <th>Reason</th>
                    </>
                  }
                >
                  {(problem) => (
                    <tr data-problem-line={problem.line}>
                      <td class="num">{problem.line}</td>
                      <td class="mono">{problem.column ?? "—"}</td>
                      <td>{problem.reason}</td>
                    </tr>
                  )}
                </DataTable>
              </Show>
            </div>
          )}
        </Show>
      </div>
    </Modal>
  );
}
