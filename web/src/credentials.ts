//! Where the credential, the display name, the role and the last board are remembered, and the
//! one-time `?key=` and `?invite=` links and the `?board=` address.

import { isRole, MAIN_BOARD, type Role } from "./protocol";

export interface Credentials {
  /** The team key or a personal token (both go where the SPEC says `apiKey`). */
  apiKey: string;
  name: string;
  /** What the credential may do, when known (see `roleOfKey`); null: ask the server by trying. */
  role?: Role | null;
}

const KEY = "warroom.apiKey";
const NAME = "warroom.name";
const ROLE = "warroom.role";
const LAST_BOARD = "warroom.board";
/** The prefix of a personal token (SPEC "Access"); any other credential is the team key. */
const TOKEN_PREFIX = "wr_";

export function loadCredentials(): { apiKey: string | null; name: string | null; role: Role | null } {
  try {
    const role = localStorage.getItem(ROLE);
    const apiKey = localStorage.getItem(KEY);
    // A team key saved before roles were kept is admin all the same: no need to ask the server.
    const known = isRole(role) ? role : apiKey ? roleOfKey(apiKey) : null;
    return { apiKey, name: localStorage.getItem(NAME), role: known };
  } catch {
    return { apiKey: null, name: null, role: null };
  }
}

/** The saved credential when it is complete (a key and a name): the board opens with it, no entry screen. */
export function savedCredentials(): Credentials | null {
  const saved = loadCredentials();
  return saved.apiKey && saved.name ? { apiKey: saved.apiKey, name: saved.name, role: saved.role } : null;
}

export function saveCredentials(creds: Credentials): void {
  try {
    localStorage.setItem(KEY, creds.apiKey);
    localStorage.setItem(NAME, creds.name);
    if (creds.role) localStorage.setItem(ROLE, creds.role);
    else localStorage.removeItem(ROLE);
  } catch {
    /* storage disabled: the session still works until the tab closes */
  }
}

export function forgetKey(): void {
  try {
    localStorage.removeItem(KEY);
    localStorage.removeItem(ROLE);
  } catch {
    /* see saveCredentials */
  }
}

/**
 * The role a key typed on the entry screen carries. The server does not say, but the team key is
 * admin everywhere (SPEC "Access"), and only personal tokens start with `wr_`; a token's role is
 * unknown here (null: nothing is hidden, and the server's FORBIDDEN says what is not allowed).
 */
export function roleOfKey(apiKey: string): Role | null {
  return apiKey.startsWith(TOKEN_PREFIX) ? null : "admin";
}

/**
 * Takes `?key=` from the address once: it is remembered, then removed from the address bar so
 * it does not linger in history, bookmarks or screenshots.
 */
export function takeKeyFromUrl(): string | null {
  const key = takeParam("key");
  if (key === null) return null;
  const trimmed = key.trim();
  if (trimmed) {
    try {
      localStorage.setItem(KEY, trimmed);
      const role = roleOfKey(trimmed);
      if (role) localStorage.setItem(ROLE, role);
      else localStorage.removeItem(ROLE);
    } catch {
      /* see saveCredentials */
    }
  }
  return trimmed || null;
}

/** The invite code of an `/?invite=CODE` link, left in the address until it is accepted. */
export function inviteInUrl(): string | null {
  return new URL(window.location.href).searchParams.get("invite")?.trim() || null;
}

/** Removes `?invite=` from the address once the code is spent (or abandoned). */
export function dropInviteFromUrl(): void {
  takeParam("invite");
}

function takeParam(name: string): string | null {
  const url = new URL(window.location.href);
  const value = url.searchParams.get(name);
  if (value === null) return null;
  url.searchParams.delete(name);
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  return value;
}

/** The board to open: the one the address names, else the last one used here, else `main`. */
export function boardToOpen(): string {
  const named = new URL(window.location.href).searchParams.get("board")?.trim();
  if (named) return named;
  try {
    return localStorage.getItem(LAST_BOARD) || MAIN_BOARD;
  } catch {
    return MAIN_BOARD;
  }
}

/**
 * Names `board` in the address (a link to this page opens it) and remembers it as the last one.
 * Going from one named board to another is a new history entry, so the browser's Back button
 * returns to the board before (`boardInHistory`); naming the first one replaces the bare address.
 */
export function rememberBoard(board: string): void {
  const url = new URL(window.location.href);
  const named = url.searchParams.get("board");
  if (named !== board) {
    url.searchParams.set("board", board);
    const path = url.pathname + url.search + url.hash;
    if (named) window.history.pushState(null, "", path);
    else window.history.replaceState(window.history.state, "", path);
  }
  try {
    localStorage.setItem(LAST_BOARD, board);
  } catch {
    /* see saveCredentials */
  }
}

/** The board the address names after Back or Forward, if any. */
export function boardInHistory(): string | null {
  return new URL(window.location.href).searchParams.get("board")?.trim() || null;
}

/** The card the address names (`?board=…&task=42`), so a pasted link or a reload opens it. */
export function taskInUrl(): number | null {
  const id = Number(new URL(window.location.href).searchParams.get("task"));
  return Number.isInteger(id) && id > 0 ? id : null;
}

/** A card to open once its board is on screen (a notification of another board was clicked). */
let arrival: { board: string; taskId: number } | null = null;

export function openOnArrival(board: string, taskId: number): void {
  arrival = { board, taskId };
}

/** The card to open on `board`: one a notification asked for, else the one the address names. */
export function cardToOpen(board: string): number | null {
  const asked = arrival;
  arrival = null;
  return asked && asked.board === board ? asked.taskId : taskInUrl();
}

/**
 * Names the open card in the address (none: drops it). Opening and closing a card replaces the
 * entry: Back goes to the board before, as it did without cards.
 */
export function rememberTask(taskId: number | null): void {
  const url = new URL(window.location.href);
  const named = url.searchParams.get("task");
  const next = taskId !== null && taskId > 0 ? String(taskId) : null;
  if (named === next) return;
  if (next === null) url.searchParams.delete("task");
  else url.searchParams.set("task", next);
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}
