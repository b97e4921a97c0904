import type { JSX } from "solid-js";
import { createSignal, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { ImportPreview, ImportResult } from "../../api/types.ts";
import { formatBytes, pluralize } from "../../format.ts";
import { navigate } from "../../router.tsx";
import { DataTable } from "../../ui/data-table.tsx";
import { TextField } from "../../ui/field.tsx";
import { Icon } from "../../ui/icons.tsx";
import { Modal } from "../../ui/modal.tsx";
import { errorText, Spinner } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { optionLabel } from "./job-facts-card.tsx";
import { rejectedRowsCsv } from "./rejected-rows-csv.ts";

/** "2 real migrations (they copy mail) and 1 dry run (it only connects and counts)". */
export function describeRuns(counts: { realCount: number; dryRunCount: number }): string {
  const parts: string[] = [];
  if (counts.realCount > 0)
    parts.push(
      `${pluralize(counts.realCount, "real migration")} (${counts.realCount === 1 ? "it copies" : "they copy"} mail)`,
    );
  if (counts.dryRunCount > 0)
    parts.push(
      `${pluralize(counts.dryRunCount, "dry run")} (${counts.dryRunCount === 1 ? "it only connects" : "they only connect"} and ${counts.dryRunCount === 1 ? "counts" : "count"})`,
    );
  return parts.join(" and ");
}

/** Saves text as a file the browser downloads. */
function saveText(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Bulk import: pick a CSV, see what the server makes of it (row count, every bad row with its line,
 * column and reason), fix and re-pick, then confirm. Nothing is created until the confirm.
 */
export function ImportModal(props: { onClose: () => void }): JSX.Element {
  const [file, setFile] = createSignal<{ name: string; size: number; text: string } | null>(null);
  const [tag, setTag] = createSignal("");
  const [dryRun, setDryRun] = createSignal(true);
  const [verifyLogins, setVerifyLogins] = createSignal(false);
  const [preview, setPreview] = createSignal<ImportPreview | null>(null);
  const [previewing, setPreviewing] = createSignal(false);
  const [importing, setImporting] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  /** After importing the valid rows of a file with bad ones: what was imported and what was left out. */
  const [partial, setPartial] = createSignal<ImportResult | null>(null);

  function importInput(csv: string) {
    return {
      csv,
      dryRun: dryRun(),
      verifyLogins: verifyLogins(),
      ...(tag().trim() ? { tag: tag().trim() } : {}),
    };
  }

  async function choose(selected: File | undefined): Promise<void> {
    if (!selected) return;
    setError(null);
    setPreview(null);
    setPartial(null);
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
    const skipInvalid = !preview()?.ok;
    setImporting(true);
    setError(null);
    try {
      const result = await api.batches.import.mutate({ ...importInput(current.text), skipInvalid });
      toast(
        "success",
        `${pluralize(result.jobCount, "job")} imported`,
        `Batch “${result.batch.tag}”: ${describeRuns(result)}.`,
      );
      if (result.rejected.length > 0) {
        // Stay open: the rows left out are to be downloaded, fixed and imported again.
        setPartial(result);
        return;
      }
      props.onClose();
      navigate(`/jobs?batch=${result.batch.id}`);
    } catch (e: unknown) {
      setError(errorText(e));
    } finally {
      setImporting(false);
    }
  }

  function downloadRejected(): void {
    const current = file();
    const result = partial();
    if (!current || !result) return;
    const base = current.name.replace(/\.csv$/i, "");
    saveText(`${base}-rejected.csv`, rejectedRowsCsv(current.text, result.rejected));
  }

  const canImport = () =>
    (Boolean(preview()?.ok) || canImportValid()) && !previewing() && !importing() && partial() === null;
  /** Some rows are bad but the file is usable: the valid rows may go in alone. */
  const canImportValid = () => {
    const p = preview();
    return p !== null && !p.ok && p.partialPossible && p.validCount > 0;
  };

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
                : canImportValid()
                  ? `Import ${pluralize(preview()?.validCount ?? 0, "valid row")}`
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
        <label class="switch span-2">
          <input
            type="checkbox"
            name="verifyLogins"
            checked={verifyLogins()}
            onChange={(e) => {
              setVerifyLogins(e.currentTarget.checked);
              void runPreview();
            }}
          />
          <span>
            <strong>Check every login first</strong>{" "}
            <span class="muted small">
              (logs in to both servers of each row, as the server test does: a wrong password shows here
              instead of failing the job later)
            </span>
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
            <Spinner label="Checking" />{" "}
            {verifyLogins() ? "Checking the file and every login…" : "Checking the file…"}
          </div>
        </Show>
        <Show when={error()}>
          <div class="callout callout-error" role="alert">
            {error()}
          </div>
        </Show>
        <Show when={partial()}>
          {(r) => (
            <div class="callout callout-ok stack" data-import-partial>
              <div>
                <strong>
                  {pluralize(r().jobCount, "job")} imported into batch “{r().batch.tag}”
                </strong>
                : {describeRuns(r())}. {pluralize(r().rejected.length, "row was", "rows were")} left out.
              </div>
              <div class="row">
                <button type="button" class="btn btn-sm" data-download-rejected onClick={downloadRejected}>
                  <Icon name="download" /> Download the {pluralize(r().rejected.length, "rejected row")} (CSV)
                </button>
                <button
                  type="button"
                  class="btn btn-sm btn-ghost"
                  onClick={() => {
                    props.onClose();
                    navigate(`/jobs?batch=${r().batch.id}`);
                  }}
                >
                  Open the batch
                </button>
              </div>
              <span class="muted small">
                Fix the rows in the downloaded file (its error column says what is wrong), then choose it here
                to import them.
              </span>
            </div>
          )}
        </Show>
        <Show when={!previewing() && partial() === null && preview()}>
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
                    <Show
                      when={p().partialPossible && p().validCount > 0}
                      fallback="— nothing is imported until every row is valid."
                    >
                      — fix them and choose the file again, or import the{" "}
                      {pluralize(p().validCount, "valid row")} now: {describeRuns(p())}. The{" "}
                      {pluralize(p().rejectedCount, "row")} with problems can then be downloaded to fix.
                    </Show>
                  </div>
                }
              >
                <div class="callout callout-ok" data-import-preview="ok">
                  <strong>{pluralize(p().rowCount, "row")} ready to import</strong>: {describeRuns(p())}.
                </div>
              </Show>
              <Show when={p().sample.length > 0}>
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
                      <th>Run</th>
                      <th>Options</th>
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
                      <td data-run={row.dryRun ? "dry" : "real"}>{row.dryRun ? "Dry run" : "Real"}</td>
                      <td class="option-list" data-row-options>
                        <For each={row.setOptions} fallback={<span class="muted">defaults</span>}>
                          {(option) => (
                            <span class="tag" data-origin={option.origin}>
                              {optionLabel(option.key, option.value)}
                              <span class="muted"> · {option.origin}</span>
                            </span>
                          )}
                        </For>
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
