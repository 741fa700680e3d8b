//! The end of a dialog's form: the refusal, if any, then Cancel and the submit button, which
//! says what it is doing while the request runs.

export function FormFooter(props: {
  error: string | null | undefined;
  saving: boolean;
  /** The submit button's label, and its label while saving. */
  submit: string;
  busy: string;
  onCancel: () => void;
}) {
  return (
    <>
      {props.error && (
        <p className="entry-error" role="alert">
          {props.error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="ghost" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={props.saving}>
          {props.saving ? props.busy : props.submit}
        </button>
      </div>
    </>
  );
}
