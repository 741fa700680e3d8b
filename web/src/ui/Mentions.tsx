//! A textarea that completes `@name` from the names the board knows: people online, agents,
//! assignees and comment authors. Arrow keys pick, Enter or Tab inserts, Esc closes.

import {
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type TextareaHTMLAttributes,
} from "react";
import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { completeMention, mentionAt, suggestNames } from "./mentions";

function useKnownNames(): string[] {
  const { store } = useApp();
  const users = useStore(store, (s) => s.users);
  const agents = useStore(store, (s) => s.agents);
  const tasks = useStore(store, (s) => s.tasks);
  const comments = useStore(store, (s) => s.comments);
  return useMemo(() => {
    const names = new Set<string>();
    for (const u of users) names.add(u.name);
    for (const id of Object.keys(agents)) names.add(id);
    for (const t of Object.values(tasks)) if (t.assignee) names.add(t.assignee);
    for (const list of Object.values(comments)) for (const c of list) names.add(c.author);
    return [...names];
  }, [users, agents, tasks, comments]);
}

type Props = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "value" | "onChange"> & {
  value: string;
  onValue: (value: string) => void;
};

export function MentionTextarea({ value, onValue, onKeyDown, ...rest }: Props) {
  const names = useKnownNames();
  const ref = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const options = useMemo(() => (mention ? suggestNames(names, mention.query) : []), [mention, names]);
  const open = options.length > 0;
  /** Where the caret goes once a picked name is in the text (set before the next keystroke). */
  const caretAfter = useRef<number | null>(null);

  useLayoutEffect(() => {
    const area = ref.current;
    if (caretAfter.current === null || !area) return;
    area.setSelectionRange(caretAfter.current, caretAfter.current);
    caretAfter.current = null;
  }, [value]);

  function track(text: string, caret: number) {
    setMention(mentionAt(text, caret));
    setActive(0);
  }

  function pick(name: string) {
    const area = ref.current;
    if (!mention || !area) return;
    const done = completeMention(value, mention.start, area.selectionStart, name);
    caretAfter.current = done.caret;
    onValue(done.text);
    setMention(null);
    area.focus();
  }

  function keyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : -1;
        setActive((a) => (a + step + options.length) % options.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        pick(options[active]);
        return;
      }
      if (e.key === "Escape") {
        // Closes the list, not the dialog around it.
        e.preventDefault();
        e.stopPropagation();
        setMention(null);
        return;
      }
    }
    onKeyDown?.(e);
  }

  return (
    <div className="mention-box">
      <textarea
        {...rest}
        ref={ref}
        value={value}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open ? `${listId}-${active}` : undefined}
        onChange={(e) => {
          onValue(e.target.value);
          track(e.target.value, e.target.selectionStart);
        }}
        onKeyDown={keyDown}
        onClick={(e) => track(value, e.currentTarget.selectionStart)}
        onBlur={() => setMention(null)}
      />
      {open && (
        <ul className="mention-list" id={listId} role="listbox" data-testid="mention-list">
          {options.map((name, i) => (
            <li
              key={name}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "is-active" : undefined}
              // Before the textarea's blur, which would close the list first.
              onMouseDown={(e) => {
                e.preventDefault();
                pick(name);
              }}
            >
              @{name}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
