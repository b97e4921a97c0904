import type { JSX } from "solid-js";
import { createResource, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { JobItem } from "../../api/types.ts";
import { formatBytes, formatCount } from "../../format.ts";

/**
 * What the check after the run found, per folder: messages and bytes on each side and the source
 * messages that are not on the destination (with why, for the first ones). Loaded once the job ended.
 */
export function JobVerificationCard(props: { job: JobItem }): JSX.Element {
  const [report] = createResource(
    () => (props.job.finishedAt ? { id: props.job.id, at: props.job.finishedAt } : null),
    (key) => api.jobs.report.query({ id: key.id }),
  );
  const verification = () => report()?.verification ?? null;
  return (
    <Show when={verification()}>
      {(v) => (
        <div class="card" data-verification>
          <div class="card-head">
            <h2>Check after the run</h2>
            <span class="muted small">
              {v().missing === 0
                ? "every message is on the destination"
                : `${formatCount(v().missing)} missing`}
            </span>
          </div>
          <div class="table-wrap">
            <table class="table" data-verification-table>
              <thead>
                <tr>
                  <th>Folder</th>
                  <th>Source</th>
                  <th>Destination</th>
                  <th>Missing</th>
                </tr>
              </thead>
              <tbody>
                <For each={v().folders}>
                  {(f) => (
                    <>
                      <tr data-folder={f.folder}>
                        <td>{f.folder}</td>
                        <td>
                          {formatCount(f.sourceMessages)} ({formatBytes(f.sourceBytes)})
                        </td>
                        <td>
                          {formatCount(f.destMessages)} ({formatBytes(f.destBytes)})
                        </td>
                        <td data-missing>{formatCount(f.missing)}</td>
                      </tr>
                      <For each={f.missingSample}>
                        {(m) => (
                          <tr class="muted small" data-missing-message>
                            <td colspan={4}>
                              UID {m.uid} · {m.subject || "(no subject)"} · {formatBytes(m.size)} · {m.reason}
                            </td>
                          </tr>
                        )}
                      </For>
                    </>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        </div>
      )}
    </Show>
  );
}
