//! Shows Markdown safely: `renderMarkdown` escapes every raw tag and drops unsafe links, so what
//! goes into the page is only markdown-it's own markup.

import { memo, useMemo } from "react";
import { renderMarkdown } from "./markdown";

export const Markdown = memo(function Markdown({ text, className }: { text: string; className?: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className={`markdown ${className ?? ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
});
