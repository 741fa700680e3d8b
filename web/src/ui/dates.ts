//! Dates in the viewer's words and local time. The formats are built once (`toLocaleString` with
//! options builds a formatter per call, and a board's due badges made that most of the time a
//! filter took to redraw them), and only when a date is first shown: a page's first
//! `Intl.DateTimeFormat` costs 25-50 ms in Chromium (its locale data is loaded), which a board
//! without due dates no longer pays before its first cards are drawn (see `Card.tsx`).

interface Formats {
  clock: Intl.DateTimeFormat;
  day: Intl.DateTimeFormat;
  dayOfYear: Intl.DateTimeFormat;
  instant: Intl.DateTimeFormat;
}

let formats: Formats | null = null;

/** The viewer's date formats, built on first use. */
export function dateFormats(): Formats {
  formats ??= {
    clock: new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }),
    day: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }),
    dayOfYear: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", year: "numeric" }),
    instant: new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }),
  };
  return formats;
}

export function clockTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return dateFormats().clock.format(d);
}

/** A date and time in the viewer's words: "Dec 4, 2026, 4:30 PM". */
export function dateTime(iso: string): string {
  return dateFormats().instant.format(new Date(iso));
}

/** A due date in the viewer's local time: "14:00" today, else "Mar 3" (with the year if not this one). */
export function dueLabel(iso: string, now: number): string {
  const due = new Date(iso);
  const today = new Date(now);
  if (due.toDateString() === today.toDateString()) return dateFormats().clock.format(due);
  return (due.getFullYear() === today.getFullYear() ? dateFormats().day : dateFormats().dayOfYear).format(due);
}
