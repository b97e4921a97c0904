import type { JSX } from "solid-js";
import { Link } from "../router.tsx";
import { EmptyState } from "../ui/states.tsx";

/**
 * What a link to something that is not there shows: which thing is missing, and the way back. Used for
 * unknown addresses and for a job or batch that does not exist (any more).
 */
export function NotFound(props: {
  title: string;
  text: string;
  back: { href: string; label: string };
}): JSX.Element {
  return (
    <div class="card" data-not-found>
      <EmptyState
        icon="search"
        title={props.title}
        text={props.text}
        action={
          <Link class="btn" href={props.back.href}>
            {props.back.label}
          </Link>
        }
      />
    </div>
  );
}

/** An address the panel has no page for. */
export function NotFoundPage(): JSX.Element {
  return (
    <div class="page">
      <NotFound
        title="This page does not exist"
        text={`The panel has no page at ${window.location.pathname}.`}
        back={{ href: "/jobs", label: "Go to the jobs" }}
      />
    </div>
  );
}
