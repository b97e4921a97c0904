import type { JSX } from "solid-js";
import { toast } from "./toasts.tsx";

export interface OneTimeSecretProps {
  /** The first line: what was created and that it must be copied now. */
  heading: JSX.Element;
  value: string;
  /** What the value is called in the copy toasts, capitalised: "Token", "Secret". */
  noun: string;
  /** A data attribute on the value's element, for tests to find it: "data-new-token". */
  marker: `data-${string}`;
  /** Called by Done; the caller forgets the value. */
  onDone: () => void;
}

/**
 * A value the API returns only in the response that created it (an API token, a webhook's signing
 * secret): stored hashed or encrypted, it cannot be shown again, so it stays here with a Copy button
 * until the operator says Done.
 */
export function OneTimeSecret(props: OneTimeSecretProps): JSX.Element {
  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(props.value);
      toast("success", `${props.noun} copied`);
    } catch {
      // No clipboard (a plain-HTTP page, a refused permission): the value is on screen to select.
      toast("info", `Select the ${props.noun.toLowerCase()} and copy it by hand`);
    }
  }

  return (
    <div class="callout callout-ok stack" role="status">
      <div>{props.heading}</div>
      <div class="row">
        <code class="mono" style={{ "overflow-wrap": "anywhere" }} {...{ [props.marker]: "" }}>
          {props.value}
        </code>
        <button type="button" class="btn btn-sm" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onDone()}>
          Done
        </button>
      </div>
    </div>
  );
}
