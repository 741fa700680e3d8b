//! The toast stack, announced to screen readers.

import { dismissToast, useToasts } from "../state/toasts";
import { CloseIcon } from "./Icons";

export function Toasts() {
  const toasts = useToasts();
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast is-${toast.kind}`} role={toast.kind === "error" ? "alert" : "status"}>
          <div className="toast-body">
            <strong>{toast.title}</strong>
            {toast.message && <p>{toast.message}</p>}
            {toast.action && (
              <button
                className="link-button"
                onClick={() => {
                  toast.action!.run();
                  dismissToast(toast.id);
                }}
              >
                {toast.action.label}
              </button>
            )}
          </div>
          <button className="ghost icon-button small" onClick={() => dismissToast(toast.id)} title="Dismiss">
            <CloseIcon size={14} />
            <span className="sr-only">Dismiss</span>
          </button>
        </div>
      ))}
    </div>
  );
}
