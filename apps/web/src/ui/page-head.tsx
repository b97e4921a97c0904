import type { JSX } from "solid-js";
import { Show } from "solid-js";
import { Icon } from "./icons.tsx";

/** A page's title, its one-line explanation, and its actions (a Refresh button when `onRefresh` is given). */
export function PageHead(props: {
  title: string;
  sub: JSX.Element;
  onRefresh?: () => void;
  actions?: JSX.Element;
}): JSX.Element {
  return (
    <div class="page-head">
      <div>
        <h1>{props.title}</h1>
        <p class="sub">{props.sub}</p>
      </div>
      <Show when={props.onRefresh || props.actions}>
        <div class="page-actions">
          {props.actions}
          <Show when={props.onRefresh}>
            {(refresh) => (
              <button type="button" class="btn" onClick={() => refresh()()}>
                <Icon name="refresh" /> Refresh
              </button>
            )}
          </Show>
        </div>
      </Show>
    </div>
  );
}
