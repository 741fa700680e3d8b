//! The inline new-task form at the foot of a column; others see "Adam TYPING..." while it is used.

import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { STATUS_LABELS, type Status } from "../protocol";
import { useApp } from "./appContext";
import { PeopleOptions } from "./PeopleOptions";

export function Composer({ status, onClose }: { status: Status; onClose: () => void }) {
  const { engine } = useApp();
  const [title, setTitle] = useState("");
  const [assignee, setAssignee] = useState("");
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();

  useEffect(() => {
    input.current?.focus();
    return () => engine.typingStop();
  }, [engine]);

  function submit(event: FormEvent) {
    event.preventDefault();
    const text = title.trim();
    if (!text) {
      input.current?.focus();
      return;
    }
    engine.createTask({ title: text, status, assignee: assignee.trim() || null });
    setTitle("");
    // Stay open for the next one, like a list being written down.
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      engine.typingStop();
      onClose();
    }
  }

  return (
    <form
      className="composer"
      onSubmit={submit}
      onKeyDown={onKeyDown}
      aria-label={`New task in ${STATUS_LABELS[status]}`}
    >
      <input
        ref={input}
        className="composer-title"
        name="title"
        value={title}
        maxLength={200}
        placeholder="What needs doing?"
        aria-label="Task title"
        onChange={(e) => {
          setTitle(e.target.value);
          engine.typingInput();
        }}
        onBlur={() => engine.typingStop()}
      />
      <div className="composer-row">
        <input
          className="composer-assignee"
          name="assignee"
          value={assignee}
          maxLength={64}
          placeholder="Assignee (optional)"
          aria-label="Assignee"
          list={listId}
          onChange={(e) => setAssignee(e.target.value)}
        />
        <PeopleOptions id={listId} />
      </div>
      <div className="composer-actions">
        <button type="submit" className="primary small" disabled={!title.trim()}>
          Add task
        </button>
        <button
          type="button"
          className="ghost small"
          onClick={() => {
            engine.typingStop();
            onClose();
          }}
        >
          Cancel
        </button>
        <span className="hint">Enter to add · Esc to close</span>
      </div>
    </form>
  );
}
