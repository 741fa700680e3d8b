//! A round badge with a person's initials in their own colour.

import { hueFor, initials } from "./util";

export function Avatar({ name, size = 24, bot = false }: { name: string; size?: number; bot?: boolean }) {
  const hue = hueFor(name);
  return (
    <span
      className={bot ? "avatar is-bot" : "avatar"}
      style={{ width: size, height: size, fontSize: size * 0.4, ["--hue" as string]: hue }}
      aria-hidden="true"
    >
      {initials(name)}
    </span>
  );
}
