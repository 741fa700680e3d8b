//! Small presentation helpers: relative times, initials, a stable colour per person.

import { useEffect, useState } from "react";
import { STATUS_LABELS, type Status } from "../protocol";

/**
 * Runs `work` when the page is next idle (at the latest after `timeoutMs`); returns what cancels
 * it. For work a person is not waiting for, so it stays out of the way of what they are.
 */
export function whenIdle(work: () => void, timeoutMs = 3000): () => void {
  if (typeof requestIdleCallback === "function") {
    const handle = requestIdleCallback(work, { timeout: timeoutMs });
    return () => cancelIdleCallback(handle);
  }
  const handle = window.setTimeout(work, Math.min(timeoutMs, 1000));
  return () => window.clearTimeout(handle);
}

export function timeAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return "";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 45) return "now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h}h`;
  const d = Math.round(h / 24);
  if (d < 14) return `${d}d`;
  return `${Math.round(d / 7)}w`;
}

export function timeLeft(iso: string | null | undefined, now: number): string | null {
  if (!iso) return null;
  const end = Date.parse(iso);
  if (Number.isNaN(end)) return null;
  const s = Math.round((end - now) / 1000);
  if (s <= 0) return "expiring";
  if (s < 60) return `${s}s left`;
  // Minutes, not seconds: the board re-renders ages every 30 s, not every second. Rounded, not
  // up: its clock may be 30 s behind, and a lease granted a moment ago must not read "6m left".
  return `${Math.round(s / 60)}m left`;
}

/** A lease's countdown to the second ("4:05 left"), for a panel that re-renders every second. */
export function countdown(iso: string | null | undefined, now: number): string | null {
  if (!iso) return null;
  const end = Date.parse(iso);
  if (Number.isNaN(end)) return null;
  const s = Math.ceil((end - now) / 1000);
  if (s <= 0) return "expiring";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec} left` : `${m}:${sec} left`;
}

export function initials(name: string): string {
  const parts = name
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean);
  if (parts.length === 0) return "?";
  if (parts.length === 1) return parts[0].slice(0, 2).toUpperCase();
  return (parts[0][0] + parts[1][0]).toUpperCase();
}

const HUES = [262, 200, 160, 28, 340, 220, 100, 300, 12, 185];

/** A hue that stays the same for a name on every screen. */
export function hueFor(name: string): number {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return HUES[h % HUES.length];
}

/** Re-renders the caller every `ms`, for ages and countdowns. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

const STATUS_WORD = /\b(TODO|IN_PROGRESS|BLOCKED|REVIEW|DONE)\b/g;

/**
 * An activity message in everyday words: the server writes statuses as their API names ("moved
 * #3 from TODO to IN_PROGRESS"); people read "To do" and "In progress". Quoted titles
 * (“…”) are left as they were written.
 */
export function activityText(message: string): string {
  return message
    .split(/(“[^”]*”)/)
    .map((part) => (part.startsWith("“") ? part : part.replace(STATUS_WORD, (s) => STATUS_LABELS[s as Status])))
    .join("");
}

/**
 * Black or white, whichever reads better on `background` (`#rrggbb`): the one with the higher
 * WCAG contrast ratio against it, so a label of any colour keeps its name legible.
 */
export function readableText(background: string): "#000000" | "#ffffff" {
  const m = /^#?([0-9a-f]{6})$/i.exec(background.trim());
  if (!m) return "#000000";
  const channel = (i: number) => {
    const c = parseInt(m[1].slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
  // Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): equal at L ≈ 0.179.
  return luminance > 0.179 ? "#000000" : "#ffffff";
}

/** An instant as `<input type=datetime-local>` wants it: the viewer's local wall time, to the minute. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (the viewer's wall time) as the UTC instant the server stores; "" is none. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * A Markdown description as a card's one-glance excerpt: the words without the marks
 * ("Check **every** item: - the `log`" → "Check every item: the log"). Rendering the Markdown
 * for each of a thousand cards would cost far more than a preview is worth; the card view shows it whole.
 */
export function plainExcerpt(markdown: string): string {
  return (
    markdown
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)/gm, "")
      .replace(/(\*\*|\*|~~|`+)(?=\S)([^]*?\S)\1/g, "$2")
      // Underscores mark emphasis only at a word's edge (snake_case stays as written).
      .replace(/(?<!\w)(__|_)(?=\S)([^]*?\S)\1(?!\w)/g, "$2")
      .replace(/\s+/g, " ")
      .trim()
  );
}
