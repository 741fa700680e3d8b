import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

describe("safe Markdown", () => {
  it("renders emphasis, lists, code and links (opening in a new tab)", () => {
    const html = renderMarkdown("**bold** and `code`\n\n- one\n- [docs](https://example.com)");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<code>code</code>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">docs</a>');
  });

  it("escapes raw HTML, so scripts and event handlers stay text", () => {
    const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror="alert(2)">');
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
  });

  it("does not link javascript: or data: addresses, nor show images", () => {
    for (const bad of ["[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))", "[x](data:text/html,hi)"]) {
      expect(renderMarkdown(bad)).not.toContain("<a");
    }
    expect(renderMarkdown("![pixel](https://tracker.example/p.png)")).not.toContain("<img");
  });
});
