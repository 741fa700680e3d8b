import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./ui/App";
import { hasSavedBoard, loadBoard } from "./state/persist";
import { boardToOpen, inviteInUrl, savedCredentials, takeKeyFromUrl } from "./credentials";
import { preconnect } from "./net/connection";
import "./ui/styles.css";
import "./ui/cards.css";

function boot(): void {
  // First thing: a ?key= link is remembered and leaves the address bar before anything renders.
  takeKeyFromUrl();
  // The saved board is read in parallel with the first paint and shown as soon as it arrives.
  const board = boardToOpen();
  const cache = loadBoard(board);
  // Signed in (App opens the board, not the entry or invite screen), and nothing saved of this
  // board: the board will connect as it first renders.
  if (savedCredentials() && !inviteInUrl() && !hasSavedBoard(board)) preconnect();
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <App board={board} cache={cache} />
    </StrictMode>,
  );
}

boot();
