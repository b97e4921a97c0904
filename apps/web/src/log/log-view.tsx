import type { JSX } from "solid-js";
import { createEffect, createSignal, on, onCleanup, onMount, Show } from "solid-js";
import { formatBytes } from "../format.ts";
import { Icon } from "../ui/icons.tsx";

/** Text per block: big enough to keep the node count low, small enough that one block lays out fast. */
const BLOCK_CHARS = 32 * 1024;
/** Within this many pixels of the bottom counts as "at the end": follow mode stays on. */
const FOLLOW_SLACK_PX = 40;

export interface LogViewController {
  append(text: string): void;
  clear(): void;
  /** The log is complete: a last line without a newline is shown too. */
  finish(): void;
}

/**
 * A log that grows without re-rendering: chunks are queued and written once per animation frame as
 * text nodes into fixed-size blocks. Blocks off screen use `content-visibility: auto`, so a
 * multi-megabyte log costs layout only for what is visible. It follows the end until the user
 * scrolls up, and offers a button to jump back.
 */
export function LogView(props: {
  ref: (controller: LogViewController) => void;
  emptyText: string;
  label: string;
  /**
   * Lines to leave out of the view (the text is kept: turning the filter off shows them). Filtering
   * works on whole lines, so a line shows once its newline has arrived. @defaultValue none
   */
  hideLine?: ((line: string) => boolean) | undefined;
}): JSX.Element {
  let scroller!: HTMLDivElement;
  let content!: HTMLDivElement;
  let currentBlock: HTMLPreElement | null = null;
  let currentBlockChars = 0;
  let pending: string[] = [];
  let frame = 0;
  const [following, setFollowing] = createSignal(true);
  const [unseenBytes, setUnseenBytes] = createSignal(0);
  const [hasText, setHasText] = createSignal(false);
  const encoder = new TextEncoder();

  function newBlock(): HTMLPreElement {
    const block = document.createElement("pre");
    block.className = "log-block";
    content.appendChild(block);
    currentBlockChars = 0;
    return block;
  }

  function write(text: string): void {
    if (!currentBlock) currentBlock = newBlock();
    currentBlock.appendChild(document.createTextNode(text));
    currentBlockChars += text.length;
  }

  function flush(): void {
    frame = 0;
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    if (currentBlock && currentBlockChars >= BLOCK_CHARS) {
      // Start the next block at a line start, so no line is split across two blocks.
      const newline = text.indexOf("\n");
      if (newline === -1) write(text);
      else {
        write(text.slice(0, newline + 1));
        currentBlock = newBlock();
        if (newline + 1 < text.length) write(text.slice(newline + 1));
      }
    } else write(text);
    setHasText(true);
    if (following()) stick();
  }

  // Where the last programmatic scroll put the view. Off-screen blocks settle their real height
  // (content-visibility) after a scroll, which moves scrollHeight but not scrollTop: only a scroll
  // *above* this mark is the user's, and only that pauses following.
  let stuckAt = 0;
  function stick(): void {
    scroller.scrollTop = scroller.scrollHeight;
    stuckAt = scroller.scrollTop;
  }

  function enqueue(text: string): void {
    if (!text) return;
    pending.push(text);
    if (!following()) setUnseenBytes((n) => n + encoder.encode(text).length);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  // Everything received, so a change of filter can redraw; `partial` is the filtered view's line
  // still waiting for its newline.
  let received: string[] = [];
  let partial = "";
  let finished = false;

  function show(text: string, hide: ((line: string) => boolean) | undefined): void {
    if (!hide) {
      enqueue(text);
      return;
    }
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    enqueue(
      lines
        .filter((line) => !hide(line))
        .map((line) => `${line}\n`)
        .join(""),
    );
  }

  function showPartial(hide: ((line: string) => boolean) | undefined): void {
    if (partial && hide && !hide(partial)) enqueue(partial);
    partial = "";
  }

  function append(text: string): void {
    if (!text) return;
    received.push(text);
    show(text, props.hideLine);
  }

  function finish(): void {
    finished = true;
    showPartial(props.hideLine);
  }

  function clearView(): void {
    pending = [];
    partial = "";
    content.textContent = "";
    currentBlock = null;
    currentBlockChars = 0;
    setHasText(false);
  }

  function clear(): void {
    received = [];
    finished = false;
    clearView();
  }

  // A new filter redraws what was received with it.
  createEffect(
    on(
      () => props.hideLine,
      (hide) => {
        clearView();
        for (const text of received) show(text, hide);
        if (finished) showPartial(hide);
      },
      { defer: true },
    ),
  );

  function handleScroll(): void {
    const atEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= FOLLOW_SLACK_PX;
    if (atEnd) {
      if (!following()) setFollowing(true);
      setUnseenBytes(0);
      return;
    }
    if (following() && scroller.scrollTop >= stuckAt - 1) {
      stick();
      return;
    }
    if (following()) setFollowing(false);
  }

  function jumpToEnd(): void {
    setFollowing(true);
    setUnseenBytes(0);
    stick();
    scroller.focus();
  }

  let resizeObserver: ResizeObserver | undefined;
  onMount(() => {
    props.ref({ append, clear, finish });
    // Blocks change height as they wrap or settle; keep the end in view while following.
    resizeObserver = new ResizeObserver(function keepEndInView() {
      if (following()) stick();
    });
    resizeObserver.observe(content);
    resizeObserver.observe(scroller);
  });
  onCleanup(() => {
    if (frame) cancelAnimationFrame(frame);
    resizeObserver?.disconnect();
  });

  return (
    <div class="log" data-following={following() ? "true" : "false"}>
      <div
        ref={scroller}
        class="log-scroll"
        tabindex="0"
        role="log"
        aria-label={props.label}
        aria-live="off"
        onScroll={handleScroll}
      >
        <Show when={!hasText()}>
          <div class="log-empty">{props.emptyText}</div>
        </Show>
        <div ref={content} class="log-content" />
      </div>
      <Show when={!following()}>
        <button type="button" class="btn btn-primary btn-sm log-follow" onClick={jumpToEnd}>
          <Icon name="arrowDown" />
          {unseenBytes() > 0 ? `Follow · ${formatBytes(unseenBytes())} new` : "Follow the end"}
        </button>
      </Show>
    </div>
  );
}
