//! Something shown once that people must copy (an invite link, a webhook's secret): read-only,
//! selected on focus, with a Copy button that falls back to selecting it when the page has no
//! clipboard access.

import { useRef, useState } from "react";

export function CopyField(props: { label: string; value: string; testId: string; what: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "select" | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied("yes");
    } catch {
      // No clipboard access (plain http on a LAN address): leave it selected for Ctrl+C.
      input.current?.select();
      setCopied("select");
    }
  }
  return (
    <>
      <label className="field">
        <span>{props.label}</span>
        <div className="copy-row">
          <input
            ref={input}
            readOnly
            value={props.value}
            onFocus={(e) => e.target.select()}
            data-testid={props.testId}
          />
          <button type="button" className="primary" onClick={copy} autoFocus>
            {copied === "yes" ? "Copied" : "Copy"}
          </button>
        </div>
      </label>
      <p role="status" className="muted small-print">
        {copied === "select" ? `Press Ctrl+C (⌘C) to copy the selected ${props.what}.` : ""}
      </p>
    </>
  );
}
