import type { Accessor, JSX, Resource } from "solid-js";
import { Match, Show, Switch, splitProps } from "solid-js";
import type { IconName } from "./icons.tsx";
import { Icon } from "./icons.tsx";

export function Spinner(props: { label?: string }): JSX.Element {
  return <span class="spinner" role="status" aria-label={props.label ?? "Loading"} />;
}

export function Loading(props: { label?: string }): JSX.Element {
  return (
    <div class="loading-block">
      <Spinner label={props.label} />
      <span>{props.label ?? "Loading…"}</span>
    </div>
  );
}

export function EmptyState(props: {
  icon?: IconName;
  title: string;
  text?: string;
  action?: JSX.Element;
}): JSX.Element {
  return (
    <div class="empty">
      <div class="empty-icon">
        <Icon name={props.icon ?? "inbox"} />
      </div>
      <h3>{props.title}</h3>
      <Show when={props.text}>
        <p>{props.text}</p>
      </Show>
      {props.action}
    </div>
  );
}

export function ErrorState(props: { title?: string; error: unknown; onRetry?: () => void }): JSX.Element {
  return (
    <div class="empty" role="alert">
      <div class="empty-icon" style={{ background: "var(--red-100)", color: "var(--red-700)" }}>
        <Icon name="alert" />
      </div>
      <h3>{props.title ?? "Could not load this"}</h3>
      <p>{errorText(props.error)}</p>
      <Show when={props.onRetry}>
        <button type="button" class="btn" onClick={() => props.onRetry?.()}>
          <Icon name="refresh" /> Try again
        </button>
      </Show>
    </div>
  );
}

export interface LoadStatesProps<T> {
  /** Show the error instead of anything else (pages differ on whether stale rows outrank it). */
  failed: unknown;
  error: unknown;
  errorTitle: string;
  onRetry: () => void;
  /** Show the spinner; checked after `failed`. */
  loading: boolean;
  loadingLabel: string;
  /** Show `emptyState`; checked after `loading`. */
  empty?: boolean;
  emptyState?: JSX.Element;
  /** Show the content when this is truthy; the children receive it. */
  ready: T | undefined | null | false;
  children: (value: Accessor<NonNullable<T>>) => JSX.Element;
  /** Put the error and the spinner in a card of their own, for content that is itself cards. */
  card?: boolean;
}

/**
 * What a view shows of something it loads, in order: the error with a retry, a spinner while
 * there is nothing yet, the empty state, or the content.
 */
export function LoadStates<T>(props: LoadStatesProps<T>): JSX.Element {
  const framed = (content: JSX.Element) => (props.card ? <div class="card">{content}</div> : content);
  return (
    <Switch>
      <Match when={props.failed}>
        {framed(<ErrorState title={props.errorTitle} error={props.error} onRetry={props.onRetry} />)}
      </Match>
      <Match when={props.loading}>{framed(<Loading label={props.loadingLabel} />)}</Match>
      <Match when={props.empty}>{props.emptyState}</Match>
      <Match when={props.ready}>{(value) => props.children(value)}</Match>
    </Switch>
  );
}

export type ResourceStatesProps<T> = Omit<LoadStatesProps<T>, "failed" | "error" | "loading" | "ready"> & {
  resource: Resource<T>;
};

/**
 * LoadStates for one resource, as most views show it: its error only while nothing has loaded, the
 * spinner until the first value, then the empty state or the content, kept on screen through refetches.
 */
export function ResourceStates<T>(props: ResourceStatesProps<T>): JSX.Element {
  const [own, rest] = splitProps(props, ["resource"]);
  return (
    <LoadStates
      {...rest}
      failed={own.resource.error && !own.resource.latest}
      error={own.resource.error}
      loading={!own.resource.latest}
      ready={own.resource.latest}
    />
  );
}

/** The operator-facing sentence of any error the SDK throws (the server's message is already one). */
export function errorText(error: unknown): string {
  if (error instanceof Error && error.message) {
    // A refused connection, or a proxy answering with an empty or HTML error page instead of the API.
    if (/Failed to fetch|NetworkError|Load failed|JSON/i.test(error.message)) {
      return "The server could not be reached. Is imapferry running?";
    }
    return error.message;
  }
  if (typeof error === "string") return error;
  return "Something went wrong.";
}
