import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./ui/App";
import { loadBoard } from "./state/persist";
import { boardToOpen, takeKeyFromUrl } from "./credentials";
import { preconnect } from "./net/connection";
import { prefetchBoard } from "./net/prefetch";
import "./ui/styles.css";
import "./ui/cards.css";

/** How long a first visit's first render waits for REST's answer before it draws an empty board. */
const FIRST_LOOK_WAIT_MS = 300;

function boot(): void {
  // First thing: a ?key= link is remembered and leaves the address bar before anything renders
  // (the page's first script, `early.ts`, has done so already unless it failed to load).
  takeKeyFromUrl();
  // The saved board is read in parallel with the first paint and shown as soon as it arrives.
  const board = boardToOpen();
  const cache = loadBoard(board);
  // A first visit (signed in, nothing saved of this board): the first script has asked REST for
  // the board, and the socket the board will join opens now.
  const first = prefetchBoard();
  if (first) preconnect();
  const render = () =>
    createRoot(document.getElementById("root")!).render(
      <StrictMode>
        <App board={board} cache={cache} first={first} />
      </StrictMode>,
    );
  // Its answer is usually in (the responses arrive as this script loads) and waits only for the
  // main thread: the first render waits for it, briefly, rather than drawing an empty board first
  // and the whole board again a moment later.
  if (first && first.ready === undefined)
    void Promise.race([first.answer, new Promise((resolve) => setTimeout(resolve, FIRST_LOOK_WAIT_MS))]).then(render);
  else render();
}

boot();
