import type { JSX } from "solid-js";

/** The ferry logo tile; the sidebar, the top bar and the sign-in card all put it before the name. */
export function BrandMark(): JSX.Element {
  return (
    <span class="brand-mark">
      <svg
        viewBox="0 0 24 24"
        width="18"
        height="18"
        fill="none"
        stroke="white"
        stroke-width="2"
        aria-hidden="true"
      >
        <path d="M3 16h18l-2.5 4.5h-13z" />
        <path d="M7 14V7h7l3.5 7" />
      </svg>
    </span>
  );
}
