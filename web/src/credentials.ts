//! Where the team key and the display name are remembered, and the one-time `?key=` link.

import type { Credentials } from "./net/connection";

const KEY = "warroom.apiKey";
const NAME = "warroom.name";

export function loadCredentials(): { apiKey: string | null; name: string | null } {
  try {
    return { apiKey: localStorage.getItem(KEY), name: localStorage.getItem(NAME) };
  } catch {
    return { apiKey: null, name: null };
  }
}

export function saveCredentials(creds: Credentials): void {
  try {
    localStorage.setItem(KEY, creds.apiKey);
    localStorage.setItem(NAME, creds.name);
  } catch {
    /* storage disabled: the session still works until the tab closes */
  }
}

export function forgetKey(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    /* see saveCredentials */
  }
}

/**
 * Takes `?key=` from the address once: it is remembered, then removed from the address bar so
 * it does not linger in history, bookmarks or screenshots.
 */
export function takeKeyFromUrl(): string | null {
  const url = new URL(window.location.href);
  const key = url.searchParams.get("key");
  if (key === null) return null;
  url.searchParams.delete("key");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  const trimmed = key.trim();
  if (trimmed) {
    try {
      localStorage.setItem(KEY, trimmed);
    } catch {
      /* see saveCredentials */
    }
  }
  return trimmed || null;
}
