//! Card descriptions and comments as safe Markdown: markdown-it with raw HTML off, so its output
//! holds only the tags it makes itself, and its link check, which refuses `javascript:`,
//! `vbscript:`, `file:` and `data:` links (they stay text).

import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: true });
// No images: one from elsewhere would tell that server who reads the card (and the page's CSP
// refuses other origins' images anyway). The Markdown stays visible as text.
md.disable("image");

const defaultLink =
  md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  // Links leave the board in a new tab, which gets no handle on this page.
  tokens[idx].attrSet("target", "_blank");
  tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
  return defaultLink(tokens, idx, options, env, self);
};

/** The HTML of `text`: only markdown-it's own tags, every character of `text` escaped. */
export function renderMarkdown(text: string): string {
  return md.render(text);
}
